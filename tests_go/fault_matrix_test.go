package tests_go

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// The fault matrix compares, for every fault the local server can inject and
// for 1 and 16 concurrent senders, the per-row results of SendBatch with the
// rows the server stored. `make test` runs it small; `make fault-matrix`
// runs it at full size and soaks (see the Makefile).
var (
	matrixRows = flag.Int("matrix.rows", 1600, "fault matrix: rows per cell (ids unique)")
	soakFor    = flag.Duration("soak", 3*time.Second, "random-fault soak duration")
)

// matrixTable is the table every cell writes (one server per cell).
const matrixTable = "main.default.matrix"

// faultCase is one row of the matrix: faults armed before the Wrapper is
// created, config tweaks, and whether an ack may be lost on the wire (a
// dropped connection), which is the only way a row whose message the server
// acknowledged can be stored twice.
type faultCase struct {
	name      string
	faults    []zerobuslocal.Fault
	cfg       func(*core.Config)
	ackLossOK bool
	// cancelAfter cancels every sender's ctx this long after the start.
	cancelAfter time.Duration
	// transport is Config.Transport ("" means the default, protobuf).
	transport string
	// flightOnly: the fault applies to Arrow Flight streams only.
	flightOnly bool
	// noDups: no row may be stored twice (every copy the server dropped
	// was unacknowledged and unstored, so a duplicate is a re-sent
	// acknowledged row).
	noDups bool
}

// faultCases lists every kind in core/zerobuslocal/faults.go (and the
// caller's cancellation) at triggers that hit requests in flight. every is
// the message count at which mid-stream faults fire.
func faultCases(every int) []faultCase {
	// twice arms a mid-stream fault for two RPCs in turn (a one-shot
	// fault fires once; the second copy waits for the next RPC).
	twice := func(f zerobuslocal.Fault) []zerobuslocal.Fault {
		f.AfterMessages = every
		return []zerobuslocal.Fault{f, f}
	}
	return []faultCase{
		{name: "none"},
		{name: "unavailable at create", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError}}},
		{name: "invalid_argument at create", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, Code: codes.InvalidArgument}}},
		{name: "unavailable mid-stream", faults: twice(zerobuslocal.Fault{Kind: zerobuslocal.FaultError})},
		{name: "invalid_argument mid-stream", faults: twice(zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.InvalidArgument})},
		{name: "end_stream", faults: twice(zerobuslocal.Fault{Kind: zerobuslocal.FaultEndStream})},
		{name: "drop_connection", faults: twice(zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection}), ackLossOK: true},
		{name: "stall_acks", faults: twice(zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks}), cfg: func(c *core.Config) {
			c.AckTimeout = 300 * time.Millisecond
		}},
		{name: "stall_acks, retries exhausted", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultStallAcks, Persistent: true}}, cfg: func(c *core.Config) {
			c.AckTimeout = 50 * time.Millisecond
			c.RetryMaxAttempts = 1
		}},
		{name: "close_signal", faults: twice(zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, CloseAfter: 20 * time.Millisecond, Persistent: true})},
		{name: "close_signal then unavailable", faults: twice(zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, Code: codes.Unavailable, CloseAfter: 15 * time.Millisecond, Persistent: true})},
		{name: "expire_token", faults: twice(zerobuslocal.Fault{Kind: zerobuslocal.FaultExpireToken})},
		{name: "token_error", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 503}}},
		{name: "token_latency", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultTokenLatency, Latency: 100 * time.Millisecond}}},
		{name: "caller cancels", cancelAfter: 40 * time.Millisecond},
		// A batch acknowledged for its first records only, then the RPC
		// ends: its prefix is durable and must not be sent again.
		{name: "partial_ack", faults: twice(zerobuslocal.Fault{Kind: zerobuslocal.FaultPartialAck, Records: 3, CloseAfter: 20 * time.Millisecond}), flightOnly: true, noDups: true},
		// The create response held back past create_timeout_ms: the
		// create is retried and nothing is sent on the abandoned one.
		{name: "create_delay", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultCreateDelay, Latency: 400 * time.Millisecond}}, cfg: func(c *core.Config) {
			c.CreateTimeout = 150 * time.Millisecond
		}, noDups: true},
	}
}

// cellStats is what one cell observed. Rows: durable + notWritten +
// unknown = rows.
type cellStats struct {
	rows, durable, notWritten, unknown int
	unknownStored                      int // unknown rows the server did store
	dups                               int // extra stored copies (at-least-once)
	resentAfterAck                     int // duplicates whose first copy's message the server acknowledged
	elapsed                            time.Duration
	violations                         []string
	faultsFired                        int64
}

func (s *cellStats) add(o cellStats) {
	s.rows += o.rows
	s.durable += o.durable
	s.notWritten += o.notWritten
	s.unknown += o.unknown
	s.unknownStored += o.unknownStored
	s.dups += o.dups
	s.resentAfterAck += o.resentAfterAck
	s.elapsed += o.elapsed
	s.violations = append(s.violations, o.violations...)
	s.faultsFired += o.faultsFired
}

// accountedFor is the share of rows whose outcome the results state for
// sure: durable and stored, or not written and not stored (unknown rows are
// reported as such, so they count as accounted for too when the invariant
// holds); violations make it drop below 100 %.
func (s *cellStats) accountedFor() float64 {
	if s.rows == 0 {
		return 100
	}
	return 100 * float64(s.rows-min(s.rows, len(s.violations))) / float64(s.rows)
}

// Row states in runCell's per-id table.
const (
	stNone int8 = iota
	stDurable
	stNotWritten
	stUnknown
)

// runCell sends rows unique ids from senders goroutines in batches of
// batchRows through one Wrapper against a fresh local server with fc's
// faults, then checks the results against the stored table.
func runCell(t testing.TB, fc faultCase, senders, rows, batchRows int) cellStats {
	t.Helper()
	start := time.Now()
	// Not startServer: its cleanup would keep every soak cell's server and
	// stored rows alive until the soak ends.
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{})
	if err != nil {
		t.Fatalf("zerobuslocal.Start: %v", err)
	}
	defer srv.Close()
	// Acks arrive a little later, so faults hit requests in flight.
	srv.SetAckPolicy(matrixTable, zerobuslocal.DelayedAcks(2*time.Millisecond, 3*time.Millisecond))
	for _, f := range fc.faults {
		srv.InjectFault(matrixTable, f)
	}
	cfg := serverConfig(srv, matrixTable)
	cfg.AckTimeout = 10 * time.Second
	cfg.CreateTimeout = 5 * time.Second
	if fc.cfg != nil {
		fc.cfg(&cfg)
	}
	if fc.transport != "" {
		cfg.Transport = fc.transport
	}
	w, err := core.New(context.Background(), cfg, core.WithRetryBackoff(noWait))
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if fc.cancelAfter > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, fc.cancelAfter)
		defer stop()
	}

	st := cellStats{rows: rows}
	state := make([]int8, rows)
	var mu sync.Mutex
	var wg sync.WaitGroup
	per := (rows + senders - 1) / senders
	for g := 0; g < senders; g++ {
		lo, hi := g*per, min(rows, (g+1)*per)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for first := lo; first < hi; first += batchRows {
				n := min(batchRows, hi-first)
				rec := eventBatch(memory.DefaultAllocator, int64(first), n)
				res, _ := w.SendBatch(ctx, rec)
				rec.Release()
				v := resultViolations(res, n)
				mu.Lock()
				st.violations = append(st.violations, v...)
				for _, i := range res.SuccessfulRows {
					state[first+i] = stDurable
				}
				for _, f := range res.FailedRows {
					if f.State == core.RowNotWritten {
						state[first+f.Index] = stNotWritten
					} else {
						state[first+f.Index] = stUnknown
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	closeCtx, closeCancel := context.WithTimeout(context.Background(), 30*time.Second)
	_ = w.Close(closeCtx)
	closeCancel()
	_ = srv.Close() // every message it received is stored or rejected now

	stored := storedRows(t, srv)
	for id, s := range state {
		n := stored.count[int64(id)]
		switch s {
		case stDurable:
			st.durable++
			if n == 0 {
				st.violations = append(st.violations, fmt.Sprintf("row %d reported durable but not stored", id))
			}
		case stNotWritten:
			st.notWritten++
			if n > 0 {
				st.violations = append(st.violations, fmt.Sprintf("row %d reported not written but stored %d time(s)", id, n))
			}
		case stUnknown:
			st.unknown++
			if n > 0 {
				st.unknownStored++
			}
		default:
			st.violations = append(st.violations, fmt.Sprintf("row %d has no result", id))
		}
		if n > 1 {
			st.dups += n - 1
		}
	}
	for id := range stored.count {
		if id < 0 || id >= int64(rows) {
			st.violations = append(st.violations, fmt.Sprintf("server stored row %d that was never sent", id))
		}
	}
	st.resentAfterAck = stored.resentAfterAck
	if fc.noDups && st.dups > 0 {
		st.violations = append(st.violations, fmt.Sprintf("%d duplicate copies stored where every dropped copy was unacknowledged and unstored", st.dups))
	}
	if st.resentAfterAck > 0 && !fc.ackLossOK {
		st.violations = append(st.violations, fmt.Sprintf("%d rows stored twice although the server had acknowledged their first copy", st.resentAfterAck))
	}
	stats := srv.Stats()
	st.faultsFired = stats.FaultsFired
	st.elapsed = time.Since(start)
	return st
}

// resultViolations checks one result's accounting.
func resultViolations(res *core.TransmissionResult, rows int) []string {
	var out []string
	if res == nil {
		return []string{"nil result"}
	}
	if res.TotalRows != rows || res.SuccessfulCount+res.NotWrittenCount+res.UnknownCount != rows ||
		res.FailedCount != res.NotWrittenCount+res.UnknownCount || len(res.FailedRows) != res.FailedCount ||
		len(res.SuccessfulRows) != res.SuccessfulCount {
		out = append(out, fmt.Sprintf("result accounting: total %d, durable %d, not written %d, unknown %d, failed %d (%d listed), want %d rows",
			res.TotalRows, res.SuccessfulCount, res.NotWrittenCount, res.UnknownCount, res.FailedCount, len(res.FailedRows), rows))
	}
	if nw, un := len(res.NotWrittenRowIndices()), len(res.UnknownRowIndices()); nw != res.NotWrittenCount || un != res.UnknownCount {
		out = append(out, fmt.Sprintf("index helpers: %d not written, %d unknown; counts %d, %d", nw, un, res.NotWrittenCount, res.UnknownCount))
	}
	return out
}

// storedSummary is what the server stored: copies per id, and how many
// extra copies were re-sent although the server had acknowledged the
// message holding the first copy (per its ack_sent events).
type storedSummary struct {
	count          map[int64]int
	resentAfterAck int
}

func storedRows(t testing.TB, srv *zerobuslocal.Server) storedSummary {
	t.Helper()
	acked := map[string]int64{}
	for _, ev := range srv.Events() {
		if ev.Kind == zerobuslocal.EventAckSent {
			if off, ok := acked[ev.StreamID]; !ok || ev.Offset > off {
				acked[ev.StreamID] = ev.Offset
			}
		}
	}
	rows := srv.Rows(matrixTable)
	out := storedSummary{count: make(map[int64]int, len(rows))}
	firstAcked := make(map[int64]bool, len(rows))
	for _, r := range rows { // arrival order
		v, ok := field(r.Message, "id")
		if !ok {
			t.Fatalf("stored row without id: %v", r.Message)
		}
		id := v.Int()
		if out.count[id] == 0 {
			off, ok := acked[r.StreamID]
			firstAcked[id] = ok && r.Offset <= off
		} else if firstAcked[id] {
			out.resentAfterAck++
		}
		out.count[id]++
	}
	return out
}

// matrixLine formats one cell as a Markdown table row.
func matrixLine(name string, senders int, s cellStats) string {
	return fmt.Sprintf("| %s | %d | %d | %d | %d | %d (%d stored) | %d | %d | %.1f s |", name, senders, s.rows, s.durable,
		s.notWritten, s.unknown, s.unknownStored, s.dups, s.resentAfterAck, s.elapsed.Seconds())
}

const matrixHeader = "| fault | senders | rows | durable | not written | unknown (stored) | duplicates | dup. after ack | time |\n|---|---|---|---|---|---|---|---|---|"

// TestFaultMatrix: every fault × 1 and 16 senders. For every cell: each
// row has exactly one outcome, every durable row is stored, no
// not-written row is stored, nothing unknown to the client is stored, and a
// row is stored twice only if the client could not know its first copy
// landed (no ack was sent for it, or the connection carrying the ack was
// dropped).
func TestFaultMatrix(t *testing.T) {
	rows := *matrixRows
	batchRows := max(10, rows/100)
	var lines []string
	for _, fc := range faultCases(8) {
		for _, cell := range matrixCells() {
			if fc.flightOnly && cell.transport != core.TransportArrowFlight {
				continue
			}
			fc, senders := fc, cell.senders
			fc.transport = cell.transport
			t.Run(fmt.Sprintf("%s/%s/senders=%d", cell.transport, strings.ReplaceAll(fc.name, " ", "_"), senders), func(t *testing.T) {
				base := runtime.NumGoroutine()
				st := runCell(t, fc, senders, rows, batchRows)
				for i, v := range st.violations {
					if i == 20 {
						t.Errorf("… %d more", len(st.violations)-20)
						break
					}
					t.Error(v)
				}
				if len(fc.faults) > 0 && st.faultsFired == 0 {
					t.Errorf("no fault fired: the cell tests nothing")
				}
				if fc.name == "none" && st.durable != rows {
					t.Errorf("durable rows without faults: got %d, want %d", st.durable, rows)
				}
				lines = append(lines, matrixLine(fc.transport+": "+fc.name, senders, st))
				checkGoroutines(t, base)
			})
		}
	}
	t.Logf("fault matrix, %d rows per cell, %d-row batches:\n%s\n%s", rows, batchRows, matrixHeader, strings.Join(lines, "\n"))
}

// matrixCells are the transports and sender counts of every fault: the
// Arrow Flight transport must hold the same invariants as protobuf.
func matrixCells() []struct {
	transport string
	senders   int
} {
	var out []struct {
		transport string
		senders   int
	}
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		for _, n := range []int{1, 16} {
			out = append(out, struct {
				transport string
				senders   int
			}{tr, n})
		}
	}
	return out
}

// TestFaultSoak runs random cells (a random fault, 1 to 16 senders, random
// sizes) until -soak has passed, then reports the share of rows accounted
// for, duplicates, and goroutines and RSS at the start, the peak and the end.
func TestFaultSoak(t *testing.T) {
	cases := faultCases(8)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 16))
	runtime.GC()
	baseG, baseRSS := runtime.NumGoroutine(), rssBytes()
	peakG, peakRSS := baseG, baseRSS
	var total cellStats
	cells := 0
	deadline := time.Now().Add(*soakFor)
	lastLog := time.Now()
	for cells == 0 || time.Now().Before(deadline) {
		fc := cases[rng.IntN(len(cases))]
		if rng.IntN(2) == 1 || fc.flightOnly {
			fc.transport = core.TransportArrowFlight
		}
		senders := 1 + rng.IntN(16)
		rows := 500 + rng.IntN(max(1, *matrixRows))
		st := runCell(t, fc, senders, rows, 10+rng.IntN(400))
		for _, v := range st.violations {
			t.Errorf("%s (%s), %d senders: %s", fc.name, fc.transport, senders, v)
		}
		total.add(st)
		cells++
		peakG = max(peakG, runtime.NumGoroutine())
		peakRSS = max(peakRSS, rssBytes())
		if t.Failed() {
			break
		}
		if time.Since(lastLog) > time.Minute {
			lastLog = time.Now()
			t.Logf("soak: %d cells, %d rows, %d violations, goroutines %d, RSS %s", cells, total.rows, len(total.violations), runtime.NumGoroutine(), mib(rssBytes()))
		}
	}
	checkGoroutines(t, baseG)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	endG, endRSS := runtime.NumGoroutine(), rssBytes()
	t.Logf("soak %v: %d cells, %d rows: %d durable, %d not written, %d unknown (%d of them stored); accounted for %.4f %%; "+
		"%d duplicate copies (%d after an ack lost with a dropped connection); %d faults fired; goroutines %d → peak %d → %d; RSS %s → peak %s → %s (Go heap in use after GC: %s; the process also runs the local server)",
		*soakFor, cells, total.rows, total.durable, total.notWritten, total.unknown, total.unknownStored, total.accountedFor(),
		total.dups, total.resentAfterAck, total.faultsFired, baseG, peakG, endG, mib(baseRSS), mib(peakRSS), mib(endRSS), mib(int64(ms.HeapInuse)))
	if endRSS > 0 && baseRSS > 0 && endRSS > baseRSS+512<<20 {
		t.Errorf("RSS grew from %s to %s over the soak", mib(baseRSS), mib(endRSS))
	}
}

// rssBytes is the process's resident set size from /proc (0 where there is
// no /proc).
func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return kb << 10
				}
			}
		}
	}
	return 0
}

func mib(b int64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

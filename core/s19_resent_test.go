package core_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Session 19 (resent): rows re-sent after a stream recovery are counted in
// TransmissionResult.Recoveries / ResentRows (and zerobus.rows.resent), so
// a caller can tell that a send may have stored duplicates.

// storedByRequest counts what srv stored for table: rows in all, rows per
// request (stream id, wire offset), and how many times each id was stored.
type storedRows struct {
	total   int
	perReq  map[string]int
	ids     map[int64]int
	minSize int // smallest stored record, bytes
}

func storedOf(t *testing.T, srv *zerobuslocal.Server, table string) storedRows {
	t.Helper()
	out := storedRows{perReq: map[string]int{}, ids: map[int64]int{}, minSize: 1 << 30}
	for _, r := range srv.Rows(table) {
		out.total++
		out.perReq[fmt.Sprintf("%s@%d", r.StreamID, r.Offset)]++
		out.ids[r.Message.Get(r.Message.Descriptor().Fields().ByName("id")).Int()]++
		out.minSize = min(out.minSize, len(r.Raw))
	}
	return out
}

// checkNoResent: a send without a fault re-sends nothing and says nothing
// about it.
func checkNoResent(t *testing.T, res *core.TransmissionResult) {
	t.Helper()
	if res.Recoveries != 0 || res.ResentRows != 0 {
		t.Errorf("no fault: Recoveries %d, ResentRows %d; want 0, 0", res.Recoveries, res.ResentRows)
	}
	if s := res.String(); strings.Contains(s, "re-sent") || strings.Contains(s, "recover") {
		t.Errorf("no fault: String() = %q mentions a recovery", s)
	}
}

// TestResentRowsExactAfterStalledDrop: acks stop after the 3rd request and
// the connection drops at the 6th, with at most 3 requests in flight:
// requests 4-6 are certainly stored and unacknowledged when the stream
// fails, nothing after them is written, and the recovery writes exactly
// them again. ResentRows is then exactly the rows stored twice, and those
// are the rows of the first stream's requests 4-6.
func TestResentRowsExactAfterStalledDrop(t *testing.T) {
	srv := localServer(t)
	h := newHarness(t)
	const rows = 20_000
	rec := flightArenaBatch(memory.DefaultAllocator, 0, rows)
	defer rec.Release()
	const table = "main.default.resent_exact"
	cfg := localConfig(srv, table)
	cfg.MaxMessageBytes = 64 << 10
	cfg.MaxInflightRequests = 3
	cfg.AckTimeout = time.Minute // never the cause: the faults end the RPC
	// A send without a fault first (to a table of its own: the faults
	// below fire on the next stream of their table, whoever opens it).
	ccfg := cfg
	ccfg.TableName = "main.default.resent_clean"
	cw := h.wrapper(t, ccfg)
	clean := flightArenaBatch(memory.DefaultAllocator, 0, 1000)
	res, err := cw.SendBatch(context.Background(), clean)
	clean.Release()
	if err != nil || res.SuccessfulCount != 1000 {
		t.Fatalf("clean send: %v", err)
	}
	checkNoResent(t, res)
	closeWrapper(t, cw)

	if err := srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 3}); err != nil {
		t.Fatal(err)
	}
	if err := srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 6}); err != nil {
		t.Fatal(err)
	}
	w := h.wrapper(t, cfg)
	res, err = w.SendBatch(context.Background(), rec)
	closeWrapper(t, w)
	if err != nil || res.SuccessfulCount != rows {
		t.Fatalf("SendBatch: %v (%v)", err, res)
	}
	st := storedOf(t, srv, table)
	dups := st.total - rows
	if dups <= 0 {
		t.Fatalf("stored %d rows for %d sent: the fault made no duplicates", st.total, rows)
	}
	if res.Recoveries != 1 || res.Attempts != 2 {
		t.Errorf("Recoveries %d, Attempts %d; want 1, 2", res.Recoveries, res.Attempts)
	}
	if res.ResentRows != dups {
		t.Errorf("ResentRows %d, want the %d rows stored twice", res.ResentRows, dups)
	}
	// The rows stored twice are the rows of three requests.
	twice := 0
	for id, n := range st.ids {
		switch {
		case n == 2:
			twice++
		case n != 1:
			t.Fatalf("row %d stored %d times", id, n)
		}
	}
	if twice != dups {
		t.Errorf("%d ids stored twice, %d rows more than sent", twice, dups)
	}
	want := fmt.Sprintf("2 attempts, 1 stream recovery, up to %d rows re-sent (possible duplicates)", dups)
	if s := res.String(); !strings.Contains(s, want) {
		t.Errorf("String() = %q, want it to contain %q", s, want)
	}
	if s := fmt.Sprintf("%+v", res); !strings.Contains(s, want) {
		t.Errorf("%%+v = %q, want it to contain %q", s, want)
	}
	if got := sumInt(h.collect(t), "zerobus.rows.resent"); got != int64(dups) {
		t.Errorf("zerobus.rows.resent = %d, want %d", got, dups)
	}
}

// TestResentRowsBoundAfterDrop is review M4's case: the connection drops
// after the 5th stored request, whose acks the server holds back, so
// requests are in flight when it drops. Whatever the timing, the rows
// stored twice are at most ResentRows, and ResentRows at most the rows that
// can be in flight (MaxInflightRequests requests of at most the rows one
// request holds).
func TestResentRowsBoundAfterDrop(t *testing.T) {
	srv := localServer(t)
	const rows, window, limit = 30_000, 6, 48 << 10
	rec := flightArenaBatch(memory.DefaultAllocator, 0, rows)
	defer rec.Release()
	const table = "main.default.resent_drop"
	srv.SetAckPolicy(table, zerobuslocal.AckPolicy{Delay: 50 * time.Millisecond})
	if err := srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 5}); err != nil {
		t.Fatal(err)
	}
	w := newWrapper(t, srv, table, func(c *core.Config) {
		c.MaxMessageBytes = limit
		c.MaxInflightRequests = window
		c.AckTimeout = time.Minute
	})
	res, err := w.SendBatch(context.Background(), rec)
	if err != nil || res.SuccessfulCount != rows {
		t.Fatalf("SendBatch: %v (%v)", err, res)
	}
	st := storedOf(t, srv, table)
	if res.Recoveries != 1 {
		t.Errorf("Recoveries %d, want 1 (one drop)", res.Recoveries)
	}
	dups := st.total - rows
	if dups <= 0 {
		t.Fatalf("stored %d rows for %d: the request stored at the drop, not yet acknowledged, was not re-sent", st.total, rows)
	}
	if res.ResentRows < dups {
		t.Errorf("ResentRows %d < %d rows stored twice", res.ResentRows, dups)
	}
	// A request holds at most this many records of the smallest size.
	framed := st.minSize + 1 + protowire.SizeVarint(uint64(st.minSize))
	perReq := (limit-64)/framed + 1
	maxReq := 0
	for _, n := range st.perReq {
		maxReq = max(maxReq, n)
	}
	if maxReq > perReq {
		t.Fatalf("a request stored %d rows, more than the bound %d", maxReq, perReq)
	}
	if res.ResentRows > window*maxReq {
		t.Errorf("ResentRows %d > %d: more than %d requests of at most %d rows (the window) re-sent", res.ResentRows, window*maxReq, window, maxReq)
	}
}

// TestResentRowsFlightSuffix: over arrow_flight the server acknowledges the
// first 100 rows of the third batch, drops the rest of it and ends the
// stream; the client replays that batch's 900-row suffix on a new stream.
// Nothing was stored twice (the server dropped the suffix), but the client
// cannot know: ResentRows is the 900 rows written again, Recoveries 1, and
// the batches before are untouched.
func TestResentRowsFlightSuffix(t *testing.T) {
	srv := localServer(t)
	const table = "main.default.resent_flight"
	if err := srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultPartialAck, AfterMessages: 2, Records: 100, CloseAfter: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	w := newWrapper(t, srv, table, func(c *core.Config) {
		c.Transport = core.TransportArrowFlight
		c.AckTimeout = time.Minute
	})
	ctx := context.Background()
	send := func(from, n int) *core.TransmissionResult {
		t.Helper()
		b := flightArenaBatch(memory.DefaultAllocator, from, n)
		defer b.Release()
		res, err := w.SendBatch(ctx, b)
		if err != nil || res.SuccessfulCount != n {
			t.Fatalf("SendBatch of rows %d..%d: %v (%v)", from, from+n, err, res)
		}
		return res
	}
	checkNoResent(t, send(500, 500))
	checkNoResent(t, send(1000, 500))
	res := send(1500, 1000)
	if res.Recoveries != 1 || res.ResentRows != 900 || res.Attempts != 2 {
		t.Errorf("Recoveries %d, ResentRows %d, Attempts %d; want 1, 900, 2", res.Recoveries, res.ResentRows, res.Attempts)
	}
	closeWrapper(t, w)
	stored, err := srv.ArrowBatch(table, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stored.Release()
	if stored.NumRows() != 2000 {
		t.Errorf("stored %d rows, want 2000 (the replay stores the dropped suffix once)", stored.NumRows())
	}
}

// TestResentRowsFlightDrop: over arrow_flight, a dropped connection with
// batches stored and not acknowledged: one recovery, and the rows stored
// twice are at most ResentRows, itself at most the rows sent.
func TestResentRowsFlightDrop(t *testing.T) {
	srv := localServer(t)
	const table = "main.default.resent_flight_drop"
	const rows = 30_000
	srv.SetAckPolicy(table, zerobuslocal.AckPolicy{Delay: 50 * time.Millisecond})
	if err := srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 3}); err != nil {
		t.Fatal(err)
	}
	w := newWrapper(t, srv, table, func(c *core.Config) {
		c.Transport = core.TransportArrowFlight
		c.MaxMessageBytes = 256 << 10
		c.AckTimeout = time.Minute
	})
	rec := flightArenaBatch(memory.DefaultAllocator, 0, rows)
	defer rec.Release()
	res, err := w.SendBatch(context.Background(), rec)
	if err != nil || res.SuccessfulCount != rows {
		t.Fatalf("SendBatch: %v (%v)", err, res)
	}
	closeWrapper(t, w)
	stored, err := srv.ArrowBatch(table, nil)
	if err != nil {
		t.Fatal(err)
	}
	dups := int(stored.NumRows()) - rows
	stored.Release()
	if res.Recoveries != 1 {
		t.Errorf("Recoveries %d, want 1 (one drop)", res.Recoveries)
	}
	if dups <= 0 || res.ResentRows < dups || res.ResentRows > rows {
		t.Errorf("ResentRows %d, %d rows stored twice: want 0 < stored twice <= ResentRows <= %d", res.ResentRows, dups, rows)
	}
}

package core_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Session 20 (noresend): once a call has returned (a timeout or cancel
// left its rows unknown or not written), its stream never writes its
// requests again: a later recovery drops them instead of re-sending them.
// So the rows of a call are stored at most 1 + (its ResentRows) times, and
// ResentRows bounds the duplicates alone.

var noResendTransports = []string{core.TransportProtobuf, core.TransportArrowFlight}

// storedByID returns, for every id stored in table, how many times it was
// stored and the requests (stream id @ wire offset) that carried it. Each
// stored row's text is checked against its id (flightArenaBatch's), so a
// request written from buffers already given back would show.
func storedByID(t *testing.T, srv *zerobuslocal.Server, table string) (count map[int64]int, reqs map[int64][]string) {
	t.Helper()
	rows := srv.Rows(table)
	rec, err := srv.ArrowBatch(table, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if int(rec.NumRows()) != len(rows) {
		t.Fatalf("ArrowBatch has %d rows, Rows %d", rec.NumRows(), len(rows))
	}
	ids := rec.Column(0).(*array.Int64)
	texts := rec.Column(1).(interface{ Value(int) string })
	count, reqs = map[int64]int{}, map[int64][]string{}
	for i := range ids.Len() {
		id := ids.Value(i)
		if got, want := texts.Value(i), fmt.Sprintf("row %d with some text to make it a few dozen bytes", id); got != want {
			t.Fatalf("stored row %d (id %d): %q, want %q", i, id, got, want)
		}
		count[id]++
		reqs[id] = append(reqs[id], fmt.Sprintf("%s@%d", rows[i].StreamID, rows[i].Offset))
	}
	return count, reqs
}

// cancelWhen cancels the returned context once the server has recorded an
// event for which match (called in order, on one goroutine) returns true,
// or after a minute.
func cancelWhen(t *testing.T, srv *zerobuslocal.Server, table string, match func(zerobuslocal.Event) bool) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		defer cancel()
		wctx, wcancel := context.WithTimeout(ctx, time.Minute)
		defer wcancel()
		_, _ = srv.WaitFor(wctx, func(ev zerobuslocal.Event) bool { return ev.Table == table && match(ev) })
	}()
	return ctx
}

// TestNoResendAfterGiveUp: the table's first RPC stores every request and
// acknowledges none, and its connection drops once it has stored a window
// (MaxInflightRequests) of them. Call 1 (a few requests) gives up once the
// server has stored all its rows: they are unknown, written once. Call 2
// fills the rest of the window on the same RPC, the connection drops, and
// the recovery re-sends call 2's requests only. So the server stores call
// 1's rows once each (the rows that landed on its first send) and call 2's
// rows once plus its ResentRows: stored = n2 + n1 + ResentRows(call 2), and
// the rows of call 2 stored twice are exactly its ResentRows.
func TestNoResendAfterGiveUp(t *testing.T) {
	for _, transport := range noResendTransports {
		t.Run(transport, func(t *testing.T) { testNoResendAfterGiveUp(t, transport) })
	}
}

func testNoResendAfterGiveUp(t *testing.T, transport string) {
	srv := localServer(t)
	table := "main.default.s20_noresend_" + transport
	const window, n1, n2 = 8, 300, 3000
	for _, f := range []zerobuslocal.Fault{
		{Kind: zerobuslocal.FaultStallAcks},
		{Kind: zerobuslocal.FaultDropConnection, AfterMessages: window},
	} {
		if err := srv.InjectFault(table, f); err != nil {
			t.Fatal(err)
		}
	}
	w := newWrapper(t, srv, table, func(c *core.Config) {
		c.Transport = transport
		c.StreamsPerSchema = 1 // both calls on the one stream
		c.MaxInflightRequests = window
		c.MaxMessageBytes = 8 << 10
		c.AckTimeout = time.Minute // never the cause: the drop ends RPC 1
	})

	rec1 := flightArenaBatch(memory.DefaultAllocator, 0, n1)
	defer rec1.Release()
	stored := 0
	ctx1 := cancelWhen(t, srv, table, func(ev zerobuslocal.Event) bool {
		if ev.Kind == zerobuslocal.EventMessageStored {
			stored += ev.Records
		}
		return stored >= n1
	})
	res1, _ := w.SendBatch(ctx1, rec1)
	if res1.UnknownCount != n1 || res1.Attempts != 1 || res1.Recoveries != 0 || res1.ResentRows != 0 {
		t.Fatalf("call 1: unknown %d (want %d), Attempts %d, Recoveries %d, ResentRows %d (want 1, 0, 0): %v",
			res1.UnknownCount, n1, res1.Attempts, res1.Recoveries, res1.ResentRows, res1)
	}
	_, reqs1 := storedByID(t, srv, table)
	seen := map[string]bool{}
	for _, rs := range reqs1 {
		for _, r := range rs {
			seen[r] = true
		}
	}
	if k1 := len(seen); k1 >= window {
		t.Fatalf("call 1 took %d requests, want fewer than the window (%d): the test needs room for call 2 on RPC 1", k1, window)
	}

	rec2 := flightArenaBatch(memory.DefaultAllocator, 1_000_000, n2)
	defer rec2.Release()
	res2, err := w.SendBatch(context.Background(), rec2)
	if err != nil || res2.SuccessfulCount != n2 {
		t.Fatalf("call 2: %v (%v)", err, res2)
	}
	closeWrapper(t, w)

	count, reqs := storedByID(t, srv, table)
	total, twice2 := 0, 0
	var again1 []int64 // rows of call 1 stored more than once
	for id, n := range count {
		total += n
		switch {
		case id < n1:
			if n != 1 {
				again1 = append(again1, id)
			}
		case id >= 1_000_000 && id < 1_000_000+n2:
			if n == 2 {
				twice2++
			} else if n != 1 {
				t.Errorf("row %d of call 2 stored %d times", id, n)
			}
		default:
			t.Errorf("stored id %d was never sent", id)
		}
	}
	if len(again1) > 0 {
		slices.Sort(again1)
		t.Errorf("%d rows of call 1 (given up) stored more than once, e.g. row %d by requests %v: re-sent after the call returned",
			len(again1), again1[0], reqs[again1[0]])
	}
	for id := range int64(n1) {
		if count[id] == 0 {
			t.Errorf("row %d of call 1 not stored: the server stored it before the call gave up", id)
		}
	}
	if len(count) != n1+n2 {
		t.Errorf("stored %d distinct ids, want %d", len(count), n1+n2)
	}
	if res2.Recoveries != 1 || res2.Attempts != 2 || res2.ResentRows == 0 {
		t.Errorf("call 2: Recoveries %d, Attempts %d, ResentRows %d; want 1, 2, > 0", res2.Recoveries, res2.Attempts, res2.ResentRows)
	}
	if twice2 != res2.ResentRows {
		t.Errorf("call 2: %d rows stored twice, ResentRows %d: want equal (its own re-sends only)", twice2, res2.ResentRows)
	}
	if want := n2 + n1 + res2.ResentRows; total != want {
		t.Errorf("stored %d rows, want %d = call 2's %d + call 1's %d (once) + call 2's ResentRows %d", total, want, n2, n1, res2.ResentRows)
	}
}

// TestNoResendCancelBetweenRPCs: call A's request is acknowledged on the
// table's first RPC; then acks stall and the connection drops when call
// B's first request is stored, and every new stream is refused until the
// test clears the fault. Call B is cancelled while its stream is between
// RPCs: the requests RPC 1 carried are unknown and, queued for a re-send,
// dropped at once; those no RPC carried (if RPC 1 did not take them all
// before it dropped) are withdrawn, not written, and none of them is
// stored. The server stores B's rows once at most: exactly the one request
// RPC 1 stored. Call C, once the stream can open again, goes through
// without re-sending anything of B's.
func TestNoResendCancelBetweenRPCs(t *testing.T) {
	for _, transport := range noResendTransports {
		t.Run(transport, func(t *testing.T) { testNoResendCancelBetweenRPCs(t, transport) })
	}
}

func testNoResendCancelBetweenRPCs(t *testing.T, transport string) {
	srv := localServer(t)
	table := "main.default.s20_noresend_between_" + transport
	const nA, nB, nC = 20, 20_000, 1000 // A: one request
	const fromB, fromC = 10_000, 100_000
	for _, f := range []zerobuslocal.Fault{
		{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 1},
		{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 2},
	} {
		if err := srv.InjectFault(table, f); err != nil {
			t.Fatal(err)
		}
	}
	w := newWrapper(t, srv, table, func(c *core.Config) {
		c.Transport = transport
		c.StreamsPerSchema = 1
		c.MaxMessageBytes = 4 << 10
		c.AckTimeout = time.Minute
		retryUntilCleared(c)
	})
	send := idSender(t, w)
	if res := send(context.Background(), 0, nA); res.SuccessfulCount != nA || res.Attempts != 1 || len(srv.Rows(table)) != nA {
		t.Fatalf("call A: %v; want its %d rows stored and acknowledged on the first RPC", res, nA)
	}
	if _, reqs := storedByID(t, srv, table); len(reqs[0]) != 1 || len(reqs[nA-1]) != 1 || reqs[0][0] != reqs[nA-1][0] {
		t.Fatalf("call A: requests %v, %v; want one", reqs[0], reqs[nA-1])
	}
	// RPC 1 is open: every stream created from now on is refused.
	if err := srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Persistent: true}); err != nil {
		t.Fatal(err)
	}
	refused := 0
	ctxB := cancelWhen(t, srv, table, func(ev zerobuslocal.Event) bool {
		if ev.Kind == zerobuslocal.EventFaultFired && ev.Fault == zerobuslocal.FaultError {
			refused++
		}
		return refused >= 2 // the stream is between RPCs, retrying
	})
	resB := send(ctxB, fromB, nB)
	srv.ClearFaults(table)
	resC := send(context.Background(), fromC, nC)
	if resC.SuccessfulCount != nC || resC.ResentRows != 0 || resC.Attempts != 1 {
		t.Fatalf("call C: successful %d, ResentRows %d, Attempts %d; want %d, 0, 1 (%v)", resC.SuccessfulCount, resC.ResentRows, resC.Attempts, nC, resC)
	}
	closeWrapper(t, w)

	if resB.SuccessfulCount != 0 || resB.UnknownCount == 0 || resB.NotWrittenCount+resB.UnknownCount != nB {
		t.Fatalf("call B: successful %d, not written %d, unknown %d; want 0, any, > 0 adding up to %d (%v)",
			resB.SuccessfulCount, resB.NotWrittenCount, resB.UnknownCount, nB, resB)
	}
	if resB.Attempts != 1 || resB.ResentRows != 0 || resB.Recoveries != 0 {
		t.Errorf("call B: Attempts %d, ResentRows %d, Recoveries %d; want 1, 0, 0", resB.Attempts, resB.ResentRows, resB.Recoveries)
	}
	unknown := resB.UnknownRowIndices()
	notWritten := resB.NotWrittenRowIndices()
	count, reqs := storedByID(t, srv, table)
	storedB, reqsB := 0, map[string]bool{}
	total := 0
	var notWrittenStored, againB []int // rows of call B
	for id, n := range count {
		total += n
		switch {
		case id < nA, id >= fromC && id < fromC+nC:
			if n != 1 {
				t.Errorf("row %d stored %d times, want 1", id, n)
			}
		case id >= fromB && id < fromB+nB:
			row := int(id - fromB)
			if _, ok := slices.BinarySearch(notWritten, row); ok {
				notWrittenStored = append(notWrittenStored, row)
			} else if _, ok := slices.BinarySearch(unknown, row); !ok {
				t.Errorf("row %d of call B stored, but reported neither unknown nor not written", row)
			}
			if n != 1 {
				againB = append(againB, row)
			}
			storedB += n
			for _, r := range reqs[id] {
				reqsB[r] = true
			}
		default:
			t.Errorf("stored id %d was never sent", id)
		}
	}
	if len(notWrittenStored) > 0 {
		slices.Sort(notWrittenStored)
		t.Errorf("%d rows of call B reported not written were stored, e.g. row %d", len(notWrittenStored), notWrittenStored[0])
	}
	if len(againB) > 0 {
		slices.Sort(againB)
		t.Errorf("%d rows of call B (unknown) stored more than once, e.g. row %d by requests %v: re-sent after the call returned",
			len(againB), againB[0], reqs[int64(fromB+againB[0])])
	}
	if len(reqsB) != 1 || storedB == 0 {
		t.Errorf("call B: %d rows stored by requests %v; want the one request RPC 1 stored before the drop", storedB, reqsB)
	}
	if want := nA + nC + storedB; total != want {
		t.Errorf("stored %d rows, want %d (A %d + C %d + B's %d that landed on the first send)", total, want, nA, nC, storedB)
	}
}

// logSignal is a slog.Handler that closes seen once a record whose message
// contains want is logged.
type logSignal struct {
	want string
	seen chan struct{}
	once *sync.Once
}

func newLogSignal(want string) logSignal {
	return logSignal{want: want, seen: make(chan struct{}), once: &sync.Once{}}
}

func (h logSignal) Enabled(context.Context, slog.Level) bool { return true }
func (h logSignal) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.want) {
		h.once.Do(func() { close(h.seen) })
	}
	return nil
}
func (h logSignal) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h logSignal) WithGroup(string) slog.Handler      { return h }

// TestNoResendCancelBeforeWritten: call A's request is acknowledged on the
// table's first RPC, then the server announces the RPC's end and the
// client, with nothing in flight, leaves it at once (its log says so);
// every new stream is refused until the test clears the fault. Call B is
// queued on the stream with no RPC to carry it and cancelled: every row
// comes back not written (withdrawn, Attempts 0) and the server stores
// none of them, neither then nor once call C has opened the stream again.
func TestNoResendCancelBeforeWritten(t *testing.T) {
	for _, transport := range noResendTransports {
		t.Run(transport, func(t *testing.T) { testNoResendCancelBeforeWritten(t, transport) })
	}
}

func testNoResendCancelBeforeWritten(t *testing.T, transport string) {
	srv := localServer(t)
	table := "main.default.s20_noresend_cancel_" + transport
	const nA, nB, nC = 20, 20_000, 1000 // A: one request
	const fromB, fromC = 10_000, 100_000
	if err := srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, AfterMessages: 1, CloseAfter: time.Minute}); err != nil {
		t.Fatal(err)
	}
	left := newLogSignal("moving to a new RPC") // Supervise's Rotating text, both transports
	cfg := localConfig(srv, table)
	cfg.Transport = transport
	cfg.StreamsPerSchema = 1
	cfg.MaxMessageBytes = 4 << 10
	retryUntilCleared(&cfg)
	w, err := core.New(context.Background(), cfg, core.WithLogger(slog.New(left)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeWrapper(t, w) })
	send := idSender(t, w)
	if res := send(context.Background(), 0, nA); res.SuccessfulCount != nA || res.Attempts != 1 {
		t.Fatalf("call A: %v", res)
	}
	wctx, wcancel := context.WithTimeout(context.Background(), time.Minute)
	defer wcancel()
	select {
	case <-left.seen: // the stream has left RPC 1: no RPC until the next send opens one
	case <-wctx.Done():
		t.Fatal("the client did not leave the RPC the server announced the end of")
	}
	if err := srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Persistent: true}); err != nil {
		t.Fatal(err)
	}
	refused := 0
	ctxB := cancelWhen(t, srv, table, func(ev zerobuslocal.Event) bool {
		if ev.Kind == zerobuslocal.EventFaultFired && ev.Fault == zerobuslocal.FaultError {
			refused++
		}
		return refused >= 2 // B is queued; its stream retries the creation
	})
	resB := send(ctxB, fromB, nB)
	srv.ClearFaults(table)
	resC := send(context.Background(), fromC, nC)
	if resC.SuccessfulCount != nC {
		t.Fatalf("call C: %v", resC)
	}
	closeWrapper(t, w)

	if resB.NotWrittenCount != nB || resB.UnknownCount != 0 || resB.Attempts != 0 || resB.ResentRows != 0 {
		t.Errorf("call B: not written %d, unknown %d, Attempts %d, ResentRows %d; want %d, 0, 0, 0 (%v)",
			resB.NotWrittenCount, resB.UnknownCount, resB.Attempts, resB.ResentRows, nB, resB)
	}
	count, reqs := storedByID(t, srv, table)
	total := 0
	for id, n := range count {
		total += n
		switch {
		case id >= fromB && id < fromB+nB:
			t.Fatalf("row %d of call B (not written) stored %d times by %v", id-fromB, n, reqs[id])
		case id < nA, id >= fromC && id < fromC+nC:
			if n != 1 {
				t.Errorf("row %d stored %d times, want 1", id, n)
			}
		default:
			t.Errorf("stored id %d was never sent", id)
		}
	}
	if total != nA+nC {
		t.Errorf("stored %d rows, want %d (A and C once each)", total, nA+nC)
	}
}

// idSender returns a function that sends rows [from, from+n) of
// flightArenaBatch through w and returns the result.
func idSender(t *testing.T, w *core.Wrapper) func(ctx context.Context, from, n int) *core.TransmissionResult {
	return func(ctx context.Context, from, n int) *core.TransmissionResult {
		t.Helper()
		rec := flightArenaBatch(memory.DefaultAllocator, from, n)
		defer rec.Release()
		res, _ := w.SendBatch(ctx, rec)
		return res
	}
}

// retryUntilCleared makes c retry opening a stream quickly and without end,
// until the test clears the fault that refuses it.
func retryUntilCleared(c *core.Config) {
	c.RetryMaxAttempts = 1 << 20
	c.RetryBaseDelay = 5 * time.Millisecond
	c.RetryMaxDelay = 20 * time.Millisecond
}

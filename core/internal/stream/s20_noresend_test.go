package stream

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Session 20 (noresend): a request whose caller gave up on it (GiveUp)
// after an RPC carried it is never written again: the stream drops it at
// its next recovery instead of re-sending it, frees its window share and
// its buffers once, and its Attempts and Resent stay what they were.

// waitStored waits until the server has stored n messages of testTable.
func waitStored(t *testing.T, e *env, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.srv.WaitForCount(ctx, n, func(ev zerobuslocal.Event) bool {
		return ev.Kind == zerobuslocal.EventMessageStored && ev.Table == testTable
	}); err != nil {
		t.Fatalf("the server did not store %d messages: %v", n, err)
	}
}

// TestGiveUpDropsAtRecovery: RPC 1 stores every message and acknowledges
// none, and drops its connection at the third. Two framed requests are
// written on it and given up on; a third request then ends RPC 1. The
// recovery re-sends the third only: the two given up are resolved with
// ErrAbandoned (written once, never again), their holders released exactly
// once (no misuse), their Resolved callbacks called once, the window empty,
// and the server stores their rows once and the third's twice, with wire
// offsets 0, 1, … on each RPC.
func TestGiveUpDropsAtRecovery(t *testing.T) {
	e, c := faultedClient(t, []zerobuslocal.Fault{
		{Kind: zerobuslocal.FaultStallAcks},
		{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 3},
	}, nil)
	s := e.open(c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var (
		resolved [2]atomic.Int32
		holds    [2]*poisonHold
		given    [2]*Pending
	)
	for i := range given {
		f, h := framed(rowsBatch(10*i, 3), 1)
		f.Resolved = func() { resolved[i].Add(1) }
		p, err := s.SendFramed(ctx, f)
		if err != nil {
			t.Fatalf("SendFramed %d: %v", i, err)
		}
		h.Release() // the caller's reference: the stream holds its own
		holds[i], given[i] = h, p
	}
	waitStored(t, e, 2)
	for i, p := range given {
		if s.GiveUp(p) {
			t.Fatalf("GiveUp of written request %d: withdrawn (it may be stored)", i)
		}
		if !p.Abandoned() {
			t.Fatalf("request %d: not marked abandoned", i)
		}
		if isResolved(p) {
			t.Fatalf("request %d: resolved while its RPC still carries it", i)
		}
	}
	// The third message drops RPC 1's connection; RPC 2 carries the third
	// request only.
	p3, err := s.Send(ctx, rowsBatch(100, 2))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := p3.Wait(ctx); err != nil {
		e.note(err)
		t.Fatalf("third request: %v", err)
	}
	if p3.Attempts() != 2 || p3.Resent() != 2 {
		t.Errorf("third request: Attempts %d, Resent %d; want 2, 2", p3.Attempts(), p3.Resent())
	}
	for i, p := range given {
		if err := p.Wait(ctx); !errors.Is(err, ErrAbandoned) {
			t.Errorf("request %d given up: Err %v, want ErrAbandoned", i, err)
		}
		if p.Attempts() != 1 || p.Resent() != 0 || p.NeverSent() {
			t.Errorf("request %d given up: Attempts %d, Resent %d, NeverSent %v; want 1, 0, false", i, p.Attempts(), p.Resent(), p.NeverSent())
		}
		if n := resolved[i].Load(); n != 1 {
			t.Errorf("request %d given up: Resolved called %d times, want 1", i, n)
		}
		if refs, misuse := holds[i].state(); refs != 0 || len(misuse) > 0 {
			t.Errorf("request %d given up: holder refs %d (want 0), misuse %v", i, refs, misuse)
		}
	}
	if n, b := c.win.usage(); n != 0 || b != 0 {
		t.Errorf("window after every request resolved: %d requests, %d bytes; want 0, 0", n, b)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ids := e.ids()
	for _, id := range []int64{0, 1, 2, 10, 11, 12} {
		if ids[id] != 1 {
			t.Errorf("row %d of a request given up stored %d times, want 1 (written once, never re-sent)", id, ids[id])
		}
	}
	for _, id := range []int64{100, 101} {
		if ids[id] != 2 {
			t.Errorf("row %d of the third request stored %d times, want 2 (stored on RPC 1, re-sent on RPC 2)", id, ids[id])
		}
	}
	if len(ids) != 8 {
		t.Errorf("stored ids %v, want 8 distinct", ids)
	}
	e.checkOffsets()
}

// TestGiveUpQueuedForResend: GiveUp between RPCs. A request written on an
// RPC that failed waits for the next one (here: creation refused until
// the test clears the fault); given up then, it is dropped at once
// (ErrAbandoned, GiveUp false: it may be stored), and one no RPC carried
// is withdrawn (ErrWithdrawn, GiveUp true, NeverSent). Neither is written
// on the next RPC.
func TestGiveUpQueuedForResend(t *testing.T) {
	e, c := faultedClient(t, []zerobuslocal.Fault{
		{Kind: zerobuslocal.FaultStallAcks},
		{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 1},
	}, func(cfg *Config) { cfg.Retry.MaxAttempts = 1 << 20 })
	s := e.open(c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Every stream created from now on is refused (RPC 1 is open).
	if err := e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Persistent: true}); err != nil {
		t.Fatal(err)
	}
	written, err := s.Send(ctx, rowsBatch(0, 3)) // stored, then the connection drops
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.WaitForCount(ctx, 2, func(ev zerobuslocal.Event) bool {
		return ev.Kind == zerobuslocal.EventFaultFired && ev.Fault == zerobuslocal.FaultError
	}); err != nil {
		t.Fatalf("no refused creation: %v", err)
	}
	queued, err := s.Send(ctx, rowsBatch(10, 2)) // no RPC: queued, never carried
	if err != nil {
		t.Fatal(err)
	}
	if s.GiveUp(written) {
		t.Fatal("GiveUp of a request an RPC carried: withdrawn")
	}
	if !isResolved(written) || !errors.Is(written.Err(), ErrAbandoned) || written.NeverSent() || written.Attempts() != 1 {
		t.Fatalf("written request given up between RPCs: resolved %v, Err %v, NeverSent %v, Attempts %d; want true, ErrAbandoned, false, 1",
			isResolved(written), written.Err(), written.NeverSent(), written.Attempts())
	}
	if !s.GiveUp(queued) {
		t.Fatal("GiveUp of a request no RPC carried: not withdrawn")
	}
	if !queued.NeverSent() || !errors.Is(queued.Err(), ErrWithdrawn) {
		t.Fatalf("queued request given up: NeverSent %v, Err %v; want true, ErrWithdrawn", queued.NeverSent(), queued.Err())
	}
	if s.GiveUp(written) || s.GiveUp(queued) {
		t.Fatal("GiveUp of resolved requests: true")
	}
	e.srv.ClearFaults(testTable)
	last, err := s.Send(ctx, rowsBatch(100, 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := last.Wait(ctx); err != nil {
		e.note(err)
		t.Fatalf("request after the faults: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n, b := c.win.usage(); n != 0 || b != 0 {
		t.Errorf("window after Close: %d requests, %d bytes; want 0, 0", n, b)
	}
	ids := e.ids()
	want := map[int64]int{0: 1, 1: 1, 2: 1, 100: 1, 101: 1}
	if len(ids) != len(want) {
		t.Errorf("stored %v, want %v", ids, want)
	}
	for id, n := range want {
		if ids[id] != n {
			t.Errorf("row %d stored %d times, want %d", id, ids[id], n)
		}
	}
	e.checkOffsets()
}

package flightstream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Session 20 (noresend): a batch whose caller gave up on it (GiveUp) after
// an RPC carried it is never replayed: the stream drops it at its next
// recovery, frees its IPC body once, and keeps its durable prefix.

// waitEvents waits until the server has recorded n events of testTable
// that match.
func waitEvents(t *testing.T, e *env, n int, match func(zerobuslocal.Event) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.srv.WaitForCount(ctx, n, func(ev zerobuslocal.Event) bool { return ev.Table == testTable && match(ev) }); err != nil {
		t.Fatalf("the server did not record %d events: %v", n, err)
	}
}

func stored(ev zerobuslocal.Event) bool { return ev.Kind == zerobuslocal.EventMessageStored }

// countIDs counts each stored id.
func countIDs(ids []int64) map[int64]int {
	out := map[int64]int{}
	for _, id := range ids {
		out[id]++
	}
	return out
}

// TestGiveUpDropsAtRecovery: RPC 1 stores every batch and acknowledges
// none, and drops its connection at the third. Two batches (bodies from a
// checked allocator) are written on it and given up on; a third ends RPC
// 1. The recovery replays the third only: the two given up resolve with
// ErrAbandoned (written once), every body is freed, the window is empty,
// and the server stores their rows once and the third's twice.
func TestGiveUpDropsAtRecovery(t *testing.T) {
	base := convert.ReadArenaStats().InUse
	e := newEnv(t, nil)
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks})
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 3})
	mem := memory.NewCheckedAllocator(convert.ArrowAllocator)
	fc, s := e.openClient(Config{Alloc: mem})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var given []*Pending
	for i := range 2 {
		rec := rows(t, i*heldRows, heldRows)
		p, err := s.Send(ctx, rec)
		rec.Release()
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
		given = append(given, p)
	}
	waitEvents(t, e, 2, stored)
	for i, p := range given {
		if s.GiveUp(p) {
			t.Fatalf("GiveUp of written batch %d: withdrawn (it may be stored)", i)
		}
		if !p.Abandoned() {
			t.Fatalf("batch %d: not marked abandoned", i)
		}
	}
	rec := rows(t, 2*heldRows, 10)
	p3, err := s.Send(ctx, rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	if err := p3.Wait(ctx); err != nil {
		t.Fatalf("third batch: %v", err)
	}
	if p3.Attempts() != 2 || p3.Resent() != 10 {
		t.Errorf("third batch: Attempts %d, Resent %d; want 2, 10", p3.Attempts(), p3.Resent())
	}
	for i, p := range given {
		if err := p.Wait(ctx); !errors.Is(err, stream.ErrAbandoned) {
			t.Errorf("batch %d given up: Err %v, want ErrAbandoned", i, err)
		}
		if p.Attempts() != 1 || p.Resent() != 0 || p.NeverSent() || p.Durable() != 0 {
			t.Errorf("batch %d given up: Attempts %d, Resent %d, NeverSent %v, Durable %d; want 1, 0, false, 0",
				i, p.Attempts(), p.Resent(), p.NeverSent(), p.Durable())
		}
	}
	if n, b := fc.Window().Usage(); n != 0 || b != 0 {
		t.Errorf("window after every batch resolved: %d batches, %d bytes; want 0, 0", n, b)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := countIDs(e.storedIDs())
	for id := range int64(2 * heldRows) {
		if got[id] != 1 {
			t.Fatalf("row %d of a batch given up stored %d times, want 1 (written once, never replayed)", id, got[id])
		}
	}
	for id := int64(2 * heldRows); id < 2*heldRows+10; id++ {
		if got[id] != 2 {
			t.Fatalf("row %d of the third batch stored %d times, want 2 (stored on RPC 1, replayed on RPC 2)", id, got[id])
		}
	}
	if len(got) != 2*heldRows+10 {
		t.Fatalf("stored %d distinct ids, want %d", len(got), 2*heldRows+10)
	}
	fc.Close()
	settleHeld(t, mem, base, true) // a dropped connection: gRPC may leave buffers to the collector
}

// TestGiveUpKeepsDurablePrefix: the server acknowledges the first 100 rows
// of a batch and announces the end of the RPC; the caller gives the batch
// up before the stream moves on. Its suffix is not replayed on the next
// RPC (stored: the 100 rows only), its Durable stays 100, and it resolves
// with ErrAbandoned once the stream leaves the RPC.
func TestGiveUpKeepsDurablePrefix(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultPartialAck, Records: 100, CloseAfter: 3 * time.Second})
	mem := memory.NewCheckedAllocator(convert.ArrowAllocator)
	base := convert.ReadArenaStats().InUse
	fc, s := e.openClient(Config{Alloc: mem})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rec := rows(t, 0, heldRows)
	p, err := s.Send(ctx, rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	waitEvents(t, e, 1, func(ev zerobuslocal.Event) bool { return ev.Kind == zerobuslocal.EventCloseSignalSent })
	for p.Durable() < 100 && !isDone(p) {
		time.Sleep(time.Millisecond) // the client reads the partial ack
	}
	if s.GiveUp(p) {
		t.Fatal("GiveUp of a partly acknowledged batch: withdrawn")
	}
	if err := p.Wait(ctx); !errors.Is(err, stream.ErrAbandoned) {
		t.Fatalf("batch given up: Err %v, want ErrAbandoned", err)
	}
	if p.Durable() != 100 || p.Attempts() != 1 || p.Resent() != 0 {
		t.Errorf("batch given up: Durable %d, Attempts %d, Resent %d; want 100, 1, 0", p.Durable(), p.Attempts(), p.Resent())
	}
	rec = rows(t, heldRows, 10)
	p2, err := s.Send(ctx, rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Wait(ctx); err != nil {
		t.Fatalf("next batch: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := countIDs(e.storedIDs())
	for id := range int64(100) {
		if got[id] != 1 {
			t.Fatalf("acknowledged row %d stored %d times, want 1", id, got[id])
		}
	}
	for id := int64(100); id < heldRows; id++ {
		if got[id] != 0 {
			t.Fatalf("row %d of the suffix given up stored %d times, want 0 (never replayed)", id, got[id])
		}
	}
	if len(got) != 110 {
		t.Fatalf("stored %d distinct ids, want 110", len(got))
	}
	fc.Close()
	settleHeld(t, mem, base, false) // clean ends: every body freed by its references
}

func isDone(p *Pending) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

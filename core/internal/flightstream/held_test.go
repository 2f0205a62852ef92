package flightstream

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// heldRows is a batch size whose IPC body (about 63 KB) is above heldMin
// and the arena allocator's minimum, so its body is an arena region.
const heldRows = 3000

// settleHeld waits until mem has nothing allocated and the encoder arena
// is back to base bytes in use. With gc it collects garbage meanwhile (for
// bodies gRPC dropped with a dead RPC without freeing them: their cleanup
// frees them); without, every body must have been freed by its references.
func settleHeld(t *testing.T, mem *memory.CheckedAllocator, base int64, gc bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for mem.CurrentAlloc() != 0 || convert.ReadArenaStats().InUse != base {
		if time.Now().After(deadline) {
			t.Fatalf("IPC bodies not freed (gc %v): %d bytes allocated, arena %d bytes in use (was %d)", gc, mem.CurrentAlloc(), convert.ReadArenaStats().InUse, base)
		}
		if gc {
			runtime.GC()
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHeldBodiesFreed: with Config.Alloc (the encoder arena, wrapped in a
// CheckedAllocator) every IPC body is freed exactly once — after
// acknowledgement, replays of a partly acknowledged batch, dropped
// connections, retried and terminal errors, stalled acks, withdrawals and
// Close with batches pending — and the stored rows are every id once (or
// at least once where an ack is lost), values checked by storedIDs.
func TestHeldBodiesFreed(t *testing.T) {
	base := convert.ReadArenaStats().InUse
	for _, tc := range []struct {
		name     string
		fault    *zerobuslocal.Fault
		comp     string
		terminal bool // batches after the fault fail
		distinct bool // at-least-once: ids distinct, maybe repeated
	}{
		{name: "clean"},
		{name: "zstd", comp: "zstd"},
		{name: "partial_ack", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultPartialAck, AfterMessages: 1, Records: 1000, CloseAfter: 50 * time.Millisecond}},
		{name: "partial_ack_zstd", comp: "zstd", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultPartialAck, AfterMessages: 1, Records: 1000, CloseAfter: 50 * time.Millisecond}},
		{name: "drop", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 2}, distinct: true},
		{name: "unavailable", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Unavailable, AfterMessages: 2}},
		{name: "stall", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 1}, distinct: true},
		{name: "terminal", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.InvalidArgument, AfterMessages: 1}, terminal: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Only the stall case needs the ack timeout (to leave the stalled
			// RPC). It was 300ms for every case: under load healthy acks came
			// later than that, so batches were replayed (stored twice where
			// the case wants once) or re-sent past a terminal fault.
			e := newEnv(t, func(c *stream.Config) {
				if tc.fault != nil && tc.fault.Kind == zerobuslocal.FaultStallAcks {
					c.AckTimeout = 2 * time.Second
				}
			})
			if tc.fault != nil {
				e.srv.InjectFault(testTable, *tc.fault)
			}
			mem := memory.NewCheckedAllocator(convert.ArrowAllocator)
			fc, s := e.openClient(Config{Compression: tc.comp, Alloc: mem})
			convert.ResetArenaPeak()
			var ps []*Pending
			for i := range 5 {
				rec := rows(t, i*heldRows, heldRows)
				p, err := s.Send(context.Background(), rec)
				rec.Release()
				switch {
				case err == nil:
					ps = append(ps, p)
				case !tc.terminal || i == 0:
					t.Fatalf("Send %d: %v", i, err)
				}
			}
			if tc.comp == "" && convert.ReadArenaStats().Peak <= base {
				t.Fatal("no IPC body went into the arena")
			}
			for i, p := range ps {
				err := p.Wait(context.Background())
				if tc.terminal && i > 0 {
					if err == nil {
						t.Fatalf("batch %d: no error after a terminal failure", i)
					}
					continue
				}
				if err != nil {
					t.Fatalf("batch %d: %v", i, err)
				}
			}
			_ = s.Close(context.Background())
			switch {
			case tc.terminal:
				wantIDs(t, e.storedIDs(), heldRows)
			case tc.distinct:
				wantDistinct(t, e.storedIDs(), 5*heldRows)
			default:
				wantIDs(t, e.storedIDs(), 5*heldRows)
			}
			fc.Close()
			settleHeld(t, mem, base, tc.fault != nil && tc.fault.Kind == zerobuslocal.FaultDropConnection)
		})
	}
}

// TestHeldBodiesWithdrawnAndClosed: the body of a batch Queue gives up on
// (window full, context done), of batches GiveUp is asked for, and of
// batches pending when the client closes, are freed too.
func TestHeldBodiesWithdrawnAndClosed(t *testing.T) {
	base := convert.ReadArenaStats().InUse
	e := newEnv(t, func(c *stream.Config) { c.AckTimeout = 10 * time.Second })
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 1})
	mem := memory.NewCheckedAllocator(convert.ArrowAllocator)
	fc, s := e.openClient(Config{Alloc: mem, MaxInflightBatches: 2})
	var ps []*Pending
	for i := range 3 { // the first is acknowledged, then acks stall
		rec := rows(t, i*heldRows, heldRows)
		p, err := s.Send(context.Background(), rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if err := ps[0].Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A fourth batch waits for the window: its body is freed when Queue
	// gives up.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	rec := rows(t, 3*heldRows, heldRows)
	if _, err := s.Send(ctx, rec); err == nil {
		t.Fatal("Send past a full window did not wait")
	}
	cancel()
	rec.Release()
	withdrawn := 0
	for _, p := range ps[1:] {
		if s.GiveUp(p) {
			withdrawn++
		}
	}
	t.Logf("withdrawn %d of 2", withdrawn)
	fc.Close() // the rest pending: failed at Close
	for i, p := range ps[1:] {
		if err := p.Wait(context.Background()); err == nil {
			t.Fatalf("batch %d: acknowledged while acks stall", i)
		}
	}
	settleHeld(t, mem, base, true)
}

// TestEncodedHeld: an Encoded's Held is what its body holds — the arena
// region (its size class, convert.ArrowAllocation) for a body from
// Config.Alloc, the body's length for a small one in Go memory — and Size
// stays the body's length (the bytes on the wire and reported).
func TestEncodedHeld(t *testing.T) {
	e := newEnv(t, nil)
	_, s := e.openClient(Config{Alloc: convert.ArrowAllocator})
	for _, n := range []int{heldRows, heldRows * 5 / 4, 100} {
		rec := rows(t, 0, n)
		enc, err := s.Encode(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		size := enc.Size()
		want := size
		if size >= heldMin {
			want = convert.ArrowAllocation(size)
			if enc.held == nil || int64(len(enc.held.b)) != size {
				t.Fatalf("%d rows: a %d-byte body not from Config.Alloc", n, size)
			}
		}
		if enc.Held() != want {
			t.Errorf("%d rows: Held %d for a %d-byte body, want %d", n, enc.Held(), size, want)
		}
		if size >= heldMin && enc.Held() == size {
			t.Errorf("%d rows: a %d-byte body fills its region exactly: pick a row count that does not", n, size)
		}
		enc.held.Release()
	}
}

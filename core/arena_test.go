package core_test

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// settleArena collects garbage until the encoder arena has nothing in use
// (a Batch nobody released comes back through its cleanup once
// unreachable), failing the test after a few seconds.
func settleArena(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for convert.ReadArenaStats().InUse != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("encoder arena: %d bytes still in use", convert.ReadArenaStats().InUse)
		}
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
}

// TestArenaEmptyAfterClose: every chunk buffer goes back to the encoder's
// arena. Without faults (debug protobuf files on, sync and async sends) the
// arena has nothing in use once the Wrapper is closed; after faults that
// end RPCs (gRPC may drop a dead RPC's buffers without freeing them) it has
// nothing in use once the garbage collector has found what was dropped.
func TestArenaEmptyAfterClose(t *testing.T) {
	settleArena(t)
	srv := localServer(t)
	rec := convert.ReferenceBatch(memory.DefaultAllocator, 30_000)
	defer rec.Release()
	small := func(c *core.Config) { c.MaxMessageBytes = 256 << 10 }
	ctx := context.Background()

	w := newWrapper(t, srv, "main.default.arena_clean", func(c *core.Config) {
		small(c)
		c.DebugProtobufEnabled = true
		c.DebugOutputDir = t.TempDir()
	})
	fut := w.SendBatchAsync(ctx, rec)
	if res, err := w.SendBatch(ctx, rec); err != nil || res.SuccessfulCount != int(rec.NumRows()) {
		t.Fatalf("SendBatch: %v", err)
	}
	if res, err := fut.Wait(ctx); err != nil || res.SuccessfulCount != int(rec.NumRows()) {
		t.Fatalf("SendBatchAsync: %v", err)
	}
	closeWrapper(t, w)
	if n := convert.ReadArenaStats().InUse; n != 0 {
		t.Fatalf("encoder arena: %d bytes in use after Close without faults", n)
	}

	for _, f := range []zerobuslocal.Fault{
		{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 3},
		{Kind: zerobuslocal.FaultError, AfterMessages: 5},
		{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 2},
	} {
		table := "main.default.arena_" + string(f.Kind)
		srv.InjectFault(table, f)
		w := newWrapper(t, srv, table, func(c *core.Config) {
			small(c)
			if f.Kind == zerobuslocal.FaultStallAcks {
				// The client gives the stalled RPC up by this timeout. It
				// was 300ms for every case: under load healthy acks came
				// later than that, one RPC after another, until the send
				// gave up. Other cases keep localConfig's 5s.
				c.AckTimeout = 3 * time.Second
			}
		})
		if _, err := w.SendBatch(ctx, rec); err != nil {
			t.Fatalf("%s: SendBatch: %v", f.Kind, err)
		}
		closeWrapper(t, w)
		settleArena(t)
	}
}

// TestStoredBytesWithArenaChurn: the bytes the local server stores are the
// records the encoder produces on its own, while the arena's free regions
// are trimmed (their pages given back, reading zeros on reuse) all along
// and another Wrapper encodes and releases batches.
func TestStoredBytesWithArenaChurn(t *testing.T) {
	srv := localServer(t)
	const rows = 40_000
	rec := convert.ReferenceBatch(memory.DefaultAllocator, rows)
	defer rec.Release()

	// The expected records, copied out of a plain Encode.
	plan, err := convert.NewPlan(rec.Schema(), convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := plan.Encode(rec)
	if err != nil || len(b.Errors) != 0 {
		t.Fatalf("Encode: %v %v", err, b.Errors)
	}
	ids := rec.Column(0).(*array.Int64)
	want := make(map[int64][]byte, rows)
	for i, r := range b.Records {
		want[ids.Value(b.Rows[i])] = bytes.Clone(r)
	}
	b.Release()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				convert.TrimArena()
			}
		}
	}()
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
			wg.Wait()
		}
	}()
	stopChurn := startChurn(t, srv, "main.default.arena_churn", 7000)
	got := sendAndRead(t, srv, "main.default.arena_stored", rec, func(c *core.Config) { c.MaxMessageBytes = 512 << 10 })
	stopChurn()
	close(stop)
	wg.Wait()
	if len(got.rows) != rows {
		t.Fatalf("stored %d distinct rows, want %d", len(got.rows), rows)
	}
	for id, raw := range want {
		if !bytes.Equal(got.rows[id], raw) {
			t.Fatalf("row %d stored as %x…, want %x…", id, got.rows[id][:min(len(got.rows[id]), 24)], raw[:min(len(raw), 24)])
		}
	}
}

package core_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// flightArenaBatch is n rows of (id, s): s is cast string → large_string,
// so the cast's output and the IPC bodies (chunks of a few hundred KiB)
// are encoder-arena regions.
func flightArenaBatch(mem memory.Allocator, from, n int) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := from; i < from+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("row %d with some text to make it a few dozen bytes", i))
	}
	return b.NewRecordBatch()
}

// TestFlightArenaEmptyAfterClose: over arrow_flight, the cast arrays and
// IPC bodies taken from the encoder arena all go back — after a clean
// run (the arena has nothing in use right after Close, and every row is
// stored once with its value), and after faults, cancelled calls
// (withdrawn chunks) and Close (after the garbage collector has found what
// gRPC dropped with dead RPCs). The caller's input (a CheckedAllocator)
// is never the arena's: it is all freed by the caller's own Release.
func TestFlightArenaEmptyAfterClose(t *testing.T) {
	settleArena(t)
	srv := localServer(t)
	ctx := context.Background()
	input := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer input.AssertSize(t, 0)
	const rows = 30_000
	rec := flightArenaBatch(input, 0, rows)
	defer rec.Release()
	flight := func(c *core.Config) {
		c.Transport = core.TransportArrowFlight
		c.MaxMessageBytes = 512 << 10
		c.MaxInflightBytes = 2 << 20
	}

	convert.ResetArenaPeak()
	const table = "main.default.flight_arena"
	w := newWrapper(t, srv, table, flight)
	fut := w.SendBatchAsync(ctx, rec)
	second := flightArenaBatch(input, rows, rows)
	if res, err := w.SendBatch(ctx, second); err != nil || res.SuccessfulCount != rows {
		t.Fatalf("SendBatch: %v", err)
	}
	second.Release()
	if res, err := fut.Wait(ctx); err != nil || res.SuccessfulCount != rows {
		t.Fatalf("SendBatchAsync: %v", err)
	}
	closeWrapper(t, w)
	if n := convert.ReadArenaStats().InUse; n != 0 {
		t.Fatalf("encoder arena: %d bytes in use after Close without faults", n)
	}
	if convert.ReadArenaStats().Peak == 0 {
		t.Fatal("nothing went through the encoder arena")
	}
	stored, err := srv.ArrowBatch(table, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, 2*rows)
	ids := stored.Column(0).(*array.Int64)
	for i := range ids.Len() {
		id := ids.Value(i)
		if id < 0 || id >= 2*rows || seen[id] {
			t.Fatalf("stored id %d unexpected or twice", id)
		}
		seen[id] = true
		if got, want := stored.Column(1).(interface{ Value(int) string }).Value(i), fmt.Sprintf("row %d with some text to make it a few dozen bytes", id); got != want {
			t.Fatalf("row %d stored as %q, want %q", id, got, want)
		}
	}
	n := ids.Len()
	stored.Release()
	if n != 2*rows {
		t.Fatalf("stored %d rows, want %d", n, 2*rows)
	}

	for _, f := range []zerobuslocal.Fault{
		{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 3},
		{Kind: zerobuslocal.FaultError, Code: codes.Unavailable, AfterMessages: 5},
		{Kind: zerobuslocal.FaultError, Code: codes.InvalidArgument, AfterMessages: 4},
		{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 2},
		{Kind: zerobuslocal.FaultPartialAck, AfterMessages: 2, Records: 100, CloseAfter: 20 * time.Millisecond},
	} {
		table := "main.default.flight_arena_" + string(f.Kind)
		srv.InjectFault(table, f)
		w := newWrapper(t, srv, table, func(c *core.Config) {
			flight(c)
			c.AckTimeout = 300 * time.Millisecond
		})
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := context.Background()
				if g == 3 { // cancelled mid-call: chunks withdrawn or failed
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, 15*time.Millisecond)
					defer cancel()
				}
				_, _ = w.SendBatch(ctx, rec)
			}()
		}
		wg.Wait()
		closeWrapper(t, w)
		settleArena(t)
	}
}

// TestFlightTinyBatchAfterLargeOne: once a batch has taught the Wrapper that
// IPC bodies come out larger than their input, a batch of a few bytes is
// still sized into a chunk (a division by its scaled size was zero) and its
// rows are stored.
func TestFlightTinyBatchAfterLargeOne(t *testing.T) {
	srv := localServer(t)
	ctx := context.Background()
	const table = "main.default.flight_tiny_after_large"
	w := newWrapper(t, srv, table, func(c *core.Config) { c.Transport = core.TransportArrowFlight })
	defer closeWrapper(t, w)
	big := flightArenaBatch(memory.DefaultAllocator, 0, 5000)
	defer big.Release()
	if res, err := w.SendBatch(ctx, big); err != nil || res.SuccessfulCount != 5000 {
		t.Fatalf("large batch: %v", err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	for _, rows := range []int{1, 2} {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for i := range rows {
			b.Field(0).(*array.Int64Builder).Append(int64(10_000 + i))
			b.Field(1).(*array.StringBuilder).Append("")
		}
		rec := b.NewRecordBatch()
		b.Release()
		res, err := w.SendBatch(ctx, rec)
		rec.Release()
		if err != nil || res.SuccessfulCount != rows {
			t.Fatalf("%d-row batch after a large one: %v (%+v)", rows, err, res)
		}
	}
	if got := len(srv.Rows(table)); got != 5003 {
		t.Fatalf("server stored %d rows, want 5003", got)
	}
}

// TestFlightArenaWithinWindow: over arrow_flight, the IPC bodies in the
// encoder arena never hold more than MaxInflightBytes, however many
// goroutines send: a body's share of the record window is its arena region
// (the size class above it), not its length. Bodies of ~40 KiB take
// 64 KiB regions here, so counting lengths would let ~12 of them (768 KiB)
// into a 512 KiB window. The arena's exact peak is compared, no sampling;
// window and arena are empty after Close.
func TestFlightArenaWithinWindow(t *testing.T) {
	settleArena(t)
	srv := localServer(t)
	ctx := context.Background()
	const window = 512 << 10
	const table = "main.default.flight_window_regions"
	w := newWrapper(t, srv, table, func(c *core.Config) {
		c.Transport = core.TransportArrowFlight
		c.MaxMessageBytes = 56 << 10 // chunks of ~42 KiB
		c.MaxInflightBytes = window
	})
	const senders, rows = 8, 6000
	batches := make([]arrow.RecordBatch, senders)
	for i := range batches {
		batches[i] = flightArenaBatch(memory.DefaultAllocator, i*rows, rows)
		defer batches[i].Release()
	}
	// A first batch through (plan, stream, the body size estimate), then
	// the peak from here.
	if _, err := w.SendBatch(ctx, batches[0]); err != nil {
		t.Fatal(err)
	}
	convert.ResetArenaPeak()
	var wg sync.WaitGroup
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				if res, err := w.SendBatch(ctx, batches[i]); err != nil || res.SuccessfulCount != rows {
					t.Errorf("SendBatch: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	peak := convert.ReadArenaStats().Peak
	if peak > window {
		t.Errorf("encoder arena: %d bytes in use at the peak, over the %d-byte window", peak, window)
	} else if peak < window/2 {
		t.Errorf("encoder arena: at most %d bytes in use, under half the %d-byte window: the test did not fill it", peak, window)
	}
	if grown := core.RecordsGrown(w); grown != 0 {
		t.Errorf("%d bytes taken beyond reservations: the reservation did not cover the body's region", grown)
	}
	closeWrapper(t, w)
	if live, reserved := core.RecordsHeld(w); live != 0 || reserved != 0 {
		t.Errorf("after Close: %d bytes of bodies held, %d reserved, want 0", live, reserved)
	}
	if n := convert.ReadArenaStats().InUse; n != 0 {
		t.Errorf("encoder arena: %d bytes in use after Close", n)
	}
	if n := len(srv.Rows(table)); n != rows*(1+3*senders) {
		t.Errorf("server stored %d rows, want %d", n, rows*(1+3*senders))
	}
	t.Logf("arena peak %d bytes, window %d", peak, window)
}

// TestFlightBodyTakesNoLargerRegion: a free arena region two size classes
// above an IPC body's, and none of the body's own class (drained and held
// here), does not serve the body: the body holds the region its
// reservation counted (convert.ArrowAllocation), so the record window is
// never grown and never holds more than MaxInflightBytes. 75,000 int64
// values in a 700,000-byte window go in chunks of a quarter of it: four
// 150,000-byte bodies, class 160 KiB, each reserved 173,358 bytes (est +
// est/8); two classes up is 192 KiB.
func TestFlightBodyTakesNoLargerRegion(t *testing.T) {
	settleArena(t)
	srv := localServer(t)
	ctx := context.Background()
	const rows, window = 75_000, 700_000
	const body = 8 * rows / 4
	cls := convert.ArrowAllocation(body)
	larger := convert.ArrowAllocation(cls + 2*(16<<10) - 1)
	if cls != 160<<10 || larger != 192<<10 {
		t.Fatalf("classes %d, %d; want 160 KiB, 192 KiB", cls, larger)
	}
	// Drain the body's class: take its free regions until a new one is
	// mapped (the free byte count stops falling), and hold them.
	var held [][]byte
	defer func() {
		for _, b := range held {
			convert.ArrowBodyAllocator.Free(b)
		}
	}()
	for {
		st := convert.ReadArenaStats()
		held = append(held, convert.ArrowBodyAllocator.Allocate(body))
		if convert.ReadArenaStats().Free+convert.ReadArenaStats().Trimmed == st.Free+st.Trimmed {
			break
		}
	}
	// Free regions two classes up, the most recently released.
	var seed [][]byte
	for range 8 {
		seed = append(seed, convert.ArrowBodyAllocator.Allocate(int(larger)))
	}
	for _, b := range seed {
		convert.ArrowBodyAllocator.Free(b)
	}

	const table = "main.default.flight_body_region"
	w := newWrapper(t, srv, table, func(c *core.Config) {
		c.Transport = core.TransportArrowFlight
		c.MaxMessageBytes = window
		c.MaxInflightBytes = window
	})
	b := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range rows {
		b.Append(int64(i))
	}
	ids := b.NewInt64Array()
	b.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{ids}, rows)
	ids.Release()
	defer rec.Release()
	if res, err := w.SendBatch(ctx, rec); err != nil || res.SuccessfulCount != rows {
		t.Fatalf("SendBatch: %v (%+v)", err, res)
	}
	if grown := core.RecordsGrown(w); grown != 0 {
		t.Errorf("%d bytes taken beyond the reservation: the body took a larger region than reserved", grown)
	}
	if peak := core.RecordsPeak(w); peak > window || peak < cls {
		t.Errorf("record window peak %d bytes, want within [%d, %d]", peak, cls, window)
	}
	if n := len(srv.Rows(table)); n != rows {
		t.Errorf("server stored %d rows, want %d", n, rows)
	}
}

package core

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestWindowPermitsReturnAfterFaultsAndClose sends from eight goroutines
// (SendBatch, SendBatchAsync, SendReader; some cancelled mid-send) through
// one Wrapper with a small window while the server fails streams, then
// closes it: the shared in-flight window and the record window must hold
// nothing afterwards, whatever path each request took.
func TestWindowPermitsReturnAfterFaultsAndClose(t *testing.T) {
	for _, transport := range []string{TransportProtobuf, TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startLocal(t)
			const table = "main.default.permits"
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, AfterMessages: 5})
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Internal, AfterMessages: 9})
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 14})
			cfg := localConfig(srv, table)
			cfg.Transport = transport
			cfg.RetryBaseDelay, cfg.RetryMaxDelay = time.Millisecond, 5*time.Millisecond
			cfg.MaxInflightRequests = 3
			cfg.MaxMessageBytes = 64 << 10
			cfg.MaxInflightBytes = 128 << 10
			w, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			rec := textRows(0, 20_000, nil) // about 1.4 MB: many requests per call
			defer rec.Release()
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx := context.Background()
					if g%3 == 2 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, time.Duration(5+g)*time.Millisecond)
						defer cancel()
					}
					switch g % 4 {
					case 0:
						_, _ = w.SendBatch(ctx, rec)
					case 1:
						_, _ = w.SendBatchAsync(ctx, rec).Wait(ctx)
					case 2:
						rdr, err := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec, rec})
						if err != nil {
							t.Error(err)
							return
						}
						defer rdr.Release()
						_, _ = w.SendReader(ctx, rdr)
					default:
						for range 3 {
							_, _ = w.SendBatch(ctx, rec)
						}
					}
				}()
			}
			wg.Wait()
			win := w.client.Window()
			if w.flight != nil {
				win = w.flight.Window()
			}
			closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = w.Close(closeCtx)
			if n, b := win.Usage(); n != 0 || b != 0 {
				t.Errorf("in-flight window after Close: %d requests / %d bytes held, want 0/0", n, b)
			}
			if u, l := w.records.usage(), w.records.live.Load(); u != 0 || l != 0 {
				t.Errorf("record window after Close: %d bytes reserved, %d bytes of chunks alive, want 0 and 0", u, l)
			}
			if srv.Stats().FaultsFired == 0 {
				t.Error("no fault fired: the test did not exercise recovery")
			}
		})
	}
}

// TestRecordsWithinWindowManySenders sends from 16 goroutines through one
// Wrapper whose window is a few chunks, over each transport: the encoded
// records the Wrapper holds at once (protobuf records, or arrow_flight IPC
// bodies; counted per chunk from conversion to its window share's return:
// converting, waiting for the stream and in flight) never exceed
// MaxInflightBytes, the window is actually filled, nothing is held after
// the sends, and every row is stored.
func TestRecordsWithinWindowManySenders(t *testing.T) {
	for _, transport := range []string{TransportProtobuf, TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) { recordsWithinWindow(t, transport) })
	}
}

func recordsWithinWindow(t *testing.T, transport string) {
	srv := startLocal(t)
	const table = "main.default.window16"
	cfg := localConfig(srv, table)
	cfg.Transport = transport
	w := openSmallWindow(t, cfg)
	const rows = 6000
	rec := textRows(0, rows, nil)
	defer rec.Release()
	const senders, sends = 16, 2
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range sends {
				res, err := w.SendBatch(context.Background(), rec)
				if err != nil || res.SuccessfulCount != rows {
					t.Errorf("SendBatch: %v (%d of %d rows acknowledged)", err, res.SuccessfulCount, rows)
				}
			}
		}()
	}
	wg.Wait()
	rw := w.records
	window := w.Config().MaxInflightBytes
	if live := rw.livePk.Load(); live > window || rw.peakHeld() > window {
		t.Errorf("encoded records held at once: %d bytes (reserved %d), over the %d-byte window", live, rw.peakHeld(), window)
	} else if live < window/2 {
		t.Errorf("encoded records held at once: at most %d bytes, under half the %d-byte window: the test did not fill it", live, window)
	}
	if g := rw.grown.Load(); g != 0 {
		t.Errorf("%d bytes taken beyond reservations: the estimate fell short on uniform rows", g)
	}
	if u, l := rw.usage(), rw.live.Load(); u != 0 || l != 0 {
		t.Errorf("after the sends: %d bytes reserved, %d bytes of chunks alive, want 0 and 0", u, l)
	}
	stored := srv.Rows(table)
	if len(stored) != senders*sends*rows {
		t.Fatalf("server stored %d rows, want %d", len(stored), senders*sends*rows)
	}
	t.Logf("%s, 16 senders, window %d bytes: at most %d bytes of records held, %d reserved", transport, window, rw.livePk.Load(), rw.peakHeld())
}

// TestRecordWindowFIFOAndOversize checks the record window alone: a
// reservation larger than the window is admitted only when nothing is
// held, waiters are served in order, a canceled waiter holds nothing and
// grow exceeds the window without waiting.
func TestRecordWindowFIFOAndOversize(t *testing.T) {
	rw := newRecordWindow(100)
	ctx := context.Background()
	if err := rw.acquire(ctx, 60); err != nil {
		t.Fatal(err)
	}
	order := make(chan int, 2)
	go func() { _ = rw.acquire(ctx, 150); order <- 1 }() // oversize: alone
	for rw.waiting() < 1 {
		time.Sleep(time.Millisecond)
	}
	go func() { _ = rw.acquire(ctx, 10); order <- 2 }() // fits, but queued behind
	for rw.waiting() < 2 {
		time.Sleep(time.Millisecond)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := rw.acquire(cctx, 30); err == nil {
		t.Fatal("a canceled acquire that could not fit succeeded")
	}
	select {
	case n := <-order:
		t.Fatalf("waiter %d admitted while 60 of 100 bytes were held ahead of an oversize one", n)
	case <-time.After(20 * time.Millisecond):
	}
	rw.release(60)
	if n := <-order; n != 1 {
		t.Fatalf("waiter %d admitted first, want the oversize one (FIFO)", n)
	}
	select {
	case <-order:
		t.Fatal("a waiter was admitted alongside an oversize reservation")
	case <-time.After(20 * time.Millisecond):
	}
	rw.release(150)
	if n := <-order; n != 2 {
		t.Fatalf("got waiter %d, want 2", n)
	}
	rw.grow(200)
	if u := rw.usage(); u != 210 {
		t.Fatalf("usage %d after grow, want 210", u)
	}
	rw.release(210)
	if u := rw.usage(); u != 0 {
		t.Fatalf("usage %d at the end, want 0", u)
	}
}

// TestRecordWindowFreedByFailedStream: when acknowledgements stall until
// the stream gives up, the stream keeps the failed requests' records (for
// Unacked) and gRPC may keep a dead RPC's buffers, yet the chunks' bytes
// are back in the record window as soon as SendBatch returns, without a
// garbage collection; the rows are reported unknown, and a later send
// through the same Wrapper still gets the whole window.
func TestRecordWindowFreedByFailedStream(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.stalled"
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks})
	cfg := localConfig(srv, table)
	cfg.AckTimeout = 100 * time.Millisecond
	cfg.RetryMaxAttempts = 1
	cfg.RetryBaseDelay, cfg.RetryMaxDelay = time.Millisecond, time.Millisecond
	w := openSmallWindow(t, cfg)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	for i := range 20_000 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
	}
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	res, err := w.SendBatch(context.Background(), rec)
	if err == nil || res.SuccessfulCount == res.TotalRows {
		t.Fatalf("SendBatch with stalled acknowledgements succeeded: %v", res)
	}
	if res.UnknownCount == 0 {
		t.Fatalf("no row reported unknown after the stream gave up: %v", res)
	}
	if u, l := w.records.usage(), w.records.live.Load(); u != 0 || l != 0 {
		t.Fatalf("after the failed send: %d bytes reserved, %d bytes of chunks owed, want 0 and 0", u, l)
	}
	// The window is whole again: a reservation of all of it is admitted at once.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := w.records.acquire(ctx, w.Config().MaxInflightBytes); err != nil {
		t.Fatalf("the whole window after the failed send: %v", err)
	}
	w.records.release(w.Config().MaxInflightBytes)
}

// TestRecordWindowWaitCanceled: acknowledgements stall, so the record
// window fills; a call whose ctx ends while it waits for room, and one
// whose ctx ends with requests out, return results that account for every
// row (durable + not written + unknown = total, lists as long as the
// counts), rows reported not written are not on the server, and Close
// gives the whole window back.
func TestRecordWindowWaitCanceled(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.waitcancel"
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks})
	cfg := localConfig(srv, table)
	cfg.AckTimeout = time.Minute
	cfg.MaxMessageBytes = 64 << 10
	cfg.MaxInflightBytes = 256 << 10
	w, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	big, small := textRows(0, 20_000, nil), textRows(1_000_000, 2_000, nil) // ~1.4 MB: more than the window
	defer big.Release()
	defer small.Release()
	results := make([]*TransmissionResult, 2)
	var wg sync.WaitGroup
	// Both calls' ctx ends once the big batch has requests on the server
	// and both wait for room (it was a 300ms timeout: under load the big
	// batch could still be opening its stream then, with nothing sent).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i, rec := range []arrow.RecordBatch{big, small} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 1 {
				for w.records.waiting() == 0 { // the big batch waits for room first
					time.Sleep(time.Millisecond)
				}
			}
			results[i], _ = w.SendBatch(ctx, rec)
		}()
	}
	for deadline := time.Now().Add(time.Minute); w.records.waiting() < 2 || srv.RecordCount(table) == 0; {
		if time.Now().After(deadline) {
			cancel()
			wg.Wait()
			t.Fatalf("after a minute: %d calls wait for room, %d rows stored; want 2 and some", w.records.waiting(), srv.RecordCount(table))
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	stored := map[int64]bool{}
	for _, r := range srv.Rows(table) {
		stored[r.Message.Get(r.Message.Descriptor().Fields().ByName("id")).Int()] = true
	}
	for i, rec := range []arrow.RecordBatch{big, small} {
		res, n := results[i], int(rec.NumRows())
		if res.TotalRows != n || res.SuccessfulCount+res.NotWrittenCount+res.UnknownCount != n ||
			res.FailedCount != res.NotWrittenCount+res.UnknownCount || len(res.FailedRows) != res.FailedCount ||
			len(res.SuccessfulRows) != res.SuccessfulCount || rangeRows(res.SuccessfulRanges) != res.SuccessfulCount {
			t.Errorf("batch %d: accounting: total %d, durable %d (%d listed), not written %d, unknown %d, failed %d (%d listed); want %d rows",
				i, res.TotalRows, res.SuccessfulCount, len(res.SuccessfulRows), res.NotWrittenCount, res.UnknownCount, res.FailedCount, len(res.FailedRows), n)
		}
		if res.NotWrittenCount == 0 || res.Err == nil {
			t.Errorf("batch %d: %v: want rows not written (ctx ended while waiting for the window)", i, res)
		}
		ids := rec.Column(0).(*array.Int64)
		for _, r := range res.NotWrittenRowIndices() {
			if stored[ids.Value(r)] {
				t.Fatalf("batch %d: row %d reported not written is stored", i, r)
			}
		}
	}
	if results[0].UnknownCount == 0 {
		t.Errorf("big batch: %v: want unknown rows (sent, never acknowledged)", results[0])
	}
	if results[1].NotWrittenCount != results[1].TotalRows {
		t.Errorf("small batch: %v: want every row not written (it never got room)", results[1])
	}
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelClose()
	_ = w.Close(closeCtx) // the acks never come: Close gives up and fails what is left
	if u, l := w.records.usage(), w.records.live.Load(); u != 0 || l != 0 {
		t.Errorf("after Close: %d bytes reserved, %d bytes of chunks owed, want 0 and 0", u, l)
	}
}

// TestFlightChunksMapRows: over arrow_flight a batch is cast and sent in
// chunks (here ~40 of them: a 256 KiB window); rows a chunk's cast leaves
// out (nulls in a NOT NULL column) fail alone under their own batch index,
// in the first, a middle and the last chunk, and exactly the other rows are
// stored.
func TestFlightChunksMapRows(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.flightchunks"
	cfg := localConfig(srv, table)
	cfg.Transport = TransportArrowFlight
	w := openSmallWindow(t, cfg)
	const rows = 40_000
	bad := map[int]bool{2: true, 20_001: true, rows - 1: true}
	rec := textRows(0, rows, bad)
	defer rec.Release()
	res, err := w.SendBatch(context.Background(), rec)
	if err == nil {
		t.Fatal("SendBatch: no error for 3 rows with a null id")
	}
	if res.SuccessfulCount != rows-3 || len(res.FailedRows) != 3 {
		t.Fatalf("%d rows acknowledged, %d failed, want %d and 3", res.SuccessfulCount, len(res.FailedRows), rows-3)
	}
	for _, f := range res.FailedRows {
		var ce *ConversionError
		if !bad[f.Index] || f.State != RowNotWritten || !errors.As(f.Err, &ce) || ce.Row != f.Index || ce.Column != "id" {
			t.Errorf("failed row %d (%v): %v, want one of the null ids, not written, a *ConversionError at that row and column id", f.Index, f.State, f.Err)
		}
	}
	stored, err := srv.ArrowBatch(table, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stored.Release()
	ids := stored.Column(0).(*array.Int64)
	seen := make(map[int64]bool, ids.Len())
	for i := range ids.Len() {
		id := ids.Value(i)
		if seen[id] || id < 0 || id >= rows || bad[int(id)] {
			t.Fatalf("stored id %d: a duplicate, out of range or a failed row", id)
		}
		seen[id] = true
	}
	if len(seen) != rows-3 {
		t.Fatalf("stored %d rows, want %d", len(seen), rows-3)
	}
	if u, l := w.records.usage(), w.records.live.Load(); u != 0 || l != 0 {
		t.Errorf("after the send: %d bytes reserved, %d bytes of chunks alive, want 0 and 0", u, l)
	}
}

// startLocal starts a local server, closed when the test ends.
func startLocal(t *testing.T) *zerobuslocal.Server {
	t.Helper()
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// localConfig is the default configuration sending table to srv.
func localConfig(srv *zerobuslocal.Server, table string) Config {
	cfg := DefaultConfig()
	cfg.Endpoint, cfg.UnityCatalogURL = srv.Endpoint(), srv.WorkspaceURL()
	cfg.ClientID, cfg.ClientSecret = srv.ClientID(), srv.ClientSecret()
	cfg.TableName = table
	return cfg
}

// openSmallWindow opens a Wrapper of cfg with 64 KiB requests and a
// 256 KiB record window (so a few thousand rows fill it), closed when the
// test ends.
func openSmallWindow(t *testing.T, cfg Config) *Wrapper {
	t.Helper()
	cfg.MaxMessageBytes = 64 << 10
	cfg.MaxInflightBytes = 256 << 10
	w, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

// textRows is n rows (id, s) with ids from first and the same few dozen
// bytes of text in s; the rows whose index is in nullIDs have a null id.
func textRows(first, n int, nullIDs map[int]bool) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range n {
		if nullIDs[i] {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.Int64Builder).Append(int64(first + i))
		}
		b.Field(1).(*array.StringBuilder).Append("some text to make the rows a few dozen bytes long")
	}
	return b.NewRecordBatch()
}

// TestChunkRows: a Flight batch is cut into as few chunks as keep each
// within the limit, all of the same size (the last at most a row short per
// chunk), not full chunks and a small remainder.
func TestChunkRows(t *testing.T) {
	for _, tc := range []struct {
		n           int
		size, limit int64
		chunks      int
	}{
		{200_000, 31 << 20, 4 << 20, 8},
		{100_000, 15 << 20, 4 << 20, 4},
		{1000, 1 << 20, 4 << 20, 1},
		{7, 1 << 30, 4 << 20, 7},
		{1, 0, 4 << 20, 1},
		{10, 41, 4, 10},
	} {
		per := chunkRows(tc.n, tc.size, tc.limit)
		k := (tc.n + per - 1) / per
		last := tc.n - (k-1)*per
		if k != tc.chunks || k > 1 && last < per-(k-1) {
			t.Errorf("chunkRows(%d, %d, %d) = %d: %d chunks, the last of %d rows; want %d chunks of equal size (within a row each)", tc.n, tc.size, tc.limit, per, k, last, tc.chunks)
		}
		if est := tc.size * int64(per) / int64(tc.n); per > 1 && est > tc.limit {
			t.Errorf("chunkRows(%d, %d, %d) = %d: chunks of ~%d bytes, over the limit", tc.n, tc.size, tc.limit, per, est)
		}
	}
}

// Flush with an ended ctx and async sends that are all resolved returns no
// error (a select between "resolved" and "ctx ended" picked at random).
func TestFlushWithResolvedFuturesAndAnEndedContext(t *testing.T) {
	w, err := New(context.Background(), Config{TableName: "main.default.t", WriterDisabled: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	w.mu.Lock()
	for range 4 {
		f := &SendFuture{done: make(chan struct{})}
		close(f.done)
		w.futures[f] = struct{}{}
	}
	w.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 100; i++ {
		if err := w.Flush(ctx); err != nil {
			t.Fatalf("try %d: Flush = %v, want nil (every async send is resolved)", i, err)
		}
	}
}

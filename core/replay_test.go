package core_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestReplayedRowsIntactUnderPoolReuse: requests are written by reference to
// the encoder's pooled buffers. Rows re-sent after a fault (stalled acks,
// then a new RPC) must be stored byte for byte as a fault-free send stores
// them, while another Wrapper in the process encodes and releases batches
// the whole time, reusing every buffer that is handed back to the pool.
func TestReplayedRowsIntactUnderPoolReuse(t *testing.T) {
	srv := localServer(t)
	const rows = 30_000
	rec := convert.ReferenceBatch(memory.DefaultAllocator, rows)
	defer rec.Release()
	small := func(c *core.Config) {
		c.MaxMessageBytes = 256 << 10 // many requests in flight when the fault hits
		c.AckTimeout = 300 * time.Millisecond
	}
	golden := sendAndRead(t, srv, "main.default.golden", rec, small)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go churnSends(t, srv, "main.default.churn", 9000, stop, &wg) // churn the pools
	table := "main.default.replayed"
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 3})
	got := sendAndRead(t, srv, table, rec, small)
	close(stop)
	wg.Wait()

	if len(got.rows) != rows {
		t.Fatalf("stored %d distinct rows, want %d", len(got.rows), rows)
	}
	if got.attempts < 2 {
		t.Fatalf("result Attempts = %d: the fault did not make the client re-send", got.attempts)
	}
	for id, raw := range golden.rows {
		if !bytes.Equal(got.rows[id], raw) {
			t.Fatalf("row %d stored as %x…, want %x…", id, got.rows[id][:min(len(got.rows[id]), 24)], raw[:min(len(raw), 24)])
		}
	}
}

type sentRows struct {
	rows     map[int64][]byte // id -> stored record (last copy)
	attempts int
}

// sendAndRead sends rec to table on srv and returns what the server stored.
func sendAndRead(t *testing.T, srv *zerobuslocal.Server, table string, rec arrow.RecordBatch, mutate func(*core.Config)) sentRows {
	t.Helper()
	w := newWrapper(t, srv, table, mutate)
	res, err := w.SendBatch(context.Background(), rec)
	if err != nil || res.SuccessfulCount != int(rec.NumRows()) {
		t.Fatalf("SendBatch to %s: %v (%d of %d durable)", table, err, res.SuccessfulCount, rec.NumRows())
	}
	closeWrapper(t, w)
	out := sentRows{rows: map[int64][]byte{}, attempts: res.Attempts}
	for _, r := range srv.Rows(table) {
		id := r.Message.Get(r.Message.Descriptor().Fields().ByName("id")).Int()
		if prev, ok := out.rows[id]; ok && !bytes.Equal(prev, r.Raw) {
			t.Fatalf("%s: row %d stored twice with different bytes", table, id)
		}
		out.rows[id] = r.Raw
	}
	return out
}

// newWrapper is a Wrapper for table on srv, closed at cleanup.
func newWrapper(t *testing.T, srv *zerobuslocal.Server, table string, mutate func(*core.Config)) *core.Wrapper {
	t.Helper()
	cfg := localConfig(srv, table)
	if mutate != nil {
		mutate(&cfg)
	}
	w, err := core.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeWrapper(t, w) })
	return w
}

// churnSends sends a reference batch of rows through a Wrapper of its own
// to table until stop is closed, so that the encoder's buffers are handed
// out and back the whole time; wg.Done when it returns.
func churnSends(t *testing.T, srv *zerobuslocal.Server, table string, rows int, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	churn := newWrapper(t, srv, table, nil)
	other := convert.ReferenceBatch(memory.DefaultAllocator, rows)
	defer other.Release()
	for {
		select {
		case <-stop:
			return
		default:
		}
		if _, err := churn.SendBatch(context.Background(), other); err != nil {
			t.Error(err)
			return
		}
	}
}

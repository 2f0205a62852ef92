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
//
// The re-send is tied to events, not to a timer: acks stop after the 3rd
// stored request and the RPC fails with UNAVAILABLE at the 6th, so requests
// 4-6 are certainly in flight, unacknowledged, when it fails and are re-sent
// on a new RPC. (A 300ms ack timeout did this before; under load ordinary
// acks took longer than that and the fault-free sends gave up.)
func TestReplayedRowsIntactUnderPoolReuse(t *testing.T) {
	srv := localServer(t)
	const rows = 30_000
	rec := convert.ReferenceBatch(memory.DefaultAllocator, rows)
	defer rec.Release()
	small := func(c *core.Config) {
		c.MaxMessageBytes = 256 << 10 // many requests in flight when the fault hits
		c.AckTimeout = time.Minute    // never the cause: the faults below end the RPC
	}
	before := srv.Stats()
	golden := sendAndRead(t, srv, "main.default.golden", rec, small)
	after := srv.Stats()
	const failAt = 6
	if reqs := (after.MessagesReceived - after.StreamsCreated) - (before.MessagesReceived - before.StreamsCreated); reqs <= failAt {
		t.Fatalf("the batch is %d requests; the test needs more than %d", reqs, failAt)
	}

	stopChurn := startChurn(t, srv, "main.default.churn", 9000) // churn the pools
	defer stopChurn()
	table := "main.default.replayed"
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 3})
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, AfterMessages: failAt})
	got := sendAndRead(t, srv, table, rec, small)
	stopChurn()

	if len(got.rows) != rows {
		t.Fatalf("stored %d distinct rows, want %d", len(got.rows), rows)
	}
	if got.attempts < 2 || got.copies <= rows {
		t.Fatalf("result Attempts = %d, %d records stored for %d rows: the fault did not make the client re-send", got.attempts, got.copies, rows)
	}
	for id, raw := range golden.rows {
		if !bytes.Equal(got.rows[id], raw) {
			t.Fatalf("row %d stored as %x…, want %x…", id, got.rows[id][:min(len(got.rows[id]), 24)], raw[:min(len(raw), 24)])
		}
	}
}

type sentRows struct {
	rows     map[int64][]byte // id -> stored record (last copy)
	copies   int              // records stored, re-sent copies included
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
	stored := srv.Rows(table)
	out := sentRows{rows: map[int64][]byte{}, copies: len(stored), attempts: res.Attempts}
	for _, r := range stored {
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

// startChurn sends a reference batch of rows through a Wrapper of its own
// to table over and over, so that the encoder's buffers are handed out and
// back the whole time, until the returned stop is called (it waits for the
// last send; calling it again does nothing). It is also called when the test
// ends, before the Wrapper is closed, so a test that stops early (Fatal)
// does not leave the loop sending on a closed Wrapper.
func startChurn(t *testing.T, srv *zerobuslocal.Server, table string, rows int) (stop func()) {
	t.Helper()
	churn := newWrapper(t, srv, table, nil)
	other := convert.ReferenceBatch(memory.DefaultAllocator, rows)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer other.Release()
		for {
			select {
			case <-quit:
				return
			default:
			}
			if _, err := churn.SendBatch(context.Background(), other); err != nil {
				t.Errorf("churn send: %v", err)
				return
			}
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { close(quit); <-done }) }
	t.Cleanup(stop) // registered after newWrapper's Close, so it runs first
	return stop
}

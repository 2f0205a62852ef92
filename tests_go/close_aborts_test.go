package tests_go

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A Close that runs out of time says what it aborted. After a CheckSchema
// that gave up while the server still held its stream's creation back, it
// is a stream being opened, on which nothing was sent (it said "aborted the
// streams with unacknowledged requests", of which there were none); with a
// send in progress whose acknowledgements do not come, it is still those
// requests.
func TestCloseNamesWhatItAborts(t *testing.T) {
	const table = "main.default.close_aborts"
	closeSoon := func(t *testing.T, w *core.Wrapper) error {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := w.Close(ctx)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Close took %v after its context ended", d)
		}
		return err
	}
	t.Run("stream_being_opened", func(t *testing.T) {
		srv := startServer(t, zerobuslocal.Options{})
		createTable(t, srv, table, "id BIGINT NOT NULL, name STRING, score DOUBLE")
		srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultCreateDelay, Latency: 20 * time.Second, Persistent: true})
		cfg := serverConfig(srv, table)
		cfg.CreateTimeout = 30 * time.Second
		w := newWrapper(t, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := w.CheckSchema(ctx, eventSchema); err == nil || !strings.Contains(err.Error(), "the stream had not opened") {
			t.Fatalf("CheckSchema: %v, want the stream not opened in time", err)
		}
		err := closeSoon(t, w)
		if err == nil || !strings.Contains(err.Error(), "aborted a stream still being opened (nothing had been sent on it)") ||
			strings.Contains(err.Error(), "unacknowledged") {
			t.Fatalf("Close: %v, want it to name the stream still being opened", err)
		}
	})
	t.Run("send_in_progress", func(t *testing.T) {
		srv := startServer(t, zerobuslocal.Options{})
		createTable(t, srv, table, "id BIGINT NOT NULL, name STRING, score DOUBLE")
		srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
		w := newWrapper(t, serverConfig(srv, table))
		rec := eventBatch(memory.DefaultAllocator, 0, 10)
		defer rec.Release()
		sent := make(chan *core.TransmissionResult, 1)
		go func() {
			res, _ := w.SendBatch(testCtx(t), rec)
			sent <- res
		}()
		deadline := time.Now().Add(10 * time.Second)
		for srv.RecordCount(table) == 0 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		err := closeSoon(t, w)
		if err == nil || !strings.Contains(err.Error(), "aborted the streams with unacknowledged requests") {
			t.Fatalf("Close: %v, want it to name the unacknowledged requests", err)
		}
		if res := <-sent; res.SuccessfulCount != 0 || res.FailedCount != 10 {
			t.Fatalf("SendBatch: %v, want its 10 rows failed", res)
		}
	})
}

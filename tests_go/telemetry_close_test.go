package tests_go

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestCloseWithCollectorDownHonoursItsDeadline: with the OTLP collector
// down, sends succeed, and Close(ctx) with a 1 s deadline returns within
// about that: the final export is given up on when ctx ends (Python's
// shutdown(timeout=1) is this call), instead of waiting the 10 s that bound
// it when ctx has no deadline. A ctx already cancelled (no deadline) gives
// the export only the 0.5 s grace.
func TestCloseWithCollectorDownHonoursItsDeadline(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := lis.Addr().String()
	lis.Close() // nothing listens there: every export is refused

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	deadline, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	for _, tc := range []struct {
		name   string
		ctx    context.Context
		atMost time.Duration
		table  string
	}{
		// Bounds: the deadline or grace plus 4 s for a loaded machine (they
		// were 1-2 s over), all well under the 10 s a wait for the export takes.
		{"1s deadline", deadline, 5 * time.Second, "main.default.collector_down_deadline"},
		{"cancelled", cancelled, 4500 * time.Millisecond, "main.default.collector_down_cancelled"},
		{"no deadline", context.Background(), 4500 * time.Millisecond, "main.default.collector_down_no_deadline"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := tc.table
			cfg := serverConfig(srv, table)
			cfg.ObservabilityEnabled = true
			cfg.OTLPEndpoint = "http://" + down
			tel, err := core.SetupTelemetry(testCtx(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			w, err := core.New(testCtx(t), cfg, core.WithTelemetry(tel))
			if err != nil {
				t.Fatal(err)
			}
			rec := eventBatch(memory.DefaultAllocator, 0, 100)
			defer rec.Release()
			start := time.Now()
			res, err := w.SendBatch(testCtx(t), rec)
			if err != nil || res.SuccessfulCount != 100 {
				t.Fatalf("SendBatch with the collector down: %v, %v", res, err)
			}
			if d := time.Since(start); d > 5*time.Second { // not delayed by the 10 s export
				t.Errorf("SendBatch took %v with the collector down", d)
			}
			start = time.Now()
			_ = w.Close(tc.ctx)
			if d := time.Since(start); d > tc.atMost {
				t.Errorf("Close took %v with the collector down, want at most %v", d, tc.atMost)
			}
			if got := srv.RecordCount(table); got != 100 {
				t.Errorf("server stored %d rows, want 100", got)
			}
		})
	}
}

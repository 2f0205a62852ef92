package tests_go

import (
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// retry_base_delay_ms=0 (accepted by the original 0.8.1: its backoff was
// 0 × 2^n) retries without waiting, also with the default 30 s cap: the
// backoff is asked for delays bounded by NoRetryDelay, and the batch is
// stored after the server refused the first create.
func TestRetryBaseDelayZeroRetriesWithoutWaiting(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.retry_zero"
	cfg := serverConfig(srv, table)
	loaded, err := core.ConfigFromSettings(map[string]any{"retry_base_delay_ms": 0})
	if err != nil {
		t.Fatal(err)
	}
	cfg.RetryBaseDelay, cfg.RetryMaxDelay = loaded.RetryBaseDelay, loaded.RetryMaxDelay // 0 and the 30 s default
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError})
	var mu sync.Mutex
	var bounds [][2]time.Duration
	w := newWrapper(t, cfg, core.WithRetryBackoff(func(_ int, base, max time.Duration) time.Duration {
		mu.Lock()
		bounds = append(bounds, [2]time.Duration{base, max})
		mu.Unlock()
		return max
	}))
	rec := eventBatch(memory.DefaultAllocator, 0, 5)
	defer rec.Release()
	if res, err := w.SendBatch(testCtx(t), rec); err != nil || res.SuccessfulCount != 5 {
		t.Fatalf("SendBatch: %v %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bounds) == 0 {
		t.Fatalf("backoff asked %d times, want a retry after the refused create", len(bounds))
	}
	for _, b := range bounds {
		if b[0] > core.NoRetryDelay || b[1] > core.NoRetryDelay {
			t.Errorf("backoff bounds base %v, max %v; want at most NoRetryDelay (%v)", b[0], b[1], core.NoRetryDelay)
		}
	}
	if got := len(storedIDs(t, srv, table)); got != 5 {
		t.Errorf("stored %d rows, want 5", got)
	}
}

package tests_go

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// When flush_timeout_ms (not the caller's context) ends Flush or Close, the
// error says so and names the key, and is still a context.DeadlineExceeded
// (KindCanceled); a caller's own deadline is not blamed on the key. Both
// transports, the server holding back every ack.
func TestFlushTimeoutNamesTheKey(t *testing.T) {
	const want = "flush_timeout_ms (300 ms)"
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.flush_timeout_" + tr
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
			cfg := serverConfig(srv, table)
			cfg.Transport = tr
			cfg.AckTimeout = time.Minute // only the flush bound ends the wait
			cfg.FlushTimeout = 300 * time.Millisecond
			stalled := func(cfg core.Config) *core.Wrapper {
				w := newWrapper(t, cfg)
				rec := eventBatch(memory.DefaultAllocator, 0, 10)
				defer rec.Release()
				f := w.SendBatchAsync(testCtx(t), rec)
				t.Cleanup(func() { // Close aborts the stalled streams, which resolves f
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					defer cancel()
					_ = w.Close(ctx)
					<-f.Ready()
				})
				return w
			}
			check := func(what string, err error, named bool) {
				t.Helper()
				t.Logf("%s: %v", what, err)
				if !errors.Is(err, context.DeadlineExceeded) || core.KindOf(err) != core.KindCanceled {
					t.Fatalf("%s: %v (kind %s), want a context.DeadlineExceeded of kind canceled", what, err, core.KindOf(err))
				}
				if got := strings.Contains(err.Error(), want) && strings.Contains(err.Error(), "raise flush_timeout_ms"); got != named {
					t.Fatalf("%s: %q; naming %q: %v, want %v", what, err, want, got, named)
				}
			}

			w := stalled(cfg)
			start := time.Now()
			err := w.Flush(context.Background())
			if took := time.Since(start); took < 250*time.Millisecond || took > 10*time.Second {
				t.Errorf("Flush took %v, want about the flush timeout", took)
			}
			check("Flush", err, true)
			check("Close", w.Close(context.Background()), true)

			long := cfg
			long.FlushTimeout = time.Minute
			w = stalled(long)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			check("Flush with the caller's deadline", w.Flush(ctx), false)
			check("Close with the caller's deadline", w.Close(ctx), false)
		})
	}
}

package tests_go

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestNoGoroutinesAfterCloseOnFailure: a Wrapper whose sends fail (bad
// credentials: the token endpoint answers 401; the server down: nothing
// listens on its ports; the token endpoint down while the gRPC endpoint is
// up), on either transport, leaves no goroutine behind once closed. The
// fault matrix covers faults of a working server; these paths end before a
// stream ever opens.
func TestNoGoroutinesAfterCloseOnFailure(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	down, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	downCfg := serverConfig(down, "main.default.down")
	_ = down.Close() // its ports now refuse connections
	cases := []struct {
		name string
		cfg  func() core.Config
	}{
		{"bad credentials", func() core.Config {
			cfg := serverConfig(srv, "main.default.badcreds")
			cfg.ClientSecret = "not-the-secret"
			return cfg
		}},
		{"server down", func() core.Config { return downCfg }},
		{"token endpoint down", func() core.Config {
			cfg := serverConfig(srv, "main.default.tokendown")
			cfg.UnityCatalogURL = downCfg.UnityCatalogURL
			return cfg
		}},
	}
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		for _, tc := range cases {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				cycle := func() {
					cfg := tc.cfg()
					cfg.Transport = transport
					cfg.RetryMaxAttempts = 2
					w, err := core.New(context.Background(), cfg, core.WithRetryBackoff(noWait))
					if err != nil {
						t.Fatalf("core.New: %v", err)
					}
					rec := eventBatch(memory.DefaultAllocator, 0, 5)
					res, err := w.SendBatch(testCtx(t), rec)
					rec.Release()
					if err == nil || res == nil || res.SuccessfulCount != 0 || res.FailedCount != 5 {
						t.Errorf("SendBatch: err %v, result %v; want all 5 rows failed", err, res)
					}
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					_ = w.Close(ctx)
				}
				cycle() // warm-up: goroutines started once per process (gRPC, HTTP)
				base := runtime.NumGoroutine()
				for range 5 {
					cycle()
				}
				checkGoroutines(t, base)
			})
		}
	}
}

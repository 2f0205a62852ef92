package telemetry

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// A Setup's logger stops receiving OpenTelemetry's internal records once
// that Setup is shut down (its files are closed then), unless a later Setup
// took its place, whose logger keeps them.
func TestOTelLoggerReleasedAtShutdown(t *testing.T) {
	setup := func() *Providers {
		p, err := Setup(context.Background(), ExportConfig{
			Enabled: true, Endpoint: "http://127.0.0.1:1", LogLevel: "warn", Interval: time.Hour,
			LogHandler: slog.DiscardHandler,
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	shutdown := func(p *Providers) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = p.Shutdown(ctx) // the collector is down: its error is not this test's
	}
	first := setup()
	if first.otelLog == nil || otelLogTarget.Load() != first.otelLog {
		t.Fatalf("after Setup the destination is not its logger")
	}
	second := setup()
	shutdown(first)
	if otelLogTarget.Load() != second.otelLog {
		t.Errorf("shutting the first Setup down took the destination from the later one")
	}
	shutdown(second)
	if l := otelLogTarget.Load(); l != nil {
		t.Errorf("after every Setup was shut down the destination is still a logger (%p)", l)
	}
}

package core_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// noPanic runs f, turning a panic into a test error naming what.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("%s panicked: %v", what, p)
		}
	}()
	f()
}

// TestTelemetryNilSafe: (*Telemetry)(nil) and a zero Telemetry panicked in
// Shutdown, ForceFlush and Options, and Shutdown(nil) panicked inside its
// sync.Once, so the final export was lost for a later Shutdown(ctx) (s17
// review goapi L1). They now do nothing, and a nil ctx counts as
// context.Background(): Shutdown(nil) exports what is left.
func TestTelemetryNilSafe(t *testing.T) {
	ctx := context.Background()
	var nilCtx context.Context
	for name, tel := range map[string]*core.Telemetry{"nil": nil, "zero": {}} {
		noPanic(t, name+" Shutdown", func() {
			if err := tel.Shutdown(ctx); err != nil {
				t.Errorf("%s Shutdown = %v", name, err)
			}
		})
		noPanic(t, name+" Shutdown(nil)", func() { _ = tel.Shutdown(nilCtx) })
		noPanic(t, name+" ForceFlush", func() {
			if err := tel.ForceFlush(ctx); err != nil {
				t.Errorf("%s ForceFlush = %v", name, err)
			}
		})
		noPanic(t, name+" Options", func() { _ = tel.Options() })
	}
	if opts := (*core.Telemetry)(nil).Options(); opts != nil {
		t.Errorf("nil Telemetry's Options = %v, want none", opts)
	}
	noPanic(t, "New/Close WithTelemetry(zero)", func() {
		cfg := core.DefaultConfig()
		cfg.TableName, cfg.WriterDisabled = "main.default.zero_tel", true
		w, err := core.New(ctx, cfg, core.WithTelemetry(&core.Telemetry{}))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Close(ctx); err != nil {
			t.Errorf("Close = %v", err)
		}
	})

	dir := t.TempDir()
	cfg := core.DefaultConfig()
	cfg.TableName, cfg.WriterDisabled = "main.default.tel_nil_ctx", true
	cfg.ObservabilityEnabled, cfg.ObservabilityOutputDir, cfg.ObservabilityInterval = true, dir, time.Hour
	tel, err := core.SetupTelemetry(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tel.MeterProvider.Meter("s17").Int64Counter("s17_goapi_probe")
	if err != nil {
		t.Fatal(err)
	}
	c.Add(ctx, 7)
	noPanic(t, "Shutdown(nil)", func() {
		if err := tel.Shutdown(nilCtx); err != nil {
			t.Errorf("Shutdown(nil) = %v", err)
		}
	})
	if err := tel.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil || !strings.Contains(string(b), "s17_goapi_probe") {
		t.Errorf("metrics.jsonl after Shutdown(nil): %v, %d bytes; want the probe counter exported", err, len(b))
	}
}

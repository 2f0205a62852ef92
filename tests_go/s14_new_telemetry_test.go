package tests_go

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestNewSetsUpTelemetryFromConfig: a Config loaded as a Go user would (no
// telemetry option) with observability_enabled, observability_output_dir,
// log_level and log_file exports and logs, as the CLI and Python do with
// the same keys; Close shuts the export down (s14 review-config 1: New
// ignored them silently).
func TestNewSetsUpTelemetryFromConfig(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.s14_new_telemetry"
	dir := t.TempDir()
	cfg := serverConfig(srv, table)
	cfg.ObservabilityEnabled = true
	cfg.ObservabilityOutputDir = filepath.Join(dir, "otel")
	cfg.ObservabilityInterval = time.Hour // only the export at Close
	cfg.LogLevel = "debug"
	cfg.LogFile = filepath.Join(dir, "log.jsonl")

	w, err := core.New(testCtx(t), cfg, core.WithRetryBackoff(noWait))
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	rec := eventBatch(mem, 0, 10)
	res, err := w.SendBatch(testCtx(t), rec)
	rec.Release()
	if err != nil || res.SuccessfulCount != 10 {
		t.Fatalf("SendBatch: %v, %v", res, err)
	}
	if err := w.Close(testCtx(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := srv.RecordCount(table); got != 10 {
		t.Errorf("server stored %d rows, want 10", got)
	}
	var metrics, spans []string
	for _, f := range readOTLPLines(t, filepath.Join(dir, "otel", "metrics.jsonl")) {
		for _, rm := range f.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					metrics = append(metrics, m.Name)
				}
			}
		}
	}
	for _, f := range readOTLPLines(t, filepath.Join(dir, "otel", "traces.jsonl")) {
		for _, rs := range f.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					spans = append(spans, s.Name)
				}
			}
		}
	}
	if !slices.Contains(metrics, "zerobus.rows.sent") {
		t.Errorf("metrics.jsonl lacks zerobus.rows.sent: %v", metrics)
	}
	if !slices.Contains(spans, "zerobus.SendBatch") {
		t.Errorf("traces.jsonl lacks zerobus.SendBatch: %v", spans)
	}
	logs, err := os.ReadFile(cfg.LogFile)
	if err != nil {
		t.Fatalf("log_file: %v", err)
	}
	if !strings.Contains(string(logs), `"msg":"zerobus wrapper created"`) {
		t.Errorf("log_file lacks New's debug record:\n%s", logs)
	}
}

// TestNewLogFileOnly: log_file without observability_enabled writes the log
// file (New sets up only the logger).
func TestNewLogFileOnly(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.TableName = "main.default.s14_log_only"
	cfg.WriterDisabled = true
	cfg.DebugEnabled = true
	cfg.DebugOutputDir = t.TempDir()
	cfg.LogLevel = "debug"
	cfg.LogFile = filepath.Join(t.TempDir(), "z.log")
	w, err := core.New(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	if err := w.Close(testCtx(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	logs, err := os.ReadFile(cfg.LogFile)
	if err != nil || !strings.Contains(string(logs), `"msg":"zerobus wrapper created"`) {
		t.Errorf("log_file: %v\n%s", err, logs)
	}
}

// TestNewTelemetryOptionWins: a telemetry option takes the place of its part
// of the Config's observability settings only: with WithLogger the log file
// is not written (the logs go to the option, with a warning naming
// log_file), while the metrics and traces are still exported where Config
// says (s16: any option used to switch all of them off silently).
func TestNewTelemetryOptionWins(t *testing.T) {
	dir := t.TempDir()
	cfg := core.DefaultConfig()
	cfg.TableName = "main.default.s14_option_wins"
	cfg.WriterDisabled = true
	cfg.DebugEnabled = true
	cfg.DebugOutputDir = t.TempDir()
	cfg.ObservabilityEnabled = true
	cfg.ObservabilityOutputDir = filepath.Join(dir, "otel")
	cfg.LogFile = filepath.Join(dir, "z.log")
	var got strings.Builder
	w, err := core.New(testCtx(t), cfg, core.WithLogger(slog.New(slog.NewTextHandler(&got, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	if err := w.Close(testCtx(t)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(cfg.LogFile); err == nil {
		t.Errorf("with WithLogger, New still wrote log_file %s", cfg.LogFile)
	}
	if _, err := os.Stat(filepath.Join(cfg.ObservabilityOutputDir, "metrics.jsonl")); err != nil {
		t.Errorf("with WithLogger, the metrics were not exported to observability_output_dir: %v", err)
	}
	if !strings.Contains(got.String(), "zerobus wrapper created") || !strings.Contains(got.String(), "log_file (WithLogger)") {
		t.Errorf("WithLogger's logger got %q", got.String())
	}
}

// TestNewTelemetrySetupError: an observability_output_dir New cannot use is
// a *ConfigurationError naming it (before, New accepted it and wrote nothing).
func TestNewTelemetrySetupError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := core.DefaultConfig()
	cfg.TableName = "main.default.s14_setup_error"
	cfg.WriterDisabled = true
	cfg.DebugEnabled = true
	cfg.DebugOutputDir = t.TempDir()
	cfg.ObservabilityEnabled = true
	cfg.ObservabilityOutputDir = file
	w, err := core.New(context.Background(), cfg)
	var ce *core.ConfigurationError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "ObservabilityOutputDir") {
		if w != nil {
			_ = w.Close(context.Background())
		}
		t.Fatalf("core.New with observability_output_dir a file = %v, want a ConfigurationError naming it", err)
	}
}

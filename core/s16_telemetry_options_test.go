package core_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// A telemetry option replaces only its part of the telemetry the Config
// asks for: WithLogger leaves the metrics and traces files written, and
// WithMeterProvider the traces file and the log file; New warns once naming
// what was replaced, and the replaced logger's files (logs.jsonl,
// log_file) are not created. Any of them used to switch off observability_enabled,
// observability_output_dir and log_file silently.
func TestTelemetryOptionReplacesOnlyItsPart(t *testing.T) {
	srv := localServer(t)
	for _, c := range []struct {
		name       string
		opt        func(logs *bytes.Buffer) core.Option
		written    []string // files that must not be empty
		absent     []string // files that must not be created
		warnedIn   string   // "option" (the given logger) or "file" (log_file)
		warnNaming []string
	}{
		{"WithLogger", func(logs *bytes.Buffer) core.Option { return core.WithLogger(slog.New(slog.NewTextHandler(logs, nil))) },
			[]string{"metrics.jsonl", "traces.jsonl"}, []string{"logs.jsonl", "my.log"}, "option", []string{"log_file (WithLogger)", "observability_enabled's logs (WithLogger)"}},
		{"WithMeterProvider", func(*bytes.Buffer) core.Option { return core.WithMeterProvider(metricnoop.NewMeterProvider()) },
			[]string{"traces.jsonl", "my.log"}, nil, "file", []string{"observability_enabled's metrics (WithMeterProvider)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := localConfig(srv, "main.default.s16_telopt_"+strings.ToLower(c.name))
			cfg.ObservabilityEnabled, cfg.ObservabilityOutputDir, cfg.LogFile = true, dir, filepath.Join(dir, "my.log")
			var logs bytes.Buffer
			ctx := context.Background()
			w, err := core.New(ctx, cfg, c.opt(&logs))
			if err != nil {
				t.Fatal(err)
			}
			rec := idBatch(0, 3)
			defer rec.Release()
			if res, err := w.SendBatch(ctx, rec); err != nil || res.Err != nil {
				t.Fatalf("SendBatch: %v, %v", err, res.Err)
			}
			closeWrapper(t, w)
			for _, name := range c.written {
				if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.Size() == 0 {
					t.Errorf("%s: %v (size %v), want it written", name, err, fi)
				}
			}
			for _, name := range c.absent { // the replaced logger's files: an empty logs.jsonl was left before
				if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
					t.Errorf("%s: created (%v), want no file: the logs go to the given logger", name, err)
				}
			}
			warnings := logs.String()
			if c.warnedIn == "file" {
				b, _ := os.ReadFile(cfg.LogFile)
				warnings = string(b)
			}
			for _, want := range c.warnNaming {
				if strings.Count(warnings, want) != 1 {
					t.Errorf("warning naming %q: %d times in\n%s", want, strings.Count(warnings, want), warnings)
				}
			}
		})
	}
}

// TestWithLoggerGetsOpenTelemetrysOwnErrors: with WithLogger, the errors
// OpenTelemetry reports itself (a malformed OTEL_EXPORTER_OTLP_HEADERS) go
// to the given logger, redacted. When WithLogger stopped logs.jsonl being
// created (s17), they went nowhere: not to stderr, not to the logger.
func TestWithLoggerGetsOpenTelemetrysOwnErrors(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "api-key s17-not-printed")
	srv := localServer(t)
	cfg := localConfig(srv, "main.default.s17_otel_errors")
	cfg.ObservabilityEnabled, cfg.OTLPEndpoint = true, "http://127.0.0.1:9"
	var logs syncBuffer
	w, err := core.New(context.Background(), cfg, core.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	closeWrapper(t, w)
	got := logs.String()
	if !strings.Contains(got, "zerobus: OpenTelemetry: parse headers") || strings.Contains(got, "s17-not-printed") {
		t.Errorf("the given logger got:\n%s\nwant OpenTelemetry's header error, redacted", got)
	}
}

package tests_go

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// otlpFile is the part of an OTLP/JSON export request (one line of
// metrics.jsonl or traces.jsonl) these tests read.
type otlpFile struct {
	ResourceMetrics []struct {
		ScopeMetrics []struct {
			Scope   struct{ Name string }
			Metrics []struct{ Name, Unit string }
		}
	}
	ResourceSpans []struct {
		ScopeSpans []struct {
			Spans []struct {
				Name, TraceID, SpanID, ParentSpanID string `json:",omitempty"`
				Kind                                int
			}
		}
	}
}

// readOTLPLines decodes every line of an OTLP JSON lines file.
func readOTLPLines(t *testing.T, path string) []otlpFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	var out []otlpFile
	for i, line := range bytes.Split(bytes.TrimSpace(b), []byte{'\n'}) {
		var f otlpFile
		if err := json.Unmarshal(line, &f); err != nil {
			t.Fatalf("%s line %d is not JSON: %v", path, i+1, err)
		}
		out = append(out, f)
	}
	return out
}

// TestSetupTelemetryFile runs a Wrapper against the local server with
// telemetry in file mode, then reads the OTLP JSON back.
func TestSetupTelemetryFile(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.telemetry_file"
	cfg := serverConfig(srv, table)
	dir := filepath.Join(t.TempDir(), "otel")
	cfg.ObservabilityEnabled = true
	cfg.ObservabilityOutputDir = dir
	cfg.LogLevel = "debug"

	tel, err := core.SetupTelemetry(context.Background(), cfg)
	if err != nil {
		t.Fatalf("SetupTelemetry: %v", err)
	}
	w, err := core.New(context.Background(), cfg, append(tel.Options(), core.WithRetryBackoff(noWait))...)
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	const rows = 120
	rec := eventBatch(mem, 0, rows)
	res, err := w.SendBatch(testCtx(t), rec)
	rec.Release()
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	checkInvariant(t, res, rows)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := tel.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := tel.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown = %v, want nil again", err)
	}
	if got := srv.RecordCount(table); got != rows {
		t.Errorf("server stored %d rows, want %d", got, rows)
	}

	units := map[string]string{}
	for _, f := range readOTLPLines(t, filepath.Join(dir, "metrics.jsonl")) {
		for _, rm := range f.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					units[m.Name] = m.Unit
				}
			}
		}
	}
	wantUnits := map[string]string{
		"zerobus.batches.sent":        "{batch}",
		"zerobus.rows.sent":           "{row}",
		"zerobus.bytes.sent":          "By",
		"zerobus.send.duration":       "s",
		"zerobus.conversion.duration": "s",
		"zerobus.ack.duration":        "s",
		"zerobus.inflight.requests":   "{request}",
		"zerobus.inflight.bytes":      "By",
		"zerobus.stream.creations":    "{stream}",
		"zerobus.token.fetches":       "{fetch}",
	}
	for name, want := range wantUnits {
		if got, ok := units[name]; !ok || got != want {
			t.Errorf("metrics.jsonl: %s unit = %q (present %v), want %q", name, got, ok, want)
		}
	}

	hexID := regexp.MustCompile(`^[0-9a-f]+$`)
	spans := map[string]int{}
	for _, f := range readOTLPLines(t, filepath.Join(dir, "traces.jsonl")) {
		for _, rs := range f.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					spans[s.Name]++
					if len(s.TraceID) != 32 || !hexID.MatchString(s.TraceID) || len(s.SpanID) != 16 || !hexID.MatchString(s.SpanID) {
						t.Errorf("span %s ids %q/%q are not lowercase hex of 16/8 bytes", s.Name, s.TraceID, s.SpanID)
					}
				}
			}
		}
	}
	for _, name := range []string{"zerobus.SendBatch", "zerobus.convert", "zerobus.transmit", "zerobus.wait_acks", "zerobus.stream.create", "zerobus.token.fetch"} {
		if spans[name] == 0 {
			t.Errorf("traces.jsonl has no %s span; spans: %v", name, spans)
		}
	}
	if got := spans["zerobus.SendBatch"]; got != 1 {
		t.Errorf("traces.jsonl has %d zerobus.SendBatch spans, want 1", got)
	}

	logs, err := os.ReadFile(filepath.Join(dir, "logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, line := range bytes.Split(bytes.TrimSpace(logs), []byte{'\n'}) {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("logs.jsonl line %q is not JSON: %v", line, err)
		}
		msgs = append(msgs, rec.Msg)
	}
	if len(msgs) == 0 {
		t.Errorf("logs.jsonl is empty at log level debug")
	}
	// Nothing written anywhere may contain the secret.
	for _, name := range []string{"metrics.jsonl", "traces.jsonl", "logs.jsonl"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(srv.ClientSecret())) {
			t.Errorf("%s contains the client secret", name)
		}
	}
}

func TestSetupTelemetryErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		mutate     func(*core.Config)
		wantFields []string // ConfigProblem.Field values, sorted; nil = success
	}{
		{"only observability fields matter", func(c *core.Config) { *c = core.Config{OTLPProtocol: "http"} }, nil},
		{"enums", func(c *core.Config) { c.OTLPProtocol = "udp"; c.LogLevel = "loud" }, []string{"LogLevel", "OTLPProtocol"}},
		{"endpoint without scheme", func(c *core.Config) { c.OTLPEndpoint = "127.0.0.1:4317" }, []string{"OTLPEndpoint"}},
		{"grpc endpoint with a path", func(c *core.Config) { c.OTLPEndpoint = "http://127.0.0.1:4317/otlp" }, []string{"OTLPEndpoint"}},
		{"negative interval", func(c *core.Config) { c.ObservabilityInterval = -time.Second }, []string{"ObservabilityInterval"}},
		{"output dir is a file", func(c *core.Config) { c.ObservabilityEnabled = true; c.ObservabilityOutputDir = file }, []string{"ObservabilityOutputDir"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := core.DefaultConfig() // TableName etc. empty: not SetupTelemetry's business
			tc.mutate(&cfg)
			tel, err := core.SetupTelemetry(context.Background(), cfg)
			if tc.wantFields == nil {
				if err != nil {
					t.Fatalf("SetupTelemetry: %v", err)
				}
				if err := tel.Shutdown(context.Background()); err != nil {
					t.Errorf("Shutdown: %v", err)
				}
				return
			}
			if err == nil {
				_ = tel.Shutdown(context.Background())
				t.Fatalf("SetupTelemetry succeeded, want problems on %v", tc.wantFields)
			}
			var ce *core.ConfigurationError
			if !errors.As(err, &ce) || core.KindOf(err) != core.KindConfiguration {
				t.Fatalf("error %v (%T) is not a *ConfigurationError", err, err)
			}
			var fields []string
			for _, p := range ce.Problems {
				fields = append(fields, p.Field)
				if p.YAMLKey == "" || p.EnvVar == "" || p.Message == "" {
					t.Errorf("problem %+v lacks its YAML key, env var or message", p)
				}
			}
			slices.Sort(fields)
			if diff := cmp.Diff(tc.wantFields, fields); diff != "" {
				t.Errorf("problem fields (-want +got):\n%s\n%v", diff, err)
			}
		})
	}
}

// TestSetupTelemetryDisabled: without ObservabilityEnabled nothing is
// exported or written, and the Wrapper still works with the options.
func TestSetupTelemetryDisabled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "never")
	cfg := core.Config{TableName: "main.default.t", WriterDisabled: true, ObservabilityOutputDir: dir, LogLevel: "error"}
	tel, err := core.SetupTelemetry(context.Background(), cfg)
	if err != nil {
		t.Fatalf("SetupTelemetry: %v", err)
	}
	if tel.Logger.Enabled(context.Background(), slog.LevelWarn) || !tel.Logger.Enabled(context.Background(), slog.LevelError) {
		t.Errorf("logger levels: want error and above only (LogLevel error)")
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// The output dir that disabled telemetry ignores is accepted (New warns
	// about it) and stays unwritten; SetupTelemetry only builds no-ops.
	w, err := core.New(context.Background(), cfg, tel.Options()...)
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	rec := eventBatch(mem, 0, 10)
	_, err = w.SendBatch(testCtx(t), rec)
	rec.Release()
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := tel.ForceFlush(context.Background()); err != nil {
		t.Errorf("ForceFlush: %v", err)
	}
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("disabled telemetry touched ObservabilityOutputDir: stat = %v", err)
	}
}

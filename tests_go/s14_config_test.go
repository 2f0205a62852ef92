package tests_go

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestExportSettingsWithoutObservabilityWarn: an export setting given while
// ObservabilityEnabled is false was accepted and ignored silently (s14
// review-config 4). New logs a warning naming them; Validate, New and
// TelemetryConfigFromEnv accept them, as an environment set for other
// programs (or the original's env file) may hold them (s14 review-diff2 1:
// refusing them stopped `zerobus local` for OTLP_ENDPOINT with OTLP_ENABLED
// false). The defaults (DefaultConfig's protocol and interval) are not
// "given".
func TestExportSettingsWithoutObservabilityWarn(t *testing.T) {
	base := core.DefaultConfig()
	base.TableName = "main.default.t"
	base.WriterDisabled = true
	base.DebugEnabled = true
	base.DebugOutputDir = t.TempDir()
	for _, tc := range []struct {
		name   string
		mutate func(*core.Config)
		want   string // in the warning; "" for none
	}{
		{"defaults", func(c *core.Config) {}, ""},
		{"endpoint", func(c *core.Config) { c.OTLPEndpoint = "http://127.0.0.1:4317" }, "so otlp_endpoint exports nothing"},
		{"output dir", func(c *core.Config) { c.ObservabilityOutputDir = "/tmp/x" }, "so observability_output_dir exports nothing"},
		{"protocol", func(c *core.Config) { c.OTLPProtocol = "http" }, "so otlp_protocol exports nothing"},
		{"interval", func(c *core.Config) { c.ObservabilityInterval = time.Second }, "so observability_interval_secs exports nothing"},
		{"two", func(c *core.Config) { c.OTLPEndpoint = "http://127.0.0.1:4317"; c.ObservabilityOutputDir = "/tmp/x" },
			"so otlp_endpoint and observability_output_dir export nothing: set observability_enabled to export, or leave them unset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.mutate(&cfg)
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			var logs strings.Builder
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			w, err := core.New(testCtx(t), cfg, core.WithLogger(logger))
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			_ = w.Close(testCtx(t))
			got := logs.String()
			if tc.want == "" && strings.Contains(got, "export nothing") || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("New's warnings %q; want %q", got, tc.want)
			}
		})
	}
	env := map[string]string{"OTLP_OUTPUT_DIR": "/tmp/x", "OTLP_WRITE_INTERVAL_SECS": "30"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if _, err := core.TelemetryConfigFromEnv(lookup); err != nil {
		t.Errorf("TelemetryConfigFromEnv with OTLP_OUTPUT_DIR and OTLP_WRITE_INTERVAL_SECS alone: %v", err)
	}
}

// TestWriterDisabledNeedsADebugKind: WriterDisabled with DebugEnabled whose
// per-kind switches are both given false sends nothing and writes nothing;
// Validate accepted it (s14 review-config 5) and now refuses it, saying why.
// Without WriterDisabled the same switches are valid (as in the original)
// and New logs a warning that no debug file is written.
func TestWriterDisabledNeedsADebugKind(t *testing.T) {
	cfg := core.Config{TableName: "main.default.t", WriterDisabled: true, DebugEnabled: true,
		DebugKindsExplicit: true, DebugOutputDir: t.TempDir()}
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "WriterDisabled") ||
		!strings.Contains(err.Error(), "debug_enabled writes no file (debug_arrow_enabled and debug_protobuf_enabled are both false)") {
		t.Errorf("Validate = %v; want a problem on WriterDisabled", err)
	}
	cfg.DebugArrowEnabled = true
	if err := cfg.Validate(); err != nil {
		t.Errorf("with debug_arrow_enabled: %v", err)
	}

	srv := startServer(t, zerobuslocal.Options{})
	cfg = serverConfig(srv, "main.default.s14_no_kind")
	cfg.DebugEnabled, cfg.DebugKindsExplicit, cfg.DebugOutputDir = true, true, t.TempDir()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("sending, debug_enabled with no kind: %v", err)
	}
	var logs strings.Builder
	w, err := core.New(testCtx(t), cfg, core.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Close(testCtx(t))
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "no debug file is written") {
		t.Errorf("New logged %q; want a warning that no debug file is written", logs.String())
	}
}

// TestProblemsNameTheEnvironmentOnlyAsRead: a configuration built in code
// does not read the environment, yet its problems said "(env
// ZEROBUS_CLIENT_SECRET)" as if to set that variable (s14 review-config 6).
// They say when the variable is read; problems of settings read from the
// environment name it plainly; those of a YAML file name the file only.
func TestProblemsNameTheEnvironmentOnlyAsRead(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.Endpoint, cfg.TableName, cfg.UnityCatalogURL = "http://127.0.0.1:9", "main.default.t", "http://127.0.0.1:9"
	_, err := core.New(testCtx(t), cfg)
	for _, want := range []string{
		"ClientSecret (yaml client_secret, env ZEROBUS_CLIENT_SECRET when loading from the environment): is required",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("New = %v; want %q", err, want)
		}
	}
	if err == nil || !strings.Contains(core.ByKeyError(err).Error(), "client_id (env ZEROBUS_CLIENT_ID when loading from the environment): is required") {
		t.Errorf("by key: %v", core.ByKeyError(err))
	}
	env := map[string]string{"RETRY_MAX_ATTEMPTS": "lots"}
	fromEnv := core.DefaultConfig()
	err = fromEnv.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil || !strings.Contains(err.Error(), "RetryMaxAttempts (yaml retry_max_attempts, env RETRY_MAX_ATTEMPTS): ") {
		t.Errorf("ApplyEnv = %v; want the variable named as read", err)
	}
	yml := filepath.Join(t.TempDir(), "z.yaml")
	if err := os.WriteFile(yml, []byte("retry_max_attempts: lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = core.LoadConfigYAML(yml)
	if err == nil || strings.Contains(err.Error(), "env ") || !strings.Contains(err.Error(), "RetryMaxAttempts (yaml retry_max_attempts): ") {
		t.Errorf("LoadConfigYAML = %v; want no variable named", err)
	}
}

// TestSmallConfigBounds: observability_max_file_mb had no upper bound (2^44
// overflowed lumberjack's byte limit, and every telemetry and log file
// stayed empty), and an integer out of range was "not an integer" (s14
// review-config 9, 10).
func TestSmallConfigBounds(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.TableName, cfg.WriterDisabled, cfg.DebugEnabled, cfg.DebugOutputDir = "main.default.t", true, true, t.TempDir()
	cfg.TelemetryMaxFileMB = int(^uint(0) >> 1) // the largest int (2^63-1; 2^31-1 on 32-bit)
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "TelemetryMaxFileMB") ||
		!strings.Contains(err.Error(), "must be at most 1048576 (1 TiB)") {
		t.Errorf("Validate with TelemetryMaxFileMB MaxInt = %v", err)
	}
	if _, err := core.SetupTelemetry(testCtx(t), cfg); err == nil {
		t.Error("SetupTelemetry accepted TelemetryMaxFileMB 2^44")
	}
	cfg.TelemetryMaxFileMB = 1 << 20
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate with TelemetryMaxFileMB 2^20: %v", err)
	}

	for key, want := range map[string]string{
		"retry_max_attempts":        "100000000000000000000 is out of range: at least -9223372036854775808, at most 9223372036854775807",
		"observability_max_file_mb": "100000000000000000000 is out of range",
		"max_inflight_bytes":        "100000000000000000000 is out of range: at most 4611686018427387904 bytes (4 EiB)",
	} {
		_, err := core.ConfigFromSettings(map[string]any{key: "100000000000000000000"})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "is not an") {
			t.Errorf("%s = 10^20: %v; want %q", key, err, want)
		}
	}
	_, err := core.ConfigFromSettings(map[string]any{"max_inflight_bytes": "99999999999GiB"})
	if err == nil || !strings.Contains(err.Error(), "is out of range") {
		t.Errorf("max_inflight_bytes 99999999999GiB: %v", err)
	}
}

// TestOriginalTelemetryEnvNames: 0.8.1's OTLP_WRITE_INTERVAL_SECS and
// OTLP_LOG_LEVEL were silently ignored (s14 review-config 13); they are
// second names of observability_interval_secs and log_level.
func TestOriginalTelemetryEnvNames(t *testing.T) {
	env := map[string]string{"OTLP_WRITE_INTERVAL_SECS": "7", "OTLP_LOG_LEVEL": "warn"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg := core.DefaultConfig()
	if err := cfg.ApplyEnv(lookup); err != nil {
		t.Fatal(err)
	}
	if cfg.ObservabilityInterval != 7*time.Second || cfg.LogLevel != "warn" {
		t.Errorf("interval %v, log level %q; want 7s, warn", cfg.ObservabilityInterval, cfg.LogLevel)
	}
	env["OTLP_INTERVAL_SECS"], env["ZEROBUS_LOG_LEVEL"] = "3", "error" // the primary names win
	cfg = core.DefaultConfig()
	if err := cfg.ApplyEnv(lookup); err != nil {
		t.Fatal(err)
	}
	if cfg.ObservabilityInterval != 3*time.Second || cfg.LogLevel != "error" {
		t.Errorf("interval %v, log level %q; want 3s, error", cfg.ObservabilityInterval, cfg.LogLevel)
	}
}

package core_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestS18ConfigShowsWhatWasSet: the printed and logged config showed the
// sentinels of an explicit 0 (retry_base_delay: 1ns, debug_max_file_size:
// 1) rather than what was set (s18 review-config L1).
func TestS18ConfigShowsWhatWasSet(t *testing.T) {
	cfg, err := core.ParseConfigYAML([]byte("retry_base_delay_ms: 0\nretry_max_delay_ms: 0\ndebug_max_file_size: 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	slog.New(slog.NewTextHandler(&logs, nil)).Info("cfg", "config", cfg)
	for _, s := range []string{cfg.String(), logs.String()} {
		for _, want := range []string{"retry_base_delay", "retry_max_delay", "debug_max_file_size"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s missing in %s", want, s)
			}
		}
		if strings.Contains(s, "1ns") || strings.Contains(s, "debug_max_file_size: 1,") || strings.Contains(s, "debug_max_file_size=1 ") {
			t.Errorf("a sentinel is shown: %s", s)
		}
		if strings.Count(s, "0 (no wait)") != 2 || !strings.Contains(s, "0 (rotate every write)") {
			t.Errorf("want 0 (no wait) twice and 0 (rotate every write): %s", s)
		}
	}
	if s := core.DefaultConfig().String(); !strings.Contains(s, "retry_base_delay: 100ms") || !strings.Contains(s, "debug_max_file_size: 134217728") {
		t.Errorf("defaults: %s", s)
	}
}

// TestS18ExportWarningGrammar: "so otlp_endpoint export nothing" for one
// key (s18 review-config L6).
func TestS18ExportWarningGrammar(t *testing.T) {
	for _, c := range []struct {
		endpoint, dir, want string
	}{
		{"http://127.0.0.1:4317", "", "so otlp_endpoint exports nothing:"},
		{"http://127.0.0.1:4317", "/tmp/x", "so otlp_endpoint and observability_output_dir export nothing:"},
	} {
		cfg := core.DefaultConfig()
		cfg.TableName, cfg.WriterDisabled, cfg.DebugArrowEnabled, cfg.DebugOutputDir = "main.default.t", true, true, t.TempDir()
		cfg.OTLPEndpoint, cfg.ObservabilityOutputDir = c.endpoint, c.dir
		var logs strings.Builder
		w, err := core.New(context.Background(), cfg, core.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err != nil {
			t.Fatal(err)
		}
		_ = w.Close(context.Background())
		if !strings.Contains(logs.String(), c.want) {
			t.Errorf("logs lack %q:\n%s", c.want, logs.String())
		}
	}
}

package core_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// observability_max_file_mb and observability_max_backups rotate the log
// and telemetry files: with none written they do nothing, and the one rule
// of the settings accepted and unused (IgnoredExportSettings, which New
// warns with and the Python package takes) names them, once; with a file
// (log_file, or observability_output_dir exported to) they are used.
// log_level is never named: Python's records follow it without a file.
func TestRotationSettingsWithoutAFileWarn(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		set  func(*core.Config)
		want string // IgnoredExportSettings
	}{
		{"defaults", func(*core.Config) {}, "[]"},
		{"no file", func(c *core.Config) { c.TelemetryMaxFileMB, c.TelemetryMaxBackups, c.LogLevel = 5, 1, "debug" },
			"[observability_max_file_mb observability_max_backups]"},
		{"log_file", func(c *core.Config) { c.TelemetryMaxFileMB, c.LogFile = 5, filepath.Join(dir, "l.log") }, "[]"},
		{"output dir exported to", func(c *core.Config) {
			c.TelemetryMaxBackups, c.ObservabilityEnabled, c.ObservabilityOutputDir = 1, true, dir
		}, "[]"},
		{"output dir not exported to", func(c *core.Config) { c.TelemetryMaxBackups, c.ObservabilityOutputDir = 1, dir },
			"[observability_output_dir observability_max_backups]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := core.DefaultConfig()
			cfg.TableName, cfg.WriterDisabled, cfg.DebugArrowEnabled, cfg.DebugOutputDir = "main.default.t", true, true, t.TempDir()
			c.set(&cfg)
			if got := fmt.Sprint(cfg.IgnoredExportSettings()); got != c.want {
				t.Errorf("IgnoredExportSettings = %s, want %s", got, c.want)
			}
			if got := fmt.Sprint(core.IgnoredExportSettingsOf(core.SettingsOf(cfg))); got != c.want {
				t.Errorf("IgnoredExportSettingsOf = %s, want %s", got, c.want)
			}
			var logs strings.Builder
			w, err := core.New(context.Background(), cfg, core.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			if err != nil {
				t.Fatal(err)
			}
			_ = w.Close(context.Background())
			warned := strings.Count(logs.String(), "nothing: set one, or leave them unset")
			if want := strings.Count(c.want, "_max_"); want > 0 != (warned == 1) || warned > 1 {
				t.Errorf("warnings naming the rotation settings: %d; logs:\n%s", warned, logs.String())
			}
			if strings.Contains(logs.String(), "log_level") {
				t.Errorf("log_level named:\n%s", logs.String())
			}
		})
	}
}

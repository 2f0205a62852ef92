package core_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestS18InvalidUnusedExportSettingIsAnError: with observability off, Go
// refused a bad otlp_protocol while Python dropped it with a warning, as
// IgnoredExportSettingsOf named refused values too (s18 review-config M4).
// The one rule now: an invalid value is an error on every surface, a valid
// unused one is listed (a warning).
func TestS18InvalidUnusedExportSettingIsAnError(t *testing.T) {
	for _, c := range []struct {
		name     string
		settings map[string]any
		want     string
	}{
		{"valid unused", map[string]any{"otlp_endpoint": "http://127.0.0.1:4317", "otlp_protocol": "http", "observability_interval_secs": 5},
			"[otlp_endpoint otlp_protocol observability_interval_secs]"},
		{"bad protocol", map[string]any{"otlp_endpoint": "http://127.0.0.1:4317", "otlp_protocol": "carrier-pigeon"}, "[otlp_endpoint]"},
		{"negative interval", map[string]any{"observability_interval_secs": -5, "observability_output_dir": "/tmp/x"}, "[observability_output_dir]"},
		{"bad endpoint", map[string]any{"otlp_endpoint": "ftp://127.0.0.1:1"}, "[]"},
		{"interval 0 (the default's stand-in)", map[string]any{"observability_interval_secs": 0, "otlp_endpoint": "http://127.0.0.1:4317"}, "[otlp_endpoint]"},
		{"negative backups, no file", map[string]any{"observability_max_backups": -1, "observability_max_file_mb": 5}, "[observability_max_file_mb]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := fmt.Sprint(core.IgnoredExportSettingsOf(c.settings)); got != c.want {
				t.Errorf("IgnoredExportSettingsOf = %s, want %s", got, c.want)
			}
			m := map[string]any{"table_name": "main.default.t", "endpoint": "http://127.0.0.1:1"}
			for k, v := range c.settings {
				m[k] = v
			}
			cfg, err := core.ConfigFromSettings(m)
			if err == nil {
				err = cfg.Validate()
				if got := fmt.Sprint(cfg.IgnoredExportSettings()); got != c.want {
					t.Errorf("IgnoredExportSettings = %s, want %s", got, c.want)
				}
			}
			if (err == nil) != strings.HasPrefix(c.name, "valid") {
				t.Errorf("ConfigFromSettings + Validate: %v", err)
			}
		})
	}
	// zerobus local's environment: the same rule
	for env, wantErr := range map[string]bool{"bogus": true, "http": false} {
		_, err := core.TelemetryConfigFromEnv(func(n string) (string, bool) {
			if n == "OTLP_PROTOCOL" {
				return env, true
			}
			return "", false
		})
		if (err != nil) != wantErr || wantErr && !strings.Contains(err.Error(), "OTLP_PROTOCOL") {
			t.Errorf("TelemetryConfigFromEnv with OTLP_PROTOCOL=%s: %v", env, err)
		}
	}
}

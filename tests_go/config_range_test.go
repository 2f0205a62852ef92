package tests_go

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestDurationSettingsOutOfRange: a *_ms or *_secs value whose duration does
// not fit (ack_timeout_ms: 18446744073710 used to wrap to 448µs) is refused
// by the YAML and environment loaders with a problem naming the key; the
// largest value that fits is accepted exactly.
func TestDurationSettingsOutOfRange(t *testing.T) {
	for _, tc := range []struct {
		key, env, value string
	}{
		{"ack_timeout_ms", "ZEROBUS_ACK_TIMEOUT_MS", "18446744073710"},
		{"create_timeout_ms", "ZEROBUS_CREATE_TIMEOUT_MS", "9223372036855"},
		{"flush_timeout_ms", "ZEROBUS_FLUSH_TIMEOUT_MS", "-9223372036855"},
		{"retry_base_delay_ms", "RETRY_BASE_DELAY_MS", "9223372036854775807"},
		{"debug_flush_interval_secs", "DEBUG_FLUSH_INTERVAL_SECS", "9223372037"},
		{"observability_interval_secs", "OTLP_INTERVAL_SECS", "18446744073710"},
		{"ack_timeout_ms", "ZEROBUS_ACK_TIMEOUT_MS", "99999999999999999999"}, // over int64
	} {
		t.Run(tc.key, func(t *testing.T) {
			_, yerr := core.ParseConfigYAML([]byte(tc.key + ": " + tc.value + "\n"))
			cfg := core.DefaultConfig()
			eerr := cfg.ApplyEnv(func(k string) (string, bool) { return tc.value, k == tc.env })
			for name, err := range map[string]error{"yaml": yerr, "env": eerr} {
				var ce *core.ConfigurationError
				if !errors.As(err, &ce) || len(ce.Problems) != 1 {
					t.Fatalf("%s: error %v, want one configuration problem", name, err)
				}
				if p := ce.Problems[0]; p.YAMLKey != tc.key || !strings.Contains(p.Message, "out of range") {
					t.Errorf("%s: problem %+v, want key %s and \"out of range\"", name, p, tc.key)
				}
			}
		})
	}
	cfg, err := core.ParseConfigYAML([]byte("ack_timeout_ms: 9223372036854\n"))
	if err != nil {
		t.Fatalf("the largest whole millisecond count that fits: %v", err)
	}
	if want := 9223372036854 * time.Millisecond; cfg.AckTimeout != want {
		t.Errorf("AckTimeout = %v, want %v", cfg.AckTimeout, want)
	}
}

package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// A duration set in code that is not a whole number of its key's unit was
// cut by SettingsOf (1.5 s read as debug_flush_interval_secs 1, 250 µs as
// ack_timeout_ms 0); it is now given exactly as duration text, and the
// loaders, whose keys take whole units, refuse that text naming the key
// instead of reading another value.
func TestSettingsOfKeepsSubUnitDurations(t *testing.T) {
	c := core.Config{
		DebugFlushInterval: 1500 * time.Millisecond,
		AckTimeout:         250 * time.Microsecond,
		RetryBaseDelay:     2 * time.Second, // whole milliseconds: a number
		CreateTimeout:      1500 * time.Microsecond,
	}
	m := core.SettingsOf(c)
	for key, want := range map[string]any{
		"debug_flush_interval_secs": "1.5s",
		"ack_timeout_ms":            "250us",
		"create_timeout_ms":         "1.5ms",
		"retry_base_delay_ms":       int64(2000),
	} {
		if got := m[key]; got != want {
			t.Errorf("SettingsOf[%q] = %#v (%T), want %#v", key, got, got, want)
		}
		if s, ok := want.(string); ok {
			d, err := time.ParseDuration(s)
			if err != nil {
				t.Fatalf("%q does not parse back: %v", s, err)
			}
			if d != map[string]time.Duration{"debug_flush_interval_secs": c.DebugFlushInterval,
				"ack_timeout_ms": c.AckTimeout, "create_timeout_ms": c.CreateTimeout}[key] {
				t.Errorf("%q parses to %v", s, d)
			}
		}
	}
	_, err := core.ConfigFromSettings(map[string]any{"debug_flush_interval_secs": m["debug_flush_interval_secs"]})
	if err == nil || !strings.Contains(err.Error(), "debug_flush_interval_secs") ||
		!strings.Contains(err.Error(), "not a whole number of seconds") {
		t.Fatalf("the loader took a sub-unit duration, or its error does not name the key and unit: %v", err)
	}
}

package core_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// A 0 written in YAML, the environment or a settings map (Python) for a key
// whose zero value a Config replaces with a non-zero default is refused,
// naming the key: retry_max_attempts=0 used to mean 5 attempts and
// ack_timeout_ms=0 the default timeout, without a word. Keys whose default is
// 0 take it.
func TestExplicitZeroIsRefusedWhereItWouldMeanTheDefault(t *testing.T) {
	refused := 0
	for _, s := range core.Settings() {
		def, numeric := s.Default.(int64)
		if !numeric || zeroMeaning[s.Key] {
			continue
		}
		loaders := map[string]func() error{
			"yaml": func() error {
				_, err := core.ParseConfigYAML([]byte(s.Key + ": 0\n"))
				return err
			},
			"env": func() error {
				cfg := core.DefaultConfig()
				return cfg.ApplyEnv(func(name string) (string, bool) { return "0", name == s.Env[0] })
			},
			"settings": func() error {
				_, err := core.ConfigFromSettings(map[string]any{s.Key: 0})
				return err
			},
		}
		for name, load := range loaders {
			err := load()
			if def == 0 {
				if err != nil {
					t.Errorf("%s %s=0 (its default): %v", name, s.Key, err)
				}
				continue
			}
			var ce *core.ConfigurationError
			if !errors.As(err, &ce) || len(ce.Problems) != 1 {
				t.Errorf("%s %s=0 (default %d): err = %v, want one configuration problem", name, s.Key, def, err)
				continue
			}
			if p := ce.Problems[0]; p.YAMLKey != s.Key || !strings.Contains(p.Message, "0 is not accepted") ||
				!strings.Contains(p.Message, "leave the setting unset for the default") {
				t.Errorf("%s %s=0: problem %+v", name, s.Key, p)
			}
			refused++
		}
	}
	if refused < 3*7 {
		t.Errorf("only %d refusals; the table has lost its numeric keys?", refused)
	}

	// Values that are not 0 pass.
	if _, err := core.ConfigFromSettings(map[string]any{"retry_max_attempts": 1, "ack_timeout_ms": "1.5s"}); err != nil {
		t.Errorf("non-zero values: %v", err)
	}
	// The message carries the unit of the default.
	_, err := core.ConfigFromSettings(map[string]any{"ack_timeout_ms": 0})
	if err == nil || !strings.Contains(err.Error(), "ms)") {
		t.Errorf("ack_timeout_ms=0: %v, want the default with its unit", err)
	}
}

// zeroMeaning lists the keys whose explicit 0 the original API (0.8.1)
// accepted with a meaning of its own; the loaders keep it.
var zeroMeaning = map[string]bool{"retry_base_delay_ms": true, "retry_max_delay_ms": true, "debug_max_file_size": true,
	"debug_max_files_retained": true}

// retry_base_delay_ms=0 / retry_max_delay_ms=0 (retry without waiting),
// debug_max_file_size=0 (rotate after every write) and
// debug_max_files_retained=0 (keep no rotated file) were accepted by the
// original; every loader takes them with that meaning, and SettingsOf gives
// 0 back so a settings-map round trip (Python's path) keeps it.
func TestExplicitZeroKeepsTheOriginalMeaning(t *testing.T) {
	check := func(name string, c core.Config) {
		t.Helper()
		if c.RetryBaseDelay != core.NoRetryDelay || c.RetryMaxDelay != core.NoRetryDelay || c.DebugMaxFileSize != core.DebugRotateEveryWrite ||
			c.DebugMaxFilesRetained != core.DebugRetainNone {
			t.Errorf("%s: base %v, max %v, file size %d, files retained %d; want NoRetryDelay, NoRetryDelay, DebugRotateEveryWrite, DebugRetainNone",
				name, c.RetryBaseDelay, c.RetryMaxDelay, c.DebugMaxFileSize, c.DebugMaxFilesRetained)
		}
		if s := c.String(); !strings.Contains(s, "debug_max_files_retained: 0 (keep none),") {
			t.Errorf("%s: String() = %s, want debug_max_files_retained: 0 (keep none)", name, s)
		}
		if s := (core.Config{}).String(); !strings.Contains(s, "debug_max_files_retained: 0,") {
			t.Errorf("unset: String() = %s, want debug_max_files_retained: 0", s)
		}
	}
	y, err := core.ParseConfigYAML([]byte("retry_base_delay_ms: 0\nretry_max_delay_ms: 0\ndebug_max_file_size: 0\ndebug_max_files_retained: 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	check("yaml", y)
	e := core.DefaultConfig()
	env := map[string]string{"RETRY_BASE_DELAY_MS": "0", "RETRY_MAX_DELAY_MS": "0", "DEBUG_MAX_FILE_SIZE": "0", "DEBUG_MAX_FILES_RETAINED": "0"}
	if err := e.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	check("env", e)
	m, err := core.ConfigFromSettings(map[string]any{"retry_base_delay_ms": 0, "retry_max_delay_ms": 0, "debug_max_file_size": 0,
		"debug_max_files_retained": 0, "endpoint": "https://x.example.com", "table_name": "a.b.c"})
	if err != nil {
		t.Fatal(err)
	}
	check("settings", m)
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	back := core.SettingsOf(m)
	for k := range zeroMeaning {
		if v, ok := back[k]; !ok || v != any(int64(0)) {
			t.Errorf("SettingsOf %s = %v (present %t), want 0", k, v, ok)
		}
	}
	again, err := core.ConfigFromSettings(back)
	if err != nil {
		t.Fatal(err)
	}
	check("round trip", again)
	// The original refused retry_max_delay_ms below retry_base_delay_ms; so
	// does Validate.
	c, err := core.ConfigFromSettings(map[string]any{"retry_max_delay_ms": 0, "endpoint": "https://x.example.com", "table_name": "a.b.c"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "RetryMaxDelay") {
		t.Errorf("retry_max_delay_ms=0 with the default base: %v, want the below-base problem", err)
	}
}

// A duration that is not a whole number of its key's unit is refused by
// every loader, naming the key and the unit: debug_flush_interval_secs:
// 500ms used to load in Go but come back through SettingsOf as 0 (Python then
// said "0 is not accepted"), and 1500ms as 1 s.
func TestSubUnitDurationsAreRefusedByEveryLoader(t *testing.T) {
	for _, tc := range []struct{ key, env, val, unit string }{
		{"debug_flush_interval_secs", "DEBUG_FLUSH_INTERVAL_SECS", "500ms", "seconds"},
		{"debug_flush_interval_secs", "DEBUG_FLUSH_INTERVAL_SECS", "1500ms", "seconds"},
		{"ack_timeout_ms", "ZEROBUS_ACK_TIMEOUT_MS", "500us", "milliseconds"},
	} {
		_, errY := core.ParseConfigYAML([]byte(tc.key + ": " + tc.val + "\n"))
		c := core.DefaultConfig()
		errE := c.ApplyEnv(func(k string) (string, bool) { return tc.val, k == tc.env })
		_, errS := core.ConfigFromSettings(map[string]any{tc.key: tc.val})
		for name, err := range map[string]error{"yaml": errY, "env": errE, "settings": errS} {
			var ce *core.ConfigurationError
			if !errors.As(err, &ce) || len(ce.Problems) != 1 {
				t.Errorf("%s %s=%s: %v, want one problem", name, tc.key, tc.val, err)
				continue
			}
			if p := ce.Problems[0]; p.YAMLKey != tc.key || !strings.Contains(p.Message, "not a whole number of "+tc.unit) ||
				strings.Contains(p.Message, "0 is not accepted") {
				t.Errorf("%s %s=%s: problem %+v", name, tc.key, tc.val, p)
			}
		}
	}
	// Whole numbers of the unit written as durations still load.
	c, err := core.ParseConfigYAML([]byte("debug_flush_interval_secs: 2000ms\nack_timeout_ms: 1.5s\n"))
	if err != nil || c.DebugFlushInterval != 2*time.Second || c.AckTimeout != 1500*time.Millisecond {
		t.Errorf("whole durations: %v %v %v", c.DebugFlushInterval, c.AckTimeout, err)
	}
	if m := core.SettingsOf(c); m["debug_flush_interval_secs"] != any(int64(2)) || m["ack_timeout_ms"] != any(int64(1500)) {
		t.Errorf("SettingsOf: %v %v", m["debug_flush_interval_secs"], m["ack_timeout_ms"])
	}
}

// Every key whose doc line gives a negative value a meaning accepts a
// negative value (retry_max_attempts said "negative disables retries" while
// Validate refused -1 with "must be at least 1").
func TestDocLinesOfNegativeValuesHold(t *testing.T) {
	n := 0
	for _, s := range core.Settings() {
		if !strings.Contains(s.Doc, "negative") {
			continue
		}
		n++
		cfg, err := core.ConfigFromSettings(map[string]any{"table_name": "a.b.c", "endpoint": "https://x.example.com", s.Key: -1})
		if err == nil {
			err = cfg.Validate()
		}
		if err != nil {
			t.Errorf("%s: its doc %q gives a negative value a meaning, but -1 fails: %v", s.Key, s.Doc, err)
		}
	}
	if n == 0 {
		t.Error("no doc line mentions a negative value (debug_max_files_retained does)")
	}
}

// SettingsOf stays the inverse of ConfigFromSettings for a Config built in
// code with zero fields (which mean the defaults): they are left out, not
// written as the 0 ConfigFromSettings now refuses.
func TestSettingsOfLeavesOutZerosThatMeanDefaults(t *testing.T) {
	c := core.Config{Endpoint: "https://x.example.com", TableName: "a.b.c", RetryBaseDelay: 250 * time.Millisecond}
	m := core.SettingsOf(c)
	if _, ok := m["retry_max_attempts"]; ok {
		t.Errorf("retry_max_attempts %v in SettingsOf of a zero field", m["retry_max_attempts"])
	}
	back, err := core.ConfigFromSettings(m)
	if err != nil {
		t.Fatalf("ConfigFromSettings(SettingsOf(c)): %v", err)
	}
	if back.RetryMaxAttempts != core.DefaultRetryMaxAttempts || back.RetryBaseDelay != 250*time.Millisecond || back.TableName != "a.b.c" {
		t.Errorf("round trip: %+v", back)
	}
}

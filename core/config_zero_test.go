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
		if !numeric {
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
	if refused < 3*10 {
		t.Errorf("only %d refusals; the table has lost its numeric keys?", refused)
	}

	// Values that are not 0 pass, also ones below one unit (500µs for a _ms key).
	if _, err := core.ConfigFromSettings(map[string]any{"retry_max_attempts": 1, "ack_timeout_ms": "500us"}); err != nil {
		t.Errorf("non-zero values: %v", err)
	}
	// The message carries the unit of the default.
	_, err := core.ConfigFromSettings(map[string]any{"ack_timeout_ms": 0})
	if err == nil || !strings.Contains(err.Error(), "ms)") {
		t.Errorf("ack_timeout_ms=0: %v, want the default with its unit", err)
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

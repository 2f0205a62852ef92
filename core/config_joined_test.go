package core

import (
	"errors"
	"strings"
	"testing"
)

// problemsOf returns the key (or field) of each problem of err, and its text.
func problemsOf(t *testing.T, err error) ([]string, string) {
	t.Helper()
	var ce *ConfigurationError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *ConfigurationError", err, err)
	}
	var keys []string
	for _, p := range ce.Problems {
		keys = append(keys, p.YAMLKey+"|"+p.EnvVar)
	}
	return keys, err.Error()
}

// A value a loader refuses must not hide the problems Validate finds in the
// other settings: the docs promise every problem at once (s14 review-docs M1).
func TestLoadProblemsDoNotHideValidateProblems(t *testing.T) {
	t.Run("ValidateSettings reports all of Validate", func(t *testing.T) {
		keys, text := problemsOf(t, ValidateSettings(map[string]any{"table_name": "bad name", "retry_max_attempts": 0}))
		want := []string{"retry_max_attempts|RETRY_MAX_ATTEMPTS", "table_name|ZEROBUS_TABLE_NAME", "endpoint|ZEROBUS_ENDPOINT"}
		if strings.Join(keys, ",") != strings.Join(want, ",") {
			t.Fatalf("problems %v, want %v:\n%s", keys, want, text)
		}
		if !strings.Contains(text, "(3 problems)") || !strings.Contains(text, `"bad name" has ' '`) || !strings.Contains(text, "0 is not accepted") {
			t.Errorf("text:\n%s", text)
		}
	})
	t.Run("ValidateSettings without load problems is Validate by key", func(t *testing.T) {
		keys, _ := problemsOf(t, ValidateSettings(map[string]any{"table_name": "bad name", "endpoint": "https://x.example.com"}))
		if strings.Join(keys, ",") != "table_name|ZEROBUS_TABLE_NAME" {
			t.Fatalf("problems %v", keys)
		}
		if err := ValidateSettings(map[string]any{"table_name": "a.b.c", "endpoint": "https://x.example.com"}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ConfigFromSettings adds the given settings' problems only", func(t *testing.T) {
		_, err := ConfigFromSettings(map[string]any{"table_name": "bad name", "retry_max_attempts": "abc", "retry_base_delay_ms": -5})
		keys, text := problemsOf(t, err)
		want := []string{"retry_max_attempts|RETRY_MAX_ATTEMPTS", "table_name|ZEROBUS_TABLE_NAME", "retry_base_delay_ms|RETRY_BASE_DELAY_MS"}
		if strings.Join(keys, ",") != strings.Join(want, ",") {
			t.Fatalf("problems %v, want %v (endpoint is not given: not reported):\n%s", keys, want, text)
		}
		if !strings.Contains(text, "retry_base_delay_ms (env RETRY_BASE_DELAY_MS when loading from the environment): is -5;") {
			t.Errorf("the duration is not in the key's unit:\n%s", text)
		}
	})
	t.Run("YAML", func(t *testing.T) {
		_, err := ParseConfigYAML([]byte("endpoint: https://x.example.com\ntable_name: bad name\nretry_max_attemps: 3\n"))
		keys, text := problemsOf(t, err)
		if len(keys) != 2 || keys[0] != "retry_max_attemps|" || keys[1] != "table_name|ZEROBUS_TABLE_NAME" {
			t.Fatalf("problems %v:\n%s", keys, text)
		}
		if !strings.Contains(text, `line 2: "bad name" has ' '`) || !strings.Contains(text, "line 3: unknown key") {
			t.Errorf("text:\n%s", text)
		}
		// The loader's problems come first, then Validate's.
		_, err = ParseConfigYAML([]byte("table_name: a.b.c\nretry_max_attempts: -2\nretry_base_delay_ms: x\n"))
		keys, text = problemsOf(t, err)
		if strings.Join(keys, ",") != "retry_base_delay_ms|RETRY_BASE_DELAY_MS,retry_max_attempts|RETRY_MAX_ATTEMPTS" || !strings.Contains(text, "line 2: is -2;") {
			t.Fatalf("problems %v:\n%s", keys, text)
		}
	})
	t.Run("a key at fault is reported once", func(t *testing.T) {
		c := DefaultConfig()
		c.RetryMaxAttempts = -1 // kept when the environment's value is refused, and Validate refuses it too
		err := c.ApplyEnv(func(n string) (string, bool) {
			return map[string]string{"RETRY_MAX_ATTEMPTS": "abc"}[n], n == "RETRY_MAX_ATTEMPTS"
		})
		keys, text := problemsOf(t, err)
		if strings.Join(keys, ",") != "retry_max_attempts|RETRY_MAX_ATTEMPTS" {
			t.Fatalf("problems %v:\n%s", keys, text)
		}
	})
	t.Run("environment", func(t *testing.T) {
		env := map[string]string{"ZEROBUS_TABLE_NAME": "bad name", "RETRY_MAX_ATTEMPTS": "abc", "DATABRICKS_HOST": "ftp://w.example.com"}
		c := DefaultConfig()
		err := c.ApplyEnv(func(n string) (string, bool) { v, ok := env[n]; return v, ok })
		keys, text := problemsOf(t, err)
		want := []string{"retry_max_attempts|RETRY_MAX_ATTEMPTS", "table_name|ZEROBUS_TABLE_NAME", "unity_catalog_url|DATABRICKS_HOST"}
		if strings.Join(keys, ",") != strings.Join(want, ",") {
			t.Fatalf("problems %v, want %v:\n%s", keys, want, text)
		}
		if c.TableName != "" {
			t.Errorf("ApplyEnv changed the config on error: %q", c.TableName)
		}
	})
}

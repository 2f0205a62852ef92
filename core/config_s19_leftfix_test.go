package core_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// A YAML file with an unknown key: the load error names the key, and the
// Config that comes with it holds the values that loaded, so a caller that
// completes the file (the CLI) can validate it and list the settings still
// missing in the same round. It was the zero Config: the missing settings
// showed only once the key was fixed (s18 review errors M4a).
func TestYAMLRefusedKeepsLoadedValues(t *testing.T) {
	path := filepath.Join(t.TempDir(), "b2.yaml")
	if err := os.WriteFile(path, []byte("endpoint: http://127.0.0.1:1\nretry_max_attempts: 7\nbogus_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := core.LoadConfigYAMLEnv(path, func(string) (string, bool) { return "", false })
	var ce *core.ConfigurationError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || !strings.Contains(err.Error(), "line 3: unknown key") {
		t.Fatalf("load error = %v, want only the unknown key", err)
	}
	if cfg.Endpoint != "http://127.0.0.1:1" || cfg.RetryMaxAttempts != 7 {
		t.Fatalf("the Config with the error: endpoint %q, retry_max_attempts %d; want the file's values", cfg.Endpoint, cfg.RetryMaxAttempts)
	}
	// the same problems as the file without the unknown key shows (b3.yaml)
	fixed := filepath.Join(t.TempDir(), "b3.yaml")
	if err := os.WriteFile(fixed, []byte("endpoint: http://127.0.0.1:1\nretry_max_attempts: 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg3, err := core.LoadConfigYAMLEnv(fixed, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	verr, want := cfg.Validate(), cfg3.Validate()
	if verr == nil || want == nil || verr.Error() != want.Error() || !strings.Contains(verr.Error(), "table_name") {
		t.Errorf("Validate of the loaded values = %v\nwant what the fixed file gives: %v", verr, want)
	}
}

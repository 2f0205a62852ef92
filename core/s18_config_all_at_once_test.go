package core_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestS18TLSCAFileListedWithTheOtherProblems: an unreadable tls_ca_file was
// read only in New, after Validate, so it showed once every other problem
// was fixed (s18 review-errors M4b). Validate lists it with the others, also
// for a file's values (the loader reports Validate's problems with its own).
func TestS18TLSCAFileListedWithTheOtherProblems(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nonexistent.pem")
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, want string }{
		{missing, "cannot read the CA file"},
		{notPEM, "holds no PEM certificate"},
		{dir, "is a directory"},
	} {
		cfg := core.DefaultConfig()
		cfg.TableName = "x y"
		cfg.Endpoint = "http://127.0.0.1:1"
		cfg.RetryMaxAttempts = -1
		cfg.TLSCAFile = c.file
		err := cfg.Validate()
		var ce *core.ConfigurationError
		if !errors.As(err, &ce) {
			t.Fatalf("Validate: %v", err)
		}
		var fields []string
		for _, p := range ce.Problems {
			fields = append(fields, p.Field)
		}
		if got := strings.Join(fields, ","); got != "TableName,TLSCAFile,RetryMaxAttempts" {
			t.Errorf("problems of %s: %s, want TableName,TLSCAFile,RetryMaxAttempts\n%v", c.file, got, err)
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.file) {
			t.Errorf("error lacks %q and the path: %v", c.want, err)
		}
		// with WriterDisabled (nothing sent) the file is not used, nor read
		cfg.WriterDisabled, cfg.DebugArrowEnabled, cfg.DebugOutputDir = true, true, dir
		if err := cfg.Validate(); err != nil && strings.Contains(err.Error(), "CA file") {
			t.Errorf("WriterDisabled: %v", err)
		}
	}
	// from a YAML file with another problem: both listed
	path := filepath.Join(dir, "c.yaml")
	yaml := "table_name: main.default.t\nendpoint: http://127.0.0.1:1\nretry_max_attempts: lots\ntls_ca_file: " + missing + "\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := core.LoadConfigYAML(path)
	if err == nil || !strings.Contains(err.Error(), "retry_max_attempts") || !strings.Contains(err.Error(), "tls_ca_file") {
		t.Errorf("LoadConfigYAML: %v, want retry_max_attempts and tls_ca_file", err)
	}
}

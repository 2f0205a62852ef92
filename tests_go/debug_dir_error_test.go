package tests_go

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A debug output directory that cannot be created is a configuration error
// at New naming debug_output_dir, said once: the message used to repeat the
// cause (once as the error's cause, once in the problem) with the internal
// "debugfile:" prefix. The cause stays reachable with errors.Is.
func TestDebugOutputDirErrorSaidOnce(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := serverConfig(srv, "main.default.debug_dir")
	cfg.DebugEnabled = true
	cfg.DebugOutputDir = filepath.Join(file, "sub")
	w, err := core.New(context.Background(), cfg)
	if err == nil {
		_ = w.Close(context.Background())
		t.Fatal("New succeeded with a debug output directory under a regular file")
	}
	var ce *core.ConfigurationError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].YAMLKey != "debug_output_dir" {
		t.Fatalf("New: %v; want one configuration problem naming debug_output_dir", err)
	}
	msg := err.Error()
	if n := strings.Count(msg, "cannot create debug output directory"); n != 1 || strings.Contains(msg, "debugfile:") {
		t.Errorf("message says the cause %d times (want 1) or carries the package prefix:\n%s", n, msg)
	}
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("errors.Is(err, ENOTDIR) = false for %v", err)
	}
}

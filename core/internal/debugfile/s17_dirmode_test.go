//go:build !windows

package debugfile

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// s17 L8: debug directories that already existed writable by others kept
// that mode (others could rename or delete the 0600 files in them); the
// Writer makes them owner-only and says so.
func TestS17ExistingDebugDirsMadeOwnerOnly(t *testing.T) {
	dir := t.TempDir()
	zb := filepath.Join(dir, "zerobus")
	arrowDir := filepath.Join(zb, "arrow")
	if err := os.MkdirAll(arrowDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{zb, arrowDir} {
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	tel := telemetry.New(nil, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	openAndClose(t, dir, tel)
	for _, d := range []string{zb, arrowDir} {
		st, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v, want 0700", d, st.Mode().Perm())
		}
		if !strings.Contains(logs.String(), "dir="+d+" was=-rwxrwxrwx now=-rwx------") {
			t.Errorf("no warning for %s in the log:\n%s", d, logs.String())
		}
	}
	// Directories already owner-only (or made so) are left alone, unlogged.
	logs.Reset()
	openAndClose(t, dir, tel)
	if strings.Contains(logs.String(), "debug directory") {
		t.Errorf("warned again:\n%s", logs.String())
	}
}

// A debug directory reached through a symbolic link (another user's shared
// directory linked in as {dir}/zerobus) is never chmod'ed: the link target
// kept its mode, and the warning says to check it. os.Chmod followed the
// link and took the group's access away from a shared directory.
func TestS17LinkedDebugDirNotChanged(t *testing.T) {
	dir, shared := t.TempDir(), t.TempDir()
	if err := os.MkdirAll(filepath.Join(shared, "arrow"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(shared, 0o2775); err != nil { // a setgid group directory
		t.Fatal(err)
	}
	if err := os.Symlink(shared, filepath.Join(dir, "zerobus")); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(shared)
	if err != nil {
		t.Fatal(err)
	}
	openAndClose(t, dir, telemetry.New(nil, nil, slog.New(slog.DiscardHandler)))
	after, err := os.Stat(shared)
	if err != nil {
		t.Fatal(err)
	}
	if after.Mode() != before.Mode() {
		t.Errorf("the linked directory's mode changed: %v → %v", before.Mode(), after.Mode())
	}
}

// openAndClose opens an Arrow debug Writer on dir (which checks and fixes
// the debug directories' modes) and closes it.
func openAndClose(t *testing.T, dir string, tel *telemetry.Telemetry) {
	t.Helper()
	w, err := New(table, Config{OutputDir: dir, Arrow: true}, WithTelemetry(tel))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

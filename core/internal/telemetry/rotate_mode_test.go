package telemetry

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// A rotation keeps the file's mode: the file created in place of the
// rotated one has the mode the operator gave the old one (0640 here,
// neither the writer's 0600 nor what the umask leaves of 0666), as
// lumberjack, which this writer replaced, kept it (s14 review-diff 6).
func TestRotationKeepsTheFilesMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	h, err := openRotating(path, 1, 3, "LogFile")
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("y"), 700<<10)
	for range 3 { // two rotations
		if _, err := h.Write(big); err != nil {
			t.Fatal(err)
		}
	}
	closeAll(h)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 3 {
		t.Fatalf("files: %v, want app.log and two rotated copies", ents)
	}
	for _, e := range ents {
		st, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != fs.FileMode(0o640) {
			t.Errorf("%s: mode %v, want -rw-r-----", e.Name(), got)
		}
	}
}

// A file the writer creates itself (no file before, no rotation yet) is
// 0600, readable by its owner only.
func TestNewRotatingFileIsPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	path := filepath.Join(t.TempDir(), "new.log")
	h, err := openRotating(path, 1, 3, "LogFile")
	if err != nil {
		t.Fatal(err)
	}
	closeAll(h)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("mode %v, want -rw-------", got)
	}
}

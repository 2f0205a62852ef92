package core_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// ListDebugFiles lists the data files DebugFileKind accepts, at any depth,
// and no sidecar (zerobus_py.debug.list_files kept its own copy of the
// extensions).
func TestListDebugFiles(t *testing.T) {
	dir := t.TempDir()
	files := []string{
		"zerobus/arrow/a.b.c.arrow", "zerobus/arrow/a.b.c-20260101T000000.000Z-0000.arrow", "zerobus/arrow/a.b.c.drops.jsonl",
		"zerobus/proto/a.b.c.proto", "zerobus/proto/a.b.c.descriptor.pb", "zerobus/proto/a.b.c.descriptor.textproto",
		"notes.txt",
	}
	for _, f := range files {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "zerobus", "dir.arrow"), 0o700); err != nil {
		t.Fatal(err)
	}
	got, err := core.ListDebugFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range []string{files[1], files[0], files[3]} {
		want = append(want, filepath.Join(dir, f))
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListDebugFiles = %q, want %q", got, want)
	}
	if got, err := core.ListDebugFiles(filepath.Join(dir, "missing")); got != nil || err != nil {
		t.Errorf("a missing directory: %q, %v; want none", got, err)
	}
}

package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// debug read -o naming the file read is refused: it emptied the debug file
// (opened with truncation before the read), then called it unreadable.
func TestDebugReadOutputIsInput(t *testing.T) {
	dir := t.TempDir()
	p := writeArrowFixture(t, dir, 3, 4)
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{p, filepath.Dir(p) + "/./" + filepath.Base(p)} {
		_, err := runDebugCmd(t, "read", "-format", "arrow", "-o", o, p)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "-o "+o+" is the file to read") {
			t.Errorf("-o %s: err = %v, want a usage error naming -o", o, err)
		}
		if got, _ := os.ReadFile(p); !bytes.Equal(got, want) {
			t.Fatalf("-o %s: the debug file changed (%d bytes, was %d)", o, len(got), len(want))
		}
	}
	// Another output file still works.
	out := filepath.Join(dir, "copy.arrow")
	if _, err := runDebugCmd(t, "read", "-format", "arrow", "-o", out, p); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Errorf("-o %s: %v, size %v", out, err, st)
	}
}

// Nor may -o name a file the read needs: a protobuf file's descriptor (the
// records could no longer be decoded) or its drops record.
func TestDebugReadOutputIsASideFile(t *testing.T) {
	dir := t.TempDir()
	p := writeProtoFixture(t, dir, 3)
	side := strings.TrimSuffix(p, ".proto") + ".descriptor.pb"
	drops := strings.TrimSuffix(p, ".proto") + ".drops.jsonl"
	if err := os.WriteFile(drops, []byte(`{"before_write":1,"before_row":1,"dropped_writes":1,"dropped_rows":1,"dropped_bytes":9,"reason":"queue full"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{side, drops} {
		want, err := os.ReadFile(o)
		if err != nil {
			t.Fatal(err)
		}
		_, err = runDebugCmd(t, "read", "-o", o, p)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "is a file reading "+p+" needs") {
			t.Errorf("-o %s: err = %v, want a usage error naming the file", o, err)
		}
		if got, _ := os.ReadFile(o); !bytes.Equal(got, want) {
			t.Fatalf("-o %s: the file changed (%d bytes, was %d)", o, len(got), len(want))
		}
	}
	if _, err := runDebugCmd(t, "read", p); err != nil {
		t.Fatalf("the debug file no longer reads: %v", err)
	}
}

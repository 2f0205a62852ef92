package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// s17 L3: -o was truncated before the input was known to be readable; a
// read that fails before any output now leaves it as it was.
func TestS17DebugReadOutKeptOnEarlyFailure(t *testing.T) {
	dir := t.TempDir()
	proto := writeProtoFixture(t, dir, 3)
	arrowPath := writeArrowFixture(t, dir, 1, 3)
	out := filepath.Join(dir, "keep.json")
	reset := func() {
		if err := os.WriteFile(out, []byte("precious\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	content := func() string {
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// A .proto file whose descriptor is missing.
	noDesc := filepath.Join(dir, "nd.proto")
	data, _ := os.ReadFile(proto)
	if err := os.WriteFile(noDesc, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// An .arrow file that is not Arrow IPC at all.
	garbage := filepath.Join(dir, "bad.arrow")
	if err := os.WriteFile(garbage, []byte("this is no arrow stream, just some text"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, in, format string }{
		{"missing descriptor", noDesc, "json"},
		{"missing descriptor, arrow", noDesc, "arrow"},
		{"garbage arrow", garbage, "json"},
		{"garbage arrow, table", garbage, "table"},
	} {
		reset()
		if _, err := runDebugCmd(t, "read", "-o", out, "-format", c.format, c.in); err == nil {
			t.Errorf("%s: no error", c.name)
		}
		if got := content(); got != "precious\n" {
			t.Errorf("%s: -o file now holds %q, want it untouched", c.name, got)
		}
	}

	// A read that succeeds replaces it.
	reset()
	if _, err := runDebugCmd(t, "read", "-o", out, arrowPath); err != nil {
		t.Fatal(err)
	}
	if got := content(); strings.Count(got, "\n") != 3 || !strings.HasPrefix(got, `{"id":0,`) {
		t.Errorf("-o after a good read: %q", got)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("-o mode %v, %v", st.Mode(), err)
	}
	// A new -o file that a read fails on is not created.
	fresh := filepath.Join(dir, "fresh.json")
	if _, err := runDebugCmd(t, "read", "-o", fresh, garbage); err == nil {
		t.Error("garbage: no error")
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("-o file created by a failed read: %v", err)
	}
	// A read with no rows to print still writes the (empty) -o file.
	empty := writeArrowFixture(t, t.TempDir(), 0, 0)
	reset()
	if _, err := runDebugCmd(t, "read", "-o", out, empty); err != nil {
		t.Fatal(err)
	}
	if got := content(); got != "" {
		t.Errorf("-o after reading a file with no rows: %q; want empty", got)
	}
}

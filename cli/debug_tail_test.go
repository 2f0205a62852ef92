package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/debuglock"
)

// `debug read` of a debug file still being written (the active name, cut
// inside its last message) prints the complete rows, exits 0 and notes on
// stderr that the file is still being written; an empty active file prints
// nothing, with the note. Both kinds.
func TestDebugReadStillWriting(t *testing.T) {
	dir := t.TempDir()
	whole, err := os.ReadFile(writeArrowFixture(t, dir, 3, 4))
	if err != nil {
		t.Fatal(err)
	}
	pdir := t.TempDir()
	pwhole, err := os.ReadFile(writeProtoFixture(t, pdir, 5))
	if err != nil {
		t.Fatal(err)
	}
	side, err := os.ReadFile(filepath.Join(pdir, "t-20260102T030405.000Z-0000.descriptor.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pdir, "t.descriptor.pb"), side, 0o600); err != nil {
		t.Fatal(err)
	}
	debuglock.Hold(t, filepath.Join(dir, "t.arrow")) // their writers are still writing them
	debuglock.Hold(t, filepath.Join(pdir, "t.proto"))
	for _, c := range []struct {
		name, path string
		data       []byte
		ids        []int64
		note       string
	}{
		{"arrow cut", filepath.Join(dir, "t.arrow"), whole[:len(whole)-8-20], []int64{0, 1, 2, 3, 4, 5, 6, 7}, "is still being written: it ends inside a message at byte offset"},
		{"arrow empty", filepath.Join(dir, "t.arrow"), nil, nil, "is empty: still being written"},
		{"proto cut", filepath.Join(pdir, "t.proto"), pwhole[:len(pwhole)-3], []int64{0, 1, 2, 3}, "is still being written: it ends inside a message at byte offset"},
	} {
		if err := os.WriteFile(c.path, c.data, 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		err := debugMain(context.Background(), []string{"read", c.path}, &out, &errOut)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var ids []int64
		if out.Len() > 0 {
			ids = jsonIDs(t, out.String())
		}
		if !slices.Equal(ids, c.ids) {
			t.Errorf("%s: ids %v, want %v", c.name, ids, c.ids)
		}
		if want := "note: " + c.path + " " + c.note; !strings.Contains(errOut.String(), want) {
			t.Errorf("%s: stderr %q, want %q", c.name, errOut.String(), want)
		}
	}
}

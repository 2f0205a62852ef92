package debugfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
)

// Rotation on every write (MaxFileSize 1, the original's
// debug_max_file_size=0) with no rotated file retained (RetainNone, its
// debug_max_files_retained=0): the active file is never deleted and holds
// the latest write, with its descriptor sidecars, after every write and
// after Close, as in the original (which rotates before a write).
func TestRotateEveryWriteRetainNoneKeepsLastWrite(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	adir := filepath.Join(dir, "zerobus", "arrow")
	pdir := filepath.Join(dir, "zerobus", "proto")
	clk := newFakeClock()
	w := mustNew(t, "a", Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: 1, MaxFilesRetained: RetainNone}, WithClock(clk))
	t.Cleanup(func() { _ = w.Close() }) // a failed check stops the test before Close
	check := func(when string, start int, complete bool) {
		t.Helper()
		ra, aa := dataFiles(t, adir, "a", ".arrow")
		rp, ap := dataFiles(t, pdir, "a", ".proto")
		if len(ra) != 0 || len(rp) != 0 || aa == "" || ap == "" {
			t.Fatalf("%s: rotated %v %v, active %q %q; want no rotated file and both active files", when, ra, rp, aa, ap)
		}
		if got := readArrowIDs(t, []string{aa}, complete); !cmp.Equal(got, seq(start, 2)) {
			t.Errorf("%s: arrow ids %v, want %v", when, got, seq(start, 2))
		}
		if got := readProtoIDs(t, []string{ap}, "Row"); !cmp.Equal(got, seq(start, 2)) {
			t.Errorf("%s: proto ids %v, want %v", when, got, seq(start, 2))
		}
		pb, text := sidecars(ap)
		for _, p := range []string{pb, text} {
			if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
				t.Errorf("%s: descriptor sidecar %s: %v", when, filepath.Base(p), err)
			}
		}
		entries, _ := os.ReadDir(pdir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "a-") {
				t.Errorf("%s: rotated file %s left with RetainNone", when, e.Name())
			}
		}
	}
	for i := 0; i < 3; i++ {
		writeRows(t, w, memory.DefaultAllocator, 10*i, 2)
		clk.Advance(time.Millisecond)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		check("after write "+string(rune('0'+i)), 10*i, false)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	check("after Close", 20, true)
}

//go:build unix

package debugfile

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
)

// tableFiles returns every data file (ext) of table base in dir, of any
// writer: the canonical active file, rotated files and other writers'
// active files (all named base-...), sorted by name.
func tableFiles(t *testing.T, dir, base, ext string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir(%s): %v", dir, err)
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasSuffix(n, ext) && (n == base+ext || strings.HasPrefix(n, base+"-")) {
			files = append(files, filepath.Join(dir, n))
		}
	}
	return files
}

// sharedIDs reads the ids in all of table base's files under dir (Arrow
// and proto), sorted.
func sharedIDs(t *testing.T, dir, base string) (arrowIDs, protoIDs []int64) {
	t.Helper()
	arrowIDs = sortedCopy(readArrowIDs(t, tableFiles(t, filepath.Join(dir, "zerobus", "arrow"), base, ".arrow"), false))
	protoIDs = sortedCopy(readProtoIDs(t, tableFiles(t, filepath.Join(dir, "zerobus", "proto"), base, ".proto"), "Row"))
	return arrowIDs, protoIDs
}

// Two writers of one table in one directory (two Wrappers, or Spark tasks
// in separate processes) rotating on every write, in the same millisecond
// (the fake clock stands still), with every rotated file kept: every row
// of both is in the files exactly once. Before each writer held its own
// active name, the second New moved the first's live file aside and each
// rotation renamed whatever file had the shared name.
func TestSharedTableTwoWritersKeepAllRows(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	clk := newFakeClock()
	cfg := Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: 1, MaxFilesRetained: -1}
	w1 := mustNew(t, "t", cfg, WithClock(clk))
	t.Cleanup(func() { _ = w1.Close() })
	w2 := mustNew(t, "t", cfg, WithClock(clk))
	t.Cleanup(func() { _ = w2.Close() })
	a1, p1 := w1.Paths()
	a2, p2 := w2.Paths()
	if a1 != filepath.Join(dir, "zerobus", "arrow", "t.arrow") || p1 != filepath.Join(dir, "zerobus", "proto", "t.proto") {
		t.Errorf("first writer's paths %q %q, want the canonical t.arrow, t.proto", a1, p1)
	}
	if a2 == a1 || p2 == p1 {
		t.Errorf("both writers use %q / %q", a1, p1)
	}
	const batches, n = 20, 5
	for i := 0; i < batches; i++ {
		w := []*Writer{w1, w2}[i%2]
		writeRows(t, w, memory.DefaultAllocator, n*i, n)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []*Writer{w1, w2} {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		as, ps := w.Stats()
		if as.DroppedWrites != 0 || ps.DroppedWrites != 0 || as.Failures != 0 || ps.Failures != 0 {
			t.Errorf("stats %+v %+v: want no drops or failures", as, ps)
		}
	}
	arrowIDs, protoIDs := sharedIDs(t, dir, "t")
	if want := seq(0, batches*n); !cmp.Equal(arrowIDs, want) || !cmp.Equal(protoIDs, want) {
		t.Errorf("ids in the files:\narrow %v\nproto %v\nwant  %v (each once)", arrowIDs, protoIDs, want)
	}
	// The second writer's own active files were rotated at Close (no later
	// writer takes their names); the first's active files keep the
	// canonical name. Close removed the lock files.
	for _, p := range []string{a2, p2, a2 + lockSuffix, p2 + lockSuffix, a1 + lockSuffix, p1 + lockSuffix} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s after Close: %v, want it gone", filepath.Base(p), err)
		}
	}
	for _, p := range []string{a1, p1} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("canonical active file after Close: %v", err)
		}
	}
}

// With few rotated files retained, retention deletes only rotated files:
// after every write each writer's active file is still there, under its
// own name, holding that writer's latest write (rotation happens before a
// write), and the files hold no id twice.
func TestSharedTableRetentionKeepsOtherWritersActiveFile(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	clk := newFakeClock()
	cfg := Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: 1, MaxFilesRetained: 1}
	ws := []*Writer{mustNew(t, "t", cfg, WithClock(clk)), mustNew(t, "t", cfg, WithClock(clk))}
	for _, w := range ws {
		t.Cleanup(func() { _ = w.Close() })
	}
	const n = 4
	last := map[*Writer]int{}
	for i := 0; i < 16; i++ {
		w := ws[i%2]
		writeRows(t, w, memory.DefaultAllocator, n*i, n)
		last[w] = n * i
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		for k, o := range ws {
			start, ok := last[o]
			if !ok {
				continue
			}
			a, p := o.Paths()
			if got := readArrowIDs(t, []string{a}, false); !cmp.Equal(got, seq(start, n)) {
				t.Fatalf("after write %d: writer %d's active %s holds %v, want %v", i, k, filepath.Base(a), got, seq(start, n))
			}
			if got := readProtoIDs(t, []string{p}, "Row"); !cmp.Equal(got, seq(start, n)) {
				t.Fatalf("after write %d: writer %d's active %s holds %v, want %v", i, k, filepath.Base(p), got, seq(start, n))
			}
		}
		arrowIDs, protoIDs := sharedIDs(t, dir, "t")
		for _, ids := range [][]int64{arrowIDs, protoIDs} {
			for j := 1; j < len(ids); j++ {
				if ids[j] == ids[j-1] {
					t.Fatalf("after write %d: id %d twice in %v", i, ids[j], ids)
				}
			}
		}
	}
	rotated, _ := dataFiles(t, filepath.Join(dir, "zerobus", "arrow"), "t", ".arrow")
	if len(rotated) != 2 {
		t.Errorf("rotated arrow files %v, want 2 (MaxFilesRetained counts each writer's own rotated files)", rotated)
	}
}

// When the writer holding the canonical name closes, the next New takes
// it and moves the closed writer's file aside, byte for byte; a writer
// still running keeps its own name and file.
func TestSharedTableNextWriterTakesFreedName(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	cfg := Config{OutputDir: dir, Arrow: true, MaxFilesRetained: -1}
	w1 := mustNew(t, "t", cfg)
	w2 := mustNew(t, "t", cfg)
	t.Cleanup(func() { _ = w2.Close() })
	writeRows(t, w1, memory.DefaultAllocator, 0, 3)
	writeRows(t, w2, memory.DefaultAllocator, 100, 3)
	if err := w2.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w1.Close(); err != nil {
		t.Fatal(err)
	}
	a1, _ := w1.Paths()
	a2, _ := w2.Paths()
	old, err := os.ReadFile(a1)
	if err != nil {
		t.Fatal(err)
	}
	w3 := mustNew(t, "t", cfg)
	t.Cleanup(func() { _ = w3.Close() })
	if a3, _ := w3.Paths(); a3 != a1 {
		t.Errorf("after the canonical writer closed, New took %q, want %q", a3, a1)
	}
	rotated, active := dataFiles(t, filepath.Join(dir, "zerobus", "arrow"), "t", ".arrow")
	if len(rotated) != 1 || active != "" {
		t.Fatalf("rotated %v, active %q: want the closed writer's file moved aside", rotated, active)
	}
	if moved, _ := os.ReadFile(rotated[0]); !bytes.Equal(moved, old) {
		t.Errorf("moved-aside file differs from the closed writer's file")
	}
	if got := readArrowIDs(t, []string{a2}, false); !cmp.Equal(got, seq(100, 3)) {
		t.Errorf("running writer's file %s holds %v, want %v", filepath.Base(a2), got, seq(100, 3))
	}
	writeRows(t, w3, memory.DefaultAllocator, 200, 3)
	for _, w := range []*Writer{w2, w3} {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	arrowIDs := sortedCopy(readArrowIDs(t, tableFiles(t, filepath.Join(dir, "zerobus", "arrow"), "t", ".arrow"), false))
	want := sortedCopy(append(append(seq(0, 3), seq(100, 3)...), seq(200, 3)...))
	if !cmp.Equal(arrowIDs, want) {
		t.Errorf("ids %v, want %v", arrowIDs, want)
	}
}

// A leftover active file whose lock nobody holds (a crashed or closed
// writer; its lock file stays) is moved aside by New, as without locks.
func TestSharedTableLeftoverWithStaleLockMovedAside(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	adir := filepath.Join(dir, "zerobus", "arrow")
	if err := os.MkdirAll(adir, 0o700); err != nil {
		t.Fatal(err)
	}
	leftover := []byte("a previous run's bytes")
	if err := os.WriteFile(filepath.Join(adir, "t.arrow"), leftover, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(adir, "t.arrow.lock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w := mustNew(t, "t", Config{OutputDir: dir, Arrow: true})
	t.Cleanup(func() { _ = w.Close() })
	if a, _ := w.Paths(); a != filepath.Join(adir, "t.arrow") {
		t.Errorf("New took %q, want the canonical name", a)
	}
	rotated, active := dataFiles(t, adir, "t", ".arrow")
	if len(rotated) != 1 || active != "" {
		t.Fatalf("rotated %v, active %q: want the leftover moved aside", rotated, active)
	}
	if got, _ := os.ReadFile(rotated[0]); !bytes.Equal(got, leftover) {
		t.Errorf("moved-aside file holds %q, want %q", got, leftover)
	}
}

// Rotated names of different writers in the same millisecond differ and
// sort by time, then sequence, then writer.
func TestRotatedNamesOfWriters(t *testing.T) {
	clk := newFakeClock()
	at := clk.Now()
	stems := []string{rotatedStem("t", at, 1, "12_1"), rotatedStem("t", at, 0, "12_2"), rotatedStem("t", at, 0), rotatedStem("t", at, 0, "12_1")}
	for _, s := range stems {
		if got, ok := parseRotated(s+".arrow", "t", ".arrow"); !ok || got != s {
			t.Errorf("parseRotated(%q) = %q, %v", s+".arrow", got, ok)
		}
	}
	for _, name := range []string{extraStem("t", "12_1") + ".arrow", "t-" + at.Format(stampLayout) + "-0001-x.arrow", "t-" + at.Format(stampLayout) + "-0001-.arrow"} {
		if _, ok := parseRotated(name, "t", ".arrow"); ok {
			t.Errorf("parseRotated(%q) ok, want not a rotated file", name)
		}
	}
	if k, err := KindOf(extraStem("t", "12_1") + ".arrow"); k != "arrow" || err != nil {
		t.Errorf("KindOf(a further writer's file) = %q, %v", k, err)
	}
	if _, err := KindOf("t.arrow" + lockSuffix); err == nil {
		t.Errorf("KindOf(lock file) is a debug file, want an error (ListDebugFiles leaves it out)")
	}
	sortRotated(stems)
	want := []string{rotatedStem("t", at, 0), rotatedStem("t", at, 0, "12_1"), rotatedStem("t", at, 0, "12_2"), rotatedStem("t", at, 1, "12_1")}
	if !cmp.Equal(stems, want) {
		t.Errorf("sorted %v, want %v", stems, want)
	}
}

// An active file of a further writer left by a crash (its lock free) is
// moved aside by the next New, byte for byte, and its lock file removed;
// a running further writer's file is left alone. A further writer's Close
// rotates its file without retention: with RetainNone its rows stay. A
// further writer's retention leaves the canonical writer's rotated files.
func TestSharedTableStaleExtraFileMovedAside(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	adir := filepath.Join(dir, "zerobus", "arrow")
	if err := os.MkdirAll(adir, 0o700); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(adir, "t-999999_1.arrow")
	leftover := []byte("a crashed writer's bytes")
	if err := os.WriteFile(stale, leftover, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale+lockSuffix, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	w1 := mustNew(t, "t", Config{OutputDir: dir, Arrow: true, MaxFilesRetained: -1})
	t.Cleanup(func() { _ = w1.Close() })
	for _, p := range []string{stale, stale + lockSuffix} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want it moved aside", filepath.Base(p), err)
		}
	}
	rotated, _ := dataFiles(t, adir, "t", ".arrow")
	if len(rotated) != 1 {
		t.Fatalf("rotated %v: want the stale file moved aside", rotated)
	}
	if got, _ := os.ReadFile(rotated[0]); !bytes.Equal(got, leftover) {
		t.Errorf("moved-aside file holds %q, want %q", got, leftover)
	}
	moved := rotated[0] // w1's lineage now
	cfg := Config{OutputDir: dir, Arrow: true, MaxFilesRetained: RetainNone}
	w2 := mustNew(t, "t", cfg) // a further writer: RetainNone deletes only its own rotated files
	t.Cleanup(func() { _ = w2.Close() })
	a2, _ := w2.Paths()
	writeRows(t, w2, memory.DefaultAllocator, 100, 3)
	if err := w2.Flush(); err != nil {
		t.Fatal(err)
	}
	w3 := mustNew(t, "t", cfg) // finds w2's file locked
	t.Cleanup(func() { _ = w3.Close() })
	if got := readArrowIDs(t, []string{a2}, false); !cmp.Equal(got, seq(100, 3)) {
		t.Errorf("running writer's %s holds %v, want %v", filepath.Base(a2), got, seq(100, 3))
	}
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(moved); !bytes.Equal(got, leftover) {
		t.Errorf("the canonical writer's rotated file holds %q after a further writer's retention, want %q", got, leftover)
	}
	rotated, _ = dataFiles(t, adir, "t", ".arrow")
	rotated = slices.DeleteFunc(rotated, func(p string) bool { return p == moved })
	if got := readArrowIDs(t, rotated, true); !cmp.Equal(got, seq(100, 3)) {
		t.Errorf("after the further writer's Close, rotated files %v hold %v, want %v", rotated, got, seq(100, 3))
	}
}

// lockFile excludes a second holder, also in the same process; once the
// holder removed and released it, the next lockFile holds a fresh lock
// file at the path, which again excludes others.
func TestLockFileExcludesAndIsTakenOver(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.arrow.lock")
	a, err := lockFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := lockFile(p); err != errLocked {
		t.Fatalf("second lockFile: %v, %v; want errLocked", f, err)
	}
	unlockFile(a)
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("lock file after unlockFile: %v, want it removed", err)
	}
	b, err := lockFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer unlockFile(b)
	if f, err := lockFile(p); err != errLocked {
		t.Fatalf("lockFile while the new holder holds it: %v, %v; want errLocked", f, err)
	}
}

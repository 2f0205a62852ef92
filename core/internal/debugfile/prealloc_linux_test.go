//go:build linux

package debugfile

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestPreallocation: through the page cache, the active file's blocks are
// reserved ahead (bufWriter.reserve) while its size stays that of the data
// written: the file reads completely while active, a file rotated at
// MaxFileSize keeps no reserved blocks beyond its data, and one that ends
// early (Close) has them freed.
func TestPreallocation(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	if !canFallocate(t, dir) {
		t.Skip("blocks are reserved on ext4 only, and the test directory is not on ext4")
	}
	const maxFile = 2 << 20
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: maxFile, MaxFilesRetained: -1},
		WithClock(newFakeClock()), WithBufferedIO())
	defer w.Close()
	mem := memory.DefaultAllocator
	arrowDir, protoDir := filepath.Join(dir, "zerobus", "arrow"), filepath.Join(dir, "zerobus", "proto")
	written := func() (int64, int64) {
		a, p := w.Stats()
		return a.BytesWritten, p.BytesWritten
	}
	// filesOf returns the kind's files (rotated, then active) and checks
	// that their sizes add up to the bytes written.
	filesOf := func(step, d, ext string, want int64) []string {
		t.Helper()
		files := withActive(dataFiles(t, d, SafeName(table), ext))
		var sum int64
		for _, f := range files {
			sum += stat(t, f).Size
		}
		if sum != want {
			t.Errorf("%s: %s files hold %d bytes, %d written", step, ext, sum, want)
		}
		return files
	}

	// ~0.4 MiB of each kind: well below MaxFileSize.
	for i := 0; i < 4; i++ {
		writeRows(t, w, mem, i*5000, 5000)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	aw, pw := written()
	for _, k := range []struct {
		dir, ext string
		n        int64
	}{{arrowDir, ".arrow", aw}, {protoDir, ".proto", pw}} {
		files := filesOf("active", k.dir, k.ext, k.n)
		if len(files) != 1 || k.n >= maxFile/2 {
			t.Fatalf("%s: %d files, %d bytes; want one file below %d bytes", k.ext, len(files), k.n, maxFile/2)
		}
		if st := stat(t, files[0]); st.Blocks*512 < maxFile {
			t.Errorf("active %s file: %d bytes of blocks for %d bytes of data; want MaxFileSize (%d) reserved",
				k.ext, st.Blocks*512, st.Size, maxFile)
		}
	}
	// The active files read completely.
	if got := readArrowIDs(t, withActive(dataFiles(t, arrowDir, SafeName(table), ".arrow")), false); !slices.Equal(got, seq(0, 20000)) {
		t.Errorf("active Arrow file: %d ids, want 0..19999", len(got))
	}
	if got := readProtoIDs(t, withActive(dataFiles(t, protoDir, SafeName(table), ".proto")), "Row"); !slices.Equal(got, seq(0, 20000)) {
		t.Errorf("active protobuf file: %d ids, want 0..19999", len(got))
	}

	// Past MaxFileSize: rotated files keep no reserved blocks beyond their
	// data (nothing is reserved past MaxFileSize).
	for i := 4; i < 40; i++ {
		writeRows(t, w, mem, i*5000, 5000)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	aw, pw = written()
	for _, k := range []struct {
		dir, ext string
		n        int64
	}{{arrowDir, ".arrow", aw}, {protoDir, ".proto", pw}} {
		rotated, _ := dataFiles(t, k.dir, SafeName(table), k.ext)
		if len(rotated) == 0 {
			t.Fatalf("%s: no rotated file after %d bytes", k.ext, k.n)
		}
		for _, f := range rotated {
			if st := stat(t, f); st.Size < maxFile || st.Blocks*512 > st.Size+64<<10 {
				t.Errorf("rotated %s: %d bytes of blocks for %d bytes of data", filepath.Base(f), st.Blocks*512, st.Size)
			}
		}
		filesOf("rotated", k.dir, k.ext, k.n)
	}

	// Close: the active file ends early; its reserved blocks are freed.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	aw, pw = written()
	for _, k := range []struct {
		dir, ext string
		n        int64
	}{{arrowDir, ".arrow", aw}, {protoDir, ".proto", pw}} {
		filesOf("closed", k.dir, k.ext, k.n)
		_, active := dataFiles(t, k.dir, SafeName(table), k.ext)
		if st := stat(t, active); st.Size >= maxFile || st.Blocks*512 > st.Size+64<<10 {
			t.Errorf("closed %s: %d bytes of blocks for %d bytes of data; want the reserved blocks freed",
				filepath.Base(active), st.Blocks*512, st.Size)
		}
	}
	if got := readArrowIDs(t, withActive(dataFiles(t, arrowDir, SafeName(table), ".arrow")), true); !slices.Equal(got, seq(0, 200000)) {
		t.Errorf("Arrow files: %d ids, want 0..199999", len(got))
	}
	if got := readProtoIDs(t, withActive(dataFiles(t, protoDir, SafeName(table), ".proto")), "Row"); !slices.Equal(got, seq(0, 200000)) {
		t.Errorf("protobuf files: %d ids, want 0..199999", len(got))
	}
}

// TestPreallocationRefused: a file system that cannot reserve blocks gets
// the same files, and is asked once per file, not at every write.
func TestPreallocationRefused(t *testing.T) {
	checkGoroutines(t)
	dirs := [2]string{t.TempDir(), t.TempDir()}
	var ffs [2]*faultFS
	for i, d := range dirs {
		ffs[i] = &faultFS{}
		ffs[i].refuseAlloc.Store(i == 1)
		w := mustNew(t, table, Config{OutputDir: d, Arrow: true, Proto: true, MaxFileSize: 2 << 20, MaxFilesRetained: -1},
			WithClock(newFakeClock()), WithBufferedIO(), WithFileSystem(ffs[i]))
		for j := 0; j < 30; j++ {
			writeRows(t, w, memory.DefaultAllocator, j*5000, 5000)
			if j%10 == 9 {
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want, got := readTree(t, dirs[0]), readTree(t, dirs[1])
	if len(want) != len(got) {
		t.Errorf("%d files with blocks reserved, %d without", len(want), len(got))
	}
	for name, b := range want {
		if g, ok := got[name]; !ok || string(g) != string(b) {
			t.Errorf("%s differs without reserved blocks (%d bytes against %d)", name, len(g), len(b))
		}
	}
	files := int64(0)
	for name := range got {
		if ext := filepath.Ext(name); ext == ".arrow" || ext == ".proto" {
			files++
		}
	}
	if n := ffs[1].allocs.Load(); n != files {
		t.Errorf("refused: Allocate called %d times for %d files, want once per file", n, files)
	}
	if n := ffs[1].trims.Load(); n != 0 {
		t.Errorf("refused: TrimAlloc called %d times, want 0 (nothing reserved)", n)
	}
	// The reserving writer reserves and trims only where the file system
	// takes the reservation (ext4); elsewhere it is refused like ffs[1].
	if canFallocate(t, dirs[0]) && (ffs[0].allocs.Load() == 0 || ffs[0].trims.Load() == 0) {
		t.Errorf("Allocate called %d times, TrimAlloc %d times; want both (the closed active files end early)",
			ffs[0].allocs.Load(), ffs[0].trims.Load())
	}
}

// TestPreallocationPartlyFailed: a reservation that fails part-way (ENOSPC
// after some chunks) keeps the chunks already reserved; they are freed when
// the file ends early, like a complete reservation.
func TestPreallocationPartlyFailed(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	if !canFallocate(t, dir) {
		t.Skip("blocks are reserved on ext4 only, and the test directory is not on ext4")
	}
	const maxFile = 2 << 20
	ffs := &faultFS{}
	ffs.partAlloc.Store(true)
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: maxFile, MaxFilesRetained: -1},
		WithClock(newFakeClock()), WithBufferedIO(), WithFileSystem(ffs))
	defer w.Close()
	writeRows(t, w, memory.DefaultAllocator, 0, 5000)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	kinds := []struct{ dir, ext string }{
		{filepath.Join(dir, "zerobus", "arrow"), ".arrow"},
		{filepath.Join(dir, "zerobus", "proto"), ".proto"},
	}
	for _, k := range kinds {
		_, active := dataFiles(t, k.dir, SafeName(table), k.ext)
		if st := stat(t, active); st.Size >= maxFile/4 || st.Blocks*512 < maxFile/2 {
			t.Fatalf("active %s: %d bytes of blocks for %d bytes of data; want half of MaxFileSize (%d) reserved",
				k.ext, st.Blocks*512, st.Size, maxFile)
		}
	}
	if n := ffs.allocs.Load(); n != 2 {
		t.Errorf("Allocate called %d times, want once per file (2)", n)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, k := range kinds {
		_, active := dataFiles(t, k.dir, SafeName(table), k.ext)
		if st := stat(t, active); st.Blocks*512 > st.Size+64<<10 {
			t.Errorf("closed %s: %d bytes of blocks for %d bytes of data; want the partly reserved blocks freed",
				filepath.Base(active), st.Blocks*512, st.Size)
		}
	}
	if got := readProtoIDs(t, withActive(dataFiles(t, kinds[1].dir, SafeName(table), ".proto")), "Row"); !slices.Equal(got, seq(0, 5000)) {
		t.Errorf("protobuf files: %d ids, want 0..4999", len(got))
	}
}

func stat(t *testing.T, path string) *syscall.Stat_t {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return &st
}

// canFallocate reports whether the writer reserves blocks on dir's file
// system (ext4 with fallocate).
func canFallocate(t *testing.T, dir string) bool {
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	err = falloc(f, 0, 1<<20)
	if err != nil && !errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Fatalf("fallocate: %v", err)
	}
	return err == nil
}

// TestFallocExt4Only: on tmpfs (memory) nothing is reserved ahead.
func TestFallocExt4Only(t *testing.T) {
	var fs syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &fs); err != nil || fs.Type != 0x01021994 { // TMPFS_MAGIC
		t.Skip("no tmpfs at /dev/shm")
	}
	f, err := os.CreateTemp("/dev/shm", "debugfile-falloc")
	if err != nil {
		t.Skip("cannot create a file in /dev/shm:", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := falloc(f, 0, 1<<20); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("falloc on tmpfs = %v, want errors.ErrUnsupported", err)
	}
	if st := stat(t, f.Name()); st.Blocks != 0 {
		t.Errorf("tmpfs file holds %d blocks after falloc, want 0", st.Blocks)
	}
}

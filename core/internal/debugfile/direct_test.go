package debugfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"
)

// TestDirectIOFilesAreIdentical writes the same sequence through Writers in
// every I/O mode, in lockstep, and compares every file (data files and
// sidecars, names and bytes) with the buffered Writer's after each step:
// small and large batches (column buffers past directWrite, which buffered
// mode writes without a copy), records larger than a buffer, a descriptor
// change, rotation by size and by time, a failing disk and its recovery,
// and Close. Comparing after each Flush also checks that the direct active
// file ends where the data ends, at a message boundary, like the buffered
// one. Modes: "buffered" (the reference, WithBufferedIO), "direct",
// "refused" (the file system refuses O_DIRECT: buffered) and "einval" (it
// accepts the flag but refuses the direct writes: each file falls back to
// buffered writing on its first write, without losing it) and "switching"
// (direct, then busy for a while: the page cache for the rest of the file
// and for files opened meanwhile, then idle again: direct I/O from the
// middle of those files on).
func TestDirectIOFilesAreIdentical(t *testing.T) {
	checkGoroutines(t)
	modes := []string{"buffered", "direct", "refused", "einval", "switching"}
	type run struct {
		dir string
		clk *fakeClock
		ffs *faultFS
		w   *Writer
	}
	runs := make([]*run, len(modes))
	for i, m := range modes {
		r := &run{dir: t.TempDir(), clk: newFakeClock(), ffs: &faultFS{}}
		opts := []Option{WithClock(r.clk), WithFileSystem(r.ffs)}
		switch m {
		case "buffered":
			opts = append(opts, WithBufferedIO())
		case "direct", "switching":
			// The writer's real load is not observed: "switching" is busy
			// exactly when the test says so (testBusy).
			opts = append(opts, func(o *options) { o.pinnedIO = true })
		case "refused":
			r.ffs.refuseDirect.Store(true)
		case "einval":
			r.ffs.einvalDirect.Store(true)
			opts = append(opts, func(o *options) { o.pinnedIO = true })
		}
		r.w = mustNew(t, table, Config{OutputDir: r.dir, Arrow: true, Proto: true, MaxFileSize: 2 << 20,
			RotationInterval: time.Minute, MaxFilesRetained: -1}, opts...)
		defer r.w.Close()
		runs[i] = r
	}
	each := func(f func(r *run)) {
		for _, r := range runs {
			f(r)
		}
	}
	compare := func(step string) {
		t.Helper()
		want := readTree(t, runs[0].dir)
		if len(want) == 0 {
			t.Fatalf("%s: the buffered writer wrote no files", step)
		}
		for i, r := range runs[1:] {
			got := readTree(t, r.dir)
			for name, b := range want {
				g, ok := got[name]
				switch {
				case !ok:
					t.Errorf("%s: %s: %s missing", step, modes[i+1], name)
				case !bytes.Equal(g, b):
					t.Errorf("%s: %s: %s differs: %d bytes, buffered %d (first difference at %d)",
						step, modes[i+1], name, len(g), len(b), firstDiff(g, b))
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("%s: %s: extra file %s", step, modes[i+1], name)
				}
			}
		}
	}
	flush := func(step string, wantErr bool) {
		t.Helper()
		for i, r := range runs {
			if err := r.w.Flush(); (err != nil) != wantErr {
				t.Fatalf("%s: %s: Flush = %v, want an error: %v", step, modes[i], err, wantErr)
			}
		}
		compare(step)
	}
	bigRecord := protowire.AppendTag(nil, 1, protowire.VarintType)
	bigRecord = protowire.AppendVarint(bigRecord, 999_999)
	bigRecord = protowire.AppendTag(bigRecord, 2, protowire.BytesType)
	bigRecord = protowire.AppendString(bigRecord, strings.Repeat("z", dioBufSize+300<<10)) // more than a buffer

	each(func(r *run) { writeRows(t, r.w, memory.DefaultAllocator, 0, 1000) })
	flush("small", false)

	// The same files: busy (the page cache from the next drain on), idle
	// again (direct I/O from the file's unaligned end), busy and idle with
	// no write in between.
	switching := runs[len(runs)-1].w
	small := func(step string, busy bool, from int) {
		t.Helper()
		switching.testBusy.Store(busy)
		each(func(r *run) {
			writeRows(t, r.w, memory.DefaultAllocator, from, 33)
			r.w.WriteProto(testDesc("Row"), makeRecords(from, 5), nil)
		})
		flush(step, false)
	}
	small("busy, same file", true, 1000)
	small("idle again, same file", false, 1100)
	small("busy again", true, 1200)
	switching.testBusy.Store(false)
	each(func(r *run) { writeRows(t, r.w, memory.DefaultAllocator, 1300, 5000) })
	flush("idle again, a larger write", false)

	each(func(r *run) {
		writeRows(t, r.w, memory.DefaultAllocator, 1000, 3)
		writeRows(t, r.w, memory.DefaultAllocator, 1003, 150_000) // ~2.6 MB of columns: past MaxFileSize
		recs := append(makeRecords(200_000, 10), bigRecord)
		r.w.WriteProto(testDesc("Row"), append(recs, makeRecords(200_010, 5)...), nil)
		writeRows(t, r.w, memory.DefaultAllocator, 300_000, 7)
	})
	flush("large writes, rotation by size", false)

	switching.testBusy.Store(true) // busy: the page cache, from the next drain on
	each(func(r *run) {
		writeRows(t, r.w, memory.DefaultAllocator, 310_000, 50_000)
		r.w.WriteProto(testDesc("Row2"), makeRecords(400_000, 100), nil) // a new descriptor: a new file
		writeRows(t, r.w, memory.DefaultAllocator, 400_100, 100)
	})
	flush("busy, descriptor change", false)
	switching.testBusy.Store(false) // idle: direct I/O again, mid-file (the files end mid-block)
	each(func(r *run) {
		writeRows(t, r.w, memory.DefaultAllocator, 410_000, 7)
		r.w.WriteProto(testDesc("Row2"), makeRecords(410_000, 3), nil)
	})
	flush("idle again, small writes", false)
	each(func(r *run) {
		writeRows(t, r.w, memory.DefaultAllocator, 420_000, 30_000)
		r.w.WriteProto(testDesc("Row2"), makeRecords(420_000, 30_000), nil)
	})
	flush("idle again, large writes", false)

	// Both kinds rotate on the tick, each in its own drain: wait for both
	// before comparing the trees.
	rotated := func(r *run) int {
		ra, _ := dataFiles(t, filepath.Join(r.dir, "zerobus", "arrow"), table, ".arrow")
		rp, _ := dataFiles(t, filepath.Join(r.dir, "zerobus", "proto"), table, ".proto")
		return len(ra) + len(rp)
	}
	before := rotated(runs[0])
	each(func(r *run) { r.clk.Advance(time.Minute) })
	eventually(t, "the rotation ticks", func() bool {
		for _, r := range runs {
			if rotated(r) != before+2 {
				return false
			}
		}
		return true
	})
	compare("rotation by time")

	each(func(r *run) {
		writeRows(t, r.w, memory.DefaultAllocator, 500_000, 2000)
		writeRows(t, r.w, memory.DefaultAllocator, 502_000, 20_000)
	})
	flush("before the disk fails", false)
	each(func(r *run) {
		r.ffs.failWrites.Store(true)
		writeRows(t, r.w, memory.DefaultAllocator, 600_000, 30_000) // lost
	})
	flush("disk full", true)
	each(func(r *run) {
		writeRows(t, r.w, memory.DefaultAllocator, 700_000, 10) // queued while broken
		r.ffs.failWrites.Store(false)
	})
	rotatedArrow := func(r *run) int {
		ra, _ := dataFiles(t, filepath.Join(r.dir, "zerobus", "arrow"), table, ".arrow")
		return len(ra)
	}
	before = rotatedArrow(runs[0])
	each(func(r *run) { r.clk.Advance(DefaultFlushInterval) }) // rotates the broken files aside
	eventually(t, "the broken files to be rotated", func() bool {
		for _, r := range runs {
			if rotatedArrow(r) != before+1 {
				return false
			}
		}
		return true
	})
	each(func(r *run) { writeRows(t, r.w, memory.DefaultAllocator, 800_000, 5000) })
	flush("recovered", false)

	each(func(r *run) {
		writeRows(t, r.w, memory.DefaultAllocator, 900_000, 333)
		if err := r.w.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
	compare("Close")

	// Every mode did what its name says.
	files := func(r *run) (direct, buffered, fallbacks int64) {
		for _, s := range r.w.sinks() {
			direct += s.directFiles.Load()
			buffered += s.bufferedFiles.Load()
			fallbacks += s.dioFallbacks.Load()
		}
		return direct, buffered, fallbacks
	}
	if d, _, _ := files(runs[0]); d != 0 {
		t.Errorf("buffered: %d files opened for direct I/O", d)
	}
	if d, _, _ := files(runs[2]); d != 0 {
		t.Errorf("refused: %d files opened for direct I/O", d)
	}
	d, b, _ := files(runs[1])
	if d == 0 {
		t.Skipf("the OS refuses direct I/O in %s (%d buffered files): only the fallbacks were compared", runs[1].dir, b)
	}
	if b != 0 {
		t.Errorf("direct: %d of %d files written buffered", b, b+d)
	}
	if _, _, fb := files(runs[1]); fb != 0 {
		t.Errorf("direct: %d files fell back to buffered writing", fb)
	}
	d, b, _ = files(runs[4])
	if left := switching.arrow.leftDirect.Load() + switching.proto.leftDirect.Load(); d == 0 || b == 0 || left == 0 {
		t.Errorf("switching: %d direct files, %d buffered, %d left direct I/O when busy; want some of each", d, b, left)
	}
	for _, s := range switching.sinks() {
		if s.enteredDirect.Load() == 0 {
			t.Errorf("switching: the %s file opened while busy did not go on with direct I/O once idle", s.kind)
		}
	}
	// Files that only ever got a tail (written through the page cache at a
	// rest point) never tried a direct write.
	if d, _, fb := files(runs[3]); d == 0 || fb == 0 || fb > d {
		t.Errorf("einval: %d direct files, %d fell back; want some, at most all", d, fb)
	}
}

// readTree returns every file under dir/zerobus by relative path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	root := filepath.Join(dir, "zerobus")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		out[rel] = b
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestIOLoad: the page cache takes over when the background goroutine
// spends more than busyAbove of its time writing (the short average), and
// direct I/O comes back when both averages are below idleBelow: not after a
// short quiet spell that follows a long busy one, but after pauses.
func TestIOLoad(t *testing.T) {
	var l ioLoad
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// n rounds of d every step
	run := func(n int, d, step time.Duration) {
		for i := 0; i < n; i++ {
			l.observe(at, d)
			at = at.Add(step)
		}
	}
	ms := time.Millisecond
	run(100, ms, 50*ms) // 2% busy for 5 s
	if l.busy {
		t.Fatalf("2%% busy: left direct I/O (averages %.2f, %.2f)", l.avg, l.slow)
	}
	run(100, 3*ms, 20*ms) // 15% for 2 s: below busyAbove
	if l.busy {
		t.Fatalf("15%% busy: left direct I/O (averages %.2f, %.2f)", l.avg, l.slow)
	}
	run(10, 8*ms, 10*ms) // 80% for 100 ms: a sender faster than the disk
	if !l.busy {
		t.Fatalf("80%% busy for 100 ms: still direct I/O (averages %.2f, %.2f)", l.avg, l.slow)
	}
	run(100, 8*ms, 10*ms) // 80% for 1 s
	run(20, ms, 40*ms)    // 2.5% for 800 ms: the short average is low, the long one is not
	if !l.busy || l.avg > idleBelow {
		t.Fatalf("2.5%% busy for 800 ms after 80%%: back to direct I/O too early, or the short average is still high (averages %.2f, %.2f)", l.avg, l.slow)
	}
	run(40, 3*ms, 10*ms) // 30%: between the thresholds, no change
	if !l.busy {
		t.Fatalf("30%% busy: back to direct I/O (averages %.2f, %.2f)", l.avg, l.slow)
	}
	run(200, ms, 50*ms) // 2% for 10 s
	if l.busy {
		t.Fatalf("2%% busy for 10 s: still through the page cache (averages %.2f, %.2f)", l.avg, l.slow)
	}
	run(100, 8*ms, 10*ms)    // 80%
	for i := 0; i < 4; i++ { // a pause before each round: idle again
		at = at.Add(time.Second)
		l.observe(at, 5*ms)
	}
	if l.busy {
		t.Fatalf("after pauses: not direct I/O (averages %.2f, %.2f)", l.avg, l.slow)
	}
}

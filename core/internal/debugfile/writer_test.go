package debugfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

const table = "main.default.events"

func TestDisabledWriterIsANoOp(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := makeBatch(mem, 0, 3)
	defer rec.Release()

	enabled, err := New(table, Config{OutputDir: dir})
	if err != nil {
		t.Fatalf("New(disabled): %v", err)
	}
	for _, tc := range []struct {
		name string
		w    *Writer
	}{
		{"nil", nil},
		{"zero", &Writer{}},
		{"New with nothing enabled", enabled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.w.WriteArrow(rec)
			tc.w.WriteProto(testDesc("Row"), makeRecords(0, 2), nil)
			if err := tc.w.Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
			a, p := tc.w.Paths()
			if a != "" || p != "" {
				t.Errorf("Paths() = %q, %q; want empty", a, p)
			}
			for i := 0; i < 2; i++ {
				if err := tc.w.Close(); err != nil {
					t.Errorf("Close #%d: %v", i+1, err)
				}
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("disabled writer created %d entries in the output dir", len(entries))
	}
	if (Config{Arrow: true}).Enabled() != true || (Config{Proto: true}).Enabled() != true || (Config{}).Enabled() {
		t.Errorf("Config.Enabled is wrong")
	}
}

func TestRoundTrip(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true}, WithAllocator(mem))
	var sent []arrow.RecordBatch
	for i := 0; i < 5; i++ {
		rec := makeBatch(mem, i*10, 10)
		w.WriteArrow(rec)
		sent = append(sent, rec) // kept only to compare; the writer does not need it
		w.WriteProto(testDesc("Row"), makeRecords(i*10, 10), nil)
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	arrowPath, protoPath := w.Paths()
	if want := filepath.Join(dir, "zerobus", "arrow", "main.default.events.arrow"); arrowPath != want {
		t.Errorf("arrow path = %q, want %q", arrowPath, want)
	}
	if want := filepath.Join(dir, "zerobus", "proto", "main.default.events.proto"); protoPath != want {
		t.Errorf("proto path = %q, want %q", protoPath, want)
	}
	// Readable while the writer is still open (no end-of-stream marker yet).
	if got := readArrowIDs(t, []string{arrowPath}, false); !cmp.Equal(got, seq(0, 50)) {
		t.Errorf("ids before Close: %v", cmp.Diff(seq(0, 50), got))
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	checkArrowFile(t, arrowPath, mem, sent)
	if raw, _ := os.ReadFile(arrowPath); !strings.HasSuffix(string(raw), string(eos)) {
		t.Errorf("closed Arrow file has no end-of-stream marker")
	}

	desc, recs, err := ReadProtoFile(protoPath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(testDesc("Row"), desc, protocmp.Transform()); diff != "" {
		t.Errorf("descriptor (-want +got):\n%s", diff)
	}
	var want [][]byte
	for i := 0; i < 5; i++ {
		want = append(want, makeRecords(i*10, 10)...)
	}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	text, err := os.ReadFile(filepath.Join(dir, "zerobus", "proto", "main.default.events"+textprotoSuffix))
	if err != nil || !strings.Contains(string(text), `"Row"`) || !strings.Contains(string(text), "TYPE_INT64") {
		t.Errorf("textproto sidecar = %q, %v; want the descriptor as text", text, err)
	}
	// Writes after Close are ignored; Flush reports the writer closed.
	late := makeBatch(mem, 1000, 1)
	w.WriteArrow(late)
	late.Release()
	if err := w.Flush(); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
}

func TestRotationBySize(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const maxSize = 4 << 10
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: maxSize, MaxFilesRetained: -1}, WithAllocator(mem))
	const batches, rows = 40, 20
	maxBatch := int64(0)
	for i := 0; i < batches; i++ {
		writeRows(t, w, mem, i*rows, rows)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, k := range []struct{ kind, ext string }{{"arrow", ".arrow"}, {"proto", ".proto"}} {
		t.Run(k.kind, func(t *testing.T) {
			kdir := filepath.Join(dir, "zerobus", k.kind)
			rotated, active := dataFiles(t, kdir, "main.default.events", k.ext)
			if len(rotated) < 2 {
				t.Fatalf("got %d rotated files, want several at %d bytes each", len(rotated), maxSize)
			}
			files := withActive(rotated, active)
			for _, f := range files {
				st, err := os.Stat(f)
				if err != nil {
					t.Fatal(err)
				}
				// A file passes the limit by less than one batch (a batch here is < 2 KiB).
				if st.Size() > maxSize+2<<10 {
					t.Errorf("%s is %d bytes, limit %d plus one batch", filepath.Base(f), st.Size(), maxSize)
				}
				maxBatch = max(maxBatch, st.Size())
			}
			var got []int64
			if k.kind == "arrow" {
				got = readArrowIDs(t, files, true)
			} else {
				got = readProtoIDs(t, files, "Row")
			}
			if diff := cmp.Diff(seq(0, batches*rows), got); diff != "" {
				t.Errorf("ids across files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRotationByInterval(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	clk := newFakeClock()
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, RotationInterval: time.Minute, FlushInterval: time.Hour},
		WithClock(clk))
	defer w.Close()
	adir := filepath.Join(dir, "zerobus", "arrow")
	pdir := filepath.Join(dir, "zerobus", "proto")
	for i := 0; i < 3; i++ {
		writeRows(t, w, memory.DefaultAllocator, i*5, 5)
		clk.Advance(time.Minute)
		eventually(t, "an interval rotation", func() bool {
			ra, _ := dataFiles(t, adir, "main.default.events", ".arrow")
			rp, _ := dataFiles(t, pdir, "main.default.events", ".proto")
			return len(ra) == i+1 && len(rp) == i+1
		})
	}
	// An interval with no data rotates nothing.
	clk.Advance(time.Minute)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ra, active := dataFiles(t, adir, "main.default.events", ".arrow")
	if len(ra) != 3 || active != "" {
		t.Errorf("arrow files: %d rotated, active %q; want 3 rotated and no active file", len(ra), active)
	}
	for i, f := range ra {
		if got := readArrowIDs(t, []string{f}, true); !cmp.Equal(got, seq(i*5, 5)) {
			t.Errorf("%s: ids %v, want %v", filepath.Base(f), got, seq(i*5, 5))
		}
	}
	rp, _ := dataFiles(t, pdir, "main.default.events", ".proto")
	if got := readProtoIDs(t, rp, "Row"); !cmp.Equal(got, seq(0, 15)) {
		t.Errorf("proto ids %v, want %v", got, seq(0, 15))
	}
}

func TestRetention(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep int
		want int // rotated files left per kind
	}{
		{"keep 3", 3, 3},
		{"default", 0, DefaultMaxFilesRetained},
		{"keep all", -1, 14}, // n - 1: the last write stays in the active file
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkGoroutines(t)
			dir := t.TempDir()
			adir := filepath.Join(dir, "zerobus", "arrow")
			pdir := filepath.Join(dir, "zerobus", "proto")
			// Files of other tables, and a non-rotation file with our prefix.
			bystanders := []string{
				filepath.Join(adir, "a_b-20200101T000000.000Z-0000.arrow"),
				filepath.Join(adir, "a_b.arrow"),
				filepath.Join(adir, "a-notes.arrow"),
				filepath.Join(adir, "a.b-20200101T000000.000Z-0000.arrow"),
				filepath.Join(pdir, "a_b-20200101T000000.000Z-0000.proto"),
				filepath.Join(pdir, "a_b-20200101T000000.000Z-0000.descriptor.pb"),
			}
			for _, d := range []string{adir, pdir} {
				if err := os.MkdirAll(d, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			for _, b := range bystanders {
				if err := os.WriteFile(b, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			clk := newFakeClock()
			w := mustNew(t, "a", Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: 1, MaxFilesRetained: tc.keep}, WithClock(clk))
			const n = 15 // MaxFileSize 1: every write rotates its file (before the next write)
			for i := 0; i < n; i++ {
				writeRows(t, w, memory.DefaultAllocator, i, 1)
				clk.Advance(time.Millisecond)
				if err := w.Flush(); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			want := min(tc.want, n-1)
			if tc.keep < 0 {
				want = n - 1
			}
			ra, aa := dataFiles(t, adir, "a", ".arrow")
			if len(ra) != want {
				t.Errorf("arrow: %d rotated files, want %d", len(ra), want)
			}
			// The newest files are the ones kept, and the last write is in
			// the active file.
			if got := readArrowIDs(t, append(ra, aa), true); !cmp.Equal(got, seq(n-1-want, want+1)) {
				t.Errorf("kept arrow ids %v, want %v", got, seq(n-1-want, want+1))
			}
			rp, ap := dataFiles(t, pdir, "a", ".proto")
			if len(rp) != want {
				t.Errorf("proto: %d rotated files, want %d", len(rp), want)
			}
			if got := readProtoIDs(t, append(rp, ap), "Row"); !cmp.Equal(got, seq(n-1-want, want+1)) {
				t.Errorf("kept proto ids %v, want %v", got, seq(n-1-want, want+1))
			}
			// Sidecars of deleted proto files are gone too: one .pb per data file.
			entries, _ := os.ReadDir(pdir)
			pbs := 0
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), "a-") && strings.HasSuffix(e.Name(), descriptorSuffix) {
					pbs++
				}
			}
			if pbs != want {
				t.Errorf("%d rotated descriptor sidecars, want %d", pbs, want)
			}
			for _, b := range bystanders {
				if _, err := os.Stat(b); err != nil {
					t.Errorf("retention touched another table's file %s: %v", filepath.Base(b), err)
				}
			}
		})
	}
}

// RetainNone keeps no rotated file (the original API's
// debug_max_files_retained=0): after rotations the directory holds the
// active file with the newest data, its descriptor sidecar, and other
// tables' files; the rotated files, a previous run's included, are gone.
func TestRetainNoneKeepsOnlyTheActiveFile(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	adir := filepath.Join(dir, "zerobus", "arrow")
	pdir := filepath.Join(dir, "zerobus", "proto")
	bystanders := map[string][]string{
		adir: {"a_b-20200101T000000.000Z-0000.arrow", "a-notes.arrow"},
		pdir: {"a_b-20200101T000000.000Z-0000.proto", "a_b-20200101T000000.000Z-0000.descriptor.pb"},
	}
	previousRun := map[string][]string{
		adir: {"a-20200101T000000.000Z-0000.arrow"},
		pdir: {"a-20200101T000000.000Z-0000.proto", "a-20200101T000000.000Z-0000.descriptor.pb"},
	}
	for d, names := range bystanders {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		for _, n := range append(names, previousRun[d]...) {
			if err := os.WriteFile(filepath.Join(d, n), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	list := func(d string) []string {
		entries, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), lockSuffix) { // the writer's lock (a.arrow.lock), held while it runs
				names = append(names, e.Name())
			}
		}
		return names
	}
	clk := newFakeClock()
	w := mustNew(t, "a", Config{OutputDir: dir, Arrow: true, Proto: true, RotationInterval: time.Minute,
		FlushInterval: time.Hour, MaxFilesRetained: RetainNone}, WithClock(clk))
	for i := 0; i < 3; i++ {
		writeRows(t, w, memory.DefaultAllocator, i*5, 5)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute) // rotates both files; RetainNone deletes what was rotated
		eventually(t, "a rotation that leaves no file of table a", func() bool {
			for _, d := range []string{adir, pdir} {
				if len(list(d)) != len(bystanders[d]) {
					return false
				}
			}
			return true
		})
	}
	writeRows(t, w, memory.DefaultAllocator, 15, 5)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		adir: append([]string{"a.arrow"}, bystanders[adir]...),
		pdir: append([]string{"a.descriptor.pb", "a.descriptor.textproto", "a.proto"}, bystanders[pdir]...),
	}
	for d, names := range want {
		if got := list(d); !cmp.Equal(sortedNames(got), sortedNames(names)) {
			t.Errorf("%s holds %v, want %v", d, got, sortedNames(names))
		}
	}
	if got := readArrowIDs(t, []string{filepath.Join(adir, "a.arrow")}, true); !cmp.Equal(got, seq(15, 5)) {
		t.Errorf("active arrow file: ids %v, want %v", got, seq(15, 5))
	}
	if got := readProtoIDs(t, []string{filepath.Join(pdir, "a.proto")}, "Row"); !cmp.Equal(got, seq(15, 5)) {
		t.Errorf("active proto file: ids %v, want %v", got, seq(15, 5))
	}
}

func sortedNames(names []string) []string {
	c := append([]string(nil), names...)
	sort.Strings(c)
	return c
}

func TestConcurrentWritersLoseNothing(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: 3 << 10, MaxFilesRetained: -1}, WithAllocator(mem))
	const goroutines, batches, rows = 8, 40, 7
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				start := (g*batches + b) * rows
				writeRows(t, w, mem, start, rows)
				if b%10 == 0 {
					if err := w.Flush(); err != nil {
						t.Errorf("Flush: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := seq(0, goroutines*batches*rows)
	ra, aa := dataFiles(t, filepath.Join(dir, "zerobus", "arrow"), "main.default.events", ".arrow")
	if len(ra) < 10 {
		t.Errorf("only %d Arrow rotations; the test wants many", len(ra))
	}
	if diff := cmp.Diff(want, sortedCopy(readArrowIDs(t, withActive(ra, aa), true))); diff != "" {
		t.Errorf("arrow ids (-want +got):\n%s", diff)
	}
	rp, ap := dataFiles(t, filepath.Join(dir, "zerobus", "proto"), "main.default.events", ".proto")
	if diff := cmp.Diff(want, sortedCopy(readProtoIDs(t, withActive(rp, ap), "Row"))); diff != "" {
		t.Errorf("proto ids (-want +got):\n%s", diff)
	}
}

func TestFlushIntervalWithoutFurtherWrites(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	clk := newFakeClock()
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, FlushInterval: 5 * time.Second}, WithClock(clk))
	defer w.Close()
	writeRows(t, w, memory.DefaultAllocator, 0, 4)
	arrowPath, protoPath := w.Paths()
	// Small writes stay buffered until the interval passes.
	clk.Advance(4 * time.Second)
	time.Sleep(20 * time.Millisecond) // give a wrongly eager writer a chance to show itself
	for _, p := range []string{arrowPath, protoPath} {
		if st, err := os.Stat(p); err == nil && st.Size() > 0 {
			t.Errorf("%s has %d bytes before the flush interval", filepath.Base(p), st.Size())
		}
	}
	clk.Advance(time.Second)
	eventually(t, "the flush interval to write the Arrow batch", func() bool {
		recs, err := ReadArrowFile(arrowPath, memory.DefaultAllocator)
		for _, r := range recs {
			r.Release()
		}
		return err == nil && len(recs) == 1
	})
	if got := readArrowIDs(t, []string{arrowPath}, false); !cmp.Equal(got, seq(0, 4)) {
		t.Errorf("arrow ids %v, want %v", got, seq(0, 4))
	}
	eventually(t, "the flush interval to write the records", func() bool {
		_, recs, err := ReadProtoFile(protoPath)
		return err == nil && len(recs) == 4
	})
}

func TestNewUnwritableDir(t *testing.T) {
	checkGoroutines(t)
	parent := t.TempDir()
	notADir := filepath.Join(parent, "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ffs := &faultFS{}
	ffs.failCreate.Store(true)
	for _, tc := range []struct {
		name     string
		dir      string
		opts     []Option
		wantText []string
	}{
		{"path is a file", notADir, nil, []string{filepath.Join(notADir, "zerobus", "arrow"), "cannot create debug output directory", "turn debug output off"}},
		{"files cannot be created", parent, []Option{WithFileSystem(ffs)}, []string{filepath.Join(parent, "zerobus", "arrow"), "not writable", "no space left"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := New(table, Config{OutputDir: tc.dir, Arrow: true}, tc.opts...)
			if err == nil {
				w.Close()
				t.Fatal("New succeeded, want an error")
			}
			for _, s := range tc.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestInvalidConfig(t *testing.T) {
	_, err := New(table, Config{Arrow: true, FlushInterval: -1, MaxFileSize: -2, RotationInterval: -3})
	if err == nil {
		t.Fatal("New accepted an invalid config")
	}
	for _, s := range []string{"OutputDir", "FlushInterval", "MaxFileSize", "RotationInterval"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
}

func TestDiskFullRecovers(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	clk := newFakeClock()
	tel, reader := newTestTelemetry()
	ffs := &faultFS{}
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFilesRetained: -1},
		WithClock(clk), WithFileSystem(ffs), WithTelemetry(tel))
	defer w.Close()
	write := func(start, n int) {
		writeRows(t, w, memory.DefaultAllocator, start, n)
	}
	write(0, 10)
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush before the failure: %v", err)
	}

	ffs.failWrites.Store(true)
	write(10, 10) // lost: the disk is full
	err := w.Flush()
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("Flush with a full disk = %v, want the disk-full error", err)
	}
	if !strings.Contains(err.Error(), "main.default.events.arrow") || !strings.Contains(err.Error(), "main.default.events.proto") {
		t.Errorf("error %q does not name both files", err)
	}
	write(20, 10) // queued while the file is broken, without blocking
	if got := counter(t, reader, "zerobus.debug.failures"); got < 2 {
		t.Errorf("zerobus.debug.failures = %d, want >= 2", got)
	}

	ffs.failWrites.Store(false)
	clk.Advance(DefaultFlushInterval) // the flush tick rotates the broken files aside
	eventually(t, "the broken files to be rotated", func() bool {
		ra, _ := dataFiles(t, filepath.Join(dir, "zerobus", "arrow"), "main.default.events", ".arrow")
		rp, _ := dataFiles(t, filepath.Join(dir, "zerobus", "proto"), "main.default.events", ".proto")
		return len(ra) == 1 && len(rp) == 1
	})
	write(30, 10)
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush after recovery: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ra, aa := dataFiles(t, filepath.Join(dir, "zerobus", "arrow"), "main.default.events", ".arrow")
	// The broken file holds what was written before the failure.
	if got := readArrowIDs(t, ra, false); !cmp.Equal(got, seq(0, 10)) {
		t.Errorf("broken arrow file ids %v, want %v", got, seq(0, 10))
	}
	// Rows 10-19 were lost with the broken file (recorded as a gap in the
	// fresh file); 20-29, queued while it was broken, reach the fresh one.
	if got := readArrowIDs(t, []string{aa}, true); !cmp.Equal(got, seq(20, 20)) {
		t.Errorf("fresh arrow file ids %v, want %v", got, seq(20, 20))
	}
	rp, ap := dataFiles(t, filepath.Join(dir, "zerobus", "proto"), "main.default.events", ".proto")
	if got := readProtoIDs(t, rp, "Row"); !cmp.Equal(got, seq(0, 10)) {
		t.Errorf("broken proto file ids %v, want %v", got, seq(0, 10))
	}
	if got := readProtoIDs(t, []string{ap}, "Row"); !cmp.Equal(got, seq(20, 20)) {
		t.Errorf("fresh proto file ids %v, want %v", got, seq(20, 20))
	}
	for _, p := range []string{aa, ap} {
		gaps, err := ReadDrops(p)
		want := []Gap{{DroppedWrites: 1, DroppedRows: 10, Reason: reasonFileFailed}}
		if err != nil || len(gaps) != 1 {
			t.Fatalf("ReadDrops(%s) = %+v, %v; want %+v", filepath.Base(p), gaps, err, want)
		}
		gaps[0].DroppedBytes = 0
		if !cmp.Equal(gaps, want) {
			t.Errorf("ReadDrops(%s) = %+v, want %+v", filepath.Base(p), gaps, want)
		}
	}
}

func TestSlowDiskNeverBlocksWrites(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	tel, reader := newTestTelemetry()
	ffs := &faultFS{block: make(chan struct{})}
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFilesRetained: -1},
		WithFileSystem(ffs), WithTelemetry(tel), WithMaxBuffered(1<<20))
	done := make(chan struct{})
	go func() {
		defer close(done)
		// ~2.7 MiB per kind: past 256 KiB (which wakes the background
		// goroutine, which then hangs in Write) and the 1 MiB budget.
		for i := 0; i < 120; i++ {
			writeRows(t, w, memory.DefaultAllocator, i*1000, 1000)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		close(ffs.block)
		t.Fatal("writes blocked on a stalled disk")
	}
	if got := counter(t, reader, "zerobus.debug.dropped"); got == 0 {
		t.Errorf("zerobus.debug.dropped = 0, want the dropped writes counted")
	}
	eventually(t, "the background goroutine to reach the stalled Write", func() bool {
		return ffs.waiting.Load() > 0
	})
	close(ffs.block)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// What was kept is a readable stream of whole batches, in order.
	ids := readArrowIDs(t, []string{filepath.Join(dir, "zerobus", "arrow", "main.default.events.arrow")}, true)
	if len(ids) == 0 || len(ids) >= 120*1000 || len(ids)%1000 != 0 {
		t.Errorf("kept %d rows; want some whole batches but not all", len(ids))
	}
	if !cmp.Equal(ids, sortedCopy(ids)) {
		t.Errorf("kept rows are out of order")
	}
}

func TestSameMillisecondRotationsDoNotCollide(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	clk := newFakeClock() // never advanced: every rotation has the same timestamp
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: 1, MaxFilesRetained: -1}, WithClock(clk))
	const n = 12
	for i := 0; i < n; i++ {
		writeRows(t, w, memory.DefaultAllocator, i, 1)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ra, aa := dataFiles(t, filepath.Join(dir, "zerobus", "arrow"), "main.default.events", ".arrow")
	if len(ra) != n-1 { // the last write stays in the active file
		t.Fatalf("%d rotated Arrow files, want %d", len(ra), n-1)
	}
	// Name order is write order.
	if got := readArrowIDs(t, append(ra, aa), true); !cmp.Equal(got, seq(0, n)) {
		t.Errorf("ids in name order %v, want %v", got, seq(0, n))
	}
	rp, ap := dataFiles(t, filepath.Join(dir, "zerobus", "proto"), "main.default.events", ".proto")
	if got := readProtoIDs(t, append(rp, ap), "Row"); !cmp.Equal(got, seq(0, n)) {
		t.Errorf("proto ids in name order %v, want %v", got, seq(0, n))
	}
}

func TestRestartDoesNotTruncate(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	clk := newFakeClock()
	run := func(start int) {
		w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true}, WithClock(clk))
		writeRows(t, w, memory.DefaultAllocator, start, 5)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	run(0)
	run(100) // same clock millisecond as the first run
	run(200)
	adir, pdir := filepath.Join(dir, "zerobus", "arrow"), filepath.Join(dir, "zerobus", "proto")
	ra, aa := dataFiles(t, adir, "main.default.events", ".arrow")
	want := append(append(seq(0, 5), seq(100, 5)...), seq(200, 5)...)
	if got := readArrowIDs(t, withActive(ra, aa), true); !cmp.Equal(got, want) {
		t.Errorf("arrow ids over three runs %v, want %v", got, want)
	}
	rp, ap := dataFiles(t, pdir, "main.default.events", ".proto")
	if got := readProtoIDs(t, withActive(rp, ap), "Row"); !cmp.Equal(got, want) {
		t.Errorf("proto ids over three runs %v, want %v", got, want)
	}
}

func TestSchemaChangeStartsNewFile(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFilesRetained: -1}, WithAllocator(mem))
	otherSchema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Float64}}, nil)
	b := array.NewRecordBuilder(mem, otherSchema)
	b.Field(0).(*array.Float64Builder).AppendValues([]float64{1.5, 2.5}, nil)
	other := b.NewRecordBatch()
	b.Release()
	rec := makeBatch(mem, 0, 3)
	w.WriteArrow(rec)
	w.WriteArrow(other)
	w.WriteArrow(rec)
	rec.Release()
	other.Release()

	descB := testDesc("RowB")
	w.WriteProto(testDesc("Row"), makeRecords(0, 2), nil)
	w.WriteProto(testDesc("Row"), makeRecords(2, 2), nil) // equal content, new pointer: same file
	w.WriteProto(descB, makeRecords(4, 2), nil)
	w.WriteProto(descB, makeRecords(6, 2), nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ra, aa := dataFiles(t, filepath.Join(dir, "zerobus", "arrow"), "main.default.events", ".arrow")
	files := withActive(ra, aa)
	if len(files) != 3 {
		t.Fatalf("%d Arrow files, want 3 (one per schema run)", len(files))
	}
	wantSchemas := []*arrow.Schema{testSchema, otherSchema, testSchema}
	for i, f := range files {
		recs, err := ReadArrowFile(f, mem)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || !recs[0].Schema().Equal(wantSchemas[i]) {
			t.Errorf("file %d: %d batches, want 1 with schema %v", i, len(recs), wantSchemas[i])
		}
		for _, r := range recs {
			r.Release()
		}
	}
	rp, ap := dataFiles(t, filepath.Join(dir, "zerobus", "proto"), "main.default.events", ".proto")
	if len(rp) != 1 {
		t.Fatalf("%d rotated proto files, want 1", len(rp))
	}
	if got := readProtoIDs(t, rp, "Row"); !cmp.Equal(got, seq(0, 4)) {
		t.Errorf("first descriptor's ids %v", got)
	}
	if got := readProtoIDs(t, []string{ap}, "RowB"); !cmp.Equal(got, seq(4, 4)) {
		t.Errorf("second descriptor's ids %v", got)
	}
}

func TestPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Log("Windows has no Unix permission bits; only checking that files exist")
	}
	checkGoroutines(t)
	dir := t.TempDir()
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: 1})
	rec := makeBatch(memory.DefaultAllocator, 0, 2)
	w.WriteArrow(rec)
	w.WriteArrow(rec)
	rec.Release()
	w.WriteProto(testDesc("Row"), makeRecords(0, 1), nil)
	w.WriteProto(testDesc("Row"), makeRecords(1, 1), nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	checked := 0
	err := filepath.WalkDir(filepath.Join(dir, "zerobus"), func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if runtime.GOOS != "windows" && st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, st.Mode().Perm(), want)
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// 3 dirs; arrow: 2 rotated; proto: 2 rotated x 3 files.
	if checked != 3+2+6 {
		t.Errorf("checked %d entries, want %d", checked, 11)
	}
}

func TestLargeWritesSpanBlocks(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true}, WithAllocator(mem))
	big := makeBatch(mem, 0, 40000) // ~1 MiB of IPC body: several blocks
	w.WriteArrow(big)
	small := makeBatch(mem, 40000, 3)
	w.WriteArrow(small)
	huge := make([]byte, 3*directWrite+17) // one record larger than a block
	for i := range huge {
		huge[i] = byte(i)
	}
	records := [][]byte{[]byte("a"), huge, []byte("bc"), {}, huge[:directWrite-1]}
	w.WriteProto(testDesc("Row"), records, nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, p := w.Paths()
	got, err := ReadArrowFile(a, mem)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !array.RecordEqual(got[0], big) || !array.RecordEqual(got[1], small) {
		t.Errorf("read back %d batches that differ from the written ones", len(got))
	}
	for _, r := range append(got, big, small) {
		r.Release()
	}
	_, recs, err := ReadProtoFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(records) {
		t.Fatalf("read %d records, want %d", len(recs), len(records))
	}
	for i := range records {
		if !bytes.Equal(recs[i], records[i]) {
			t.Errorf("record %d: %d bytes differ from the %d written", i, len(recs[i]), len(records[i]))
		}
	}
}

func TestDictionaryColumnsAreReleased(t *testing.T) {
	checkGoroutines(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{{Name: "color", Type: dt, Nullable: true}}, nil)
	w := mustNew(t, table, Config{OutputDir: t.TempDir(), Arrow: true, MaxFilesRetained: -1}, WithAllocator(mem))
	var sent []arrow.RecordBatch
	for _, vals := range [][]string{{"red", "blue", "red"}, {"green", "red"}} {
		b := array.NewRecordBuilder(mem, schema)
		db := b.Field(0).(*array.BinaryDictionaryBuilder)
		for _, v := range vals {
			if err := db.AppendString(v); err != nil {
				t.Fatal(err)
			}
		}
		rec := b.NewRecordBatch()
		b.Release()
		w.WriteArrow(rec)
		sent = append(sent, rec)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, _ := w.Paths()
	checkArrowFile(t, a, mem, sent)
}

// mustNew is New(name, cfg, opts...) that fails the test on an error.
func mustNew(t *testing.T, name string, cfg Config, opts ...Option) *Writer {
	t.Helper()
	w, err := New(name, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// writeRows writes rows [start, start+n) to w twice: as an Arrow batch
// allocated from mem (released once written) and as proto records.
func writeRows(t testing.TB, w *Writer, mem memory.Allocator, start, n int) {
	t.Helper()
	rec := makeBatch(mem, start, n)
	w.WriteArrow(rec)
	rec.Release()
	w.WriteProto(testDesc("Row"), makeRecords(start, n), nil)
}

// checkArrowFile reads the Arrow file at path with mem, checks that it
// holds exactly the batches in sent, and releases both.
func checkArrowFile(t *testing.T, path string, mem memory.Allocator, sent []arrow.RecordBatch) {
	t.Helper()
	got, err := ReadArrowFile(path, mem)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(sent) {
		t.Fatalf("read %d batches, want %d", len(got), len(sent))
	}
	for i := range sent {
		if !array.RecordEqual(got[i], sent[i]) {
			t.Errorf("batch %d differs:\n got %v\nwant %v", i, got[i], sent[i])
		}
		got[i].Release()
		sent[i].Release()
	}
}

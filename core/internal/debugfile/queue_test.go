package debugfile

import (
	"bytes"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// TestDropsAreRecordedInTheFiles stalls the disk so the queue fills and
// writes are dropped, then reads the files back: the rows kept plus the
// gaps recorded in the drops sidecars account for every row sent, at the
// right positions, and the counters agree.
func TestDropsAreRecordedInTheFiles(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	tel, reader := newTestTelemetry()
	ffs := &faultFS{block: make(chan struct{})}
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFilesRetained: -1},
		WithFileSystem(ffs), WithTelemetry(tel), WithMaxBuffered(64<<10))
	const batches, rows = 60, 1000
	for i := 0; i < batches/2; i++ {
		writeRows(t, w, memory.DefaultAllocator, i*rows, rows)
	}
	eventually(t, "the background goroutine to reach the stalled Write", func() bool { return ffs.waiting.Load() > 0 })
	close(ffs.block)
	if err := w.Flush(); err != nil { // the queue empties: later writes are kept again
		t.Fatal(err)
	}
	for i := batches / 2; i < batches; i++ {
		writeRows(t, w, memory.DefaultAllocator, i*rows, rows)
		if i == batches/2 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	as, ps := w.Stats()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	arrowPath, protoPath := w.Paths()
	for _, k := range []struct {
		path string
		st   Stats
	}{{arrowPath, as}, {protoPath, ps}} {
		if k.st.DroppedWrites == 0 || k.st.DroppedWrites >= batches {
			t.Fatalf("%s: %d writes dropped; the test wants some but not all", filepath.Base(k.path), k.st.DroppedWrites)
		}
		if k.st.Writes+k.st.DroppedWrites != batches || k.st.Rows+k.st.DroppedRows != batches*rows {
			t.Errorf("%s: stats %+v do not add up to %d writes of %d rows", filepath.Base(k.path), k.st, batches, rows)
		}
		gaps, err := ReadDrops(k.path)
		if err != nil {
			t.Fatal(err)
		}
		var dw, dr int64
		for _, g := range gaps {
			dw += g.DroppedWrites
			dr += g.DroppedRows
			if g.Reason != reasonQueueFull || g.DroppedBytes <= 0 {
				t.Errorf("%s: gap %+v, want reason %q and bytes", filepath.Base(k.path), g, reasonQueueFull)
			}
		}
		if dw != k.st.DroppedWrites || dr != k.st.DroppedRows {
			t.Errorf("%s: gaps record %d writes / %d rows, stats say %d / %d", filepath.Base(k.path), dw, dr, k.st.DroppedWrites, k.st.DroppedRows)
		}
	}
	if got := counter(t, reader, "zerobus.debug.dropped"); got != as.DroppedWrites+ps.DroppedWrites {
		t.Errorf("zerobus.debug.dropped = %d, want %d", got, as.DroppedWrites+ps.DroppedWrites)
	}

	// Walk each file: the first id after every gap skips exactly the rows
	// the gap says were dropped.
	recs, err := ReadArrowFile(arrowPath, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	var starts, lens []int64
	for _, r := range recs {
		starts = append(starts, r.Column(0).(*array.Int64).Value(0))
		lens = append(lens, r.NumRows())
		r.Release()
	}
	gaps, _ := ReadDrops(arrowPath)
	checkGaps(t, "arrow", starts, lens, gaps, func(g Gap) int64 { return g.BeforeWrite }, batches*rows)

	_, precs, err := ReadProtoFile(protoPath)
	if err != nil {
		t.Fatal(err)
	}
	starts, lens = nil, nil
	for _, r := range precs {
		starts = append(starts, recordID(t, r))
		lens = append(lens, 1)
	}
	gaps, _ = ReadDrops(protoPath)
	checkGaps(t, "proto", starts, lens, gaps, func(g Gap) int64 { return g.BeforeRow }, batches*rows)
}

// checkGaps walks units (batches or records) with first ids starts and
// sizes lens: before unit i come the gaps positioned at i, and the ids must
// continue exactly after the dropped rows, up to total.
func checkGaps(t *testing.T, what string, starts, lens []int64, gaps []Gap, pos func(Gap) int64, total int64) {
	t.Helper()
	next, gi := int64(0), 0
	for i := range starts {
		for gi < len(gaps) && pos(gaps[gi]) == int64(i) {
			next += gaps[gi].DroppedRows
			gi++
		}
		if starts[i] != next {
			t.Fatalf("%s unit %d starts at id %d, want %d (gaps %+v)", what, i, starts[i], next, gaps)
		}
		next += lens[i]
	}
	for ; gi < len(gaps); gi++ {
		if pos(gaps[gi]) != int64(len(starts)) {
			t.Fatalf("%s gap %+v is positioned past the %d units of the file", what, gaps[gi], len(starts))
		}
		next += gaps[gi].DroppedRows
	}
	if next != total {
		t.Errorf("%s: kept and dropped rows add up to %d, want %d", what, next, total)
	}
}

// TestQueuedDataStaysReferencedUntilWritten: the writer copies nothing on
// the caller's path, so it must keep what it references: an Arrow batch
// stays retained (its allocator still holds it after the caller's Release)
// and WriteProto's release runs only once the records are written, exactly
// once, also for dropped writes, writes after Close and a disabled writer.
func TestQueuedDataStaysReferencedUntilWritten(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ffs := &faultFS{block: make(chan struct{})}
	// Buffered I/O: every drain reaches the (stalled) disk. In direct mode
	// a drain of small writes only fills the aligned buffer.
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true}, WithFileSystem(ffs), WithMaxQueuedWrites(3), WithBufferedIO())
	var released [6]atomic.Int32
	rel := func(i int) func() { return func() { released[i].Add(1) } }
	for i := 0; i < 4; i++ { // the 4th proto write finds 3 queued: dropped
		rec := makeBatch(mem, i*10, 10)
		w.WriteArrow(rec)
		rec.Release()
		w.WriteProto(testDesc("Row"), makeRecords(i*10, 10), rel(i))
		if i == 0 {
			w.wake()
			eventually(t, "the first write to reach the stalled disk", func() bool { return ffs.waiting.Load() > 0 })
		}
	}
	if got := released[3].Load(); got != 1 {
		t.Errorf("dropped write: release called %d times, want 1", got)
	}
	for i := 0; i < 3; i++ {
		if got := released[i].Load(); got != 0 {
			t.Errorf("write %d: release called before it was written", i)
		}
	}
	if mem.CurrentAlloc() == 0 {
		t.Errorf("the queued Arrow batches were freed before they were written")
	}
	close(ffs.block)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if got := released[i].Load(); got != 1 {
			t.Errorf("write %d: release called %d times after Flush, want 1", i, got)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.WriteProto(testDesc("Row"), makeRecords(0, 1), rel(4))
	var disabled *Writer
	disabled.WriteProto(testDesc("Row"), makeRecords(0, 1), rel(5))
	for i := 4; i < 6; i++ {
		if got := released[i].Load(); got != 1 {
			t.Errorf("no-op write %d: release called %d times, want 1", i, got)
		}
	}
	a, p := w.Paths()
	if got := readArrowIDs(t, []string{a}, true); len(got) != 30 || got[29] != 29 {
		t.Errorf("arrow ids %v, want 0..29 (the 4th batch was kept: only the protobuf queue was full)", got)
	}
	if got := readProtoIDs(t, []string{p}, "Row"); !equalIDs(got, seq(0, 30)) {
		t.Errorf("proto ids %v, want 0..29", got)
	}
}

func equalIDs(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCloseReleasesFiles: after Close no file descriptor opened by the
// writer (active files through rotations) is left open.
func TestCloseReleasesFiles(t *testing.T) {
	checkGoroutines(t)
	before, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd on this system")
	}
	w := mustNew(t, table, Config{OutputDir: t.TempDir(), Arrow: true, Proto: true, MaxFileSize: 1 << 10})
	for i := 0; i < 20; i++ {
		writeRows(t, w, memory.DefaultAllocator, i*50, 50)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadDir("/proc/self/fd")
	if len(after) > len(before) {
		t.Errorf("%d file descriptors open after Close, %d before", len(after), len(before))
	}
}

// TestCallerPathDoesNotCopy: an enabled write allocates (almost) nothing
// on the caller's goroutine: no copy of the batch or the records.
func TestCallerPathDoesNotCopy(t *testing.T) {
	checkGoroutines(t)
	// Small writes and a fake clock: the background goroutine stays idle
	// while allocations (of every goroutine) are counted.
	w := mustNew(t, table, Config{OutputDir: t.TempDir(), Arrow: true, Proto: true}, WithClock(newFakeClock()))
	defer w.Close()
	rec := makeBatch(memory.DefaultAllocator, 0, 20)
	defer rec.Release()
	records := makeRecords(0, 20)
	desc := testDesc("Row")
	allocs := testing.AllocsPerRun(200, func() {
		w.WriteArrow(rec)
		w.WriteProto(desc, records, nil)
	})
	if allocs > 1 {
		t.Errorf("WriteArrow + WriteProto allocate %.1f times per call, want <= 1 (the queue's growth)", allocs)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestQueuedSizeOfSlices: the queue bound counts what a batch's IPC message
// holds, and a slice of a big batch (SendReader's windows) only its own
// rows; counting the parent's whole buffers would drop windows of one large
// batch although the disk keeps up.
func TestQueuedSizeOfSlices(t *testing.T) {
	rec := convert.ReferenceBatch(memory.DefaultAllocator, 20_000)
	defer rec.Release()
	full := recordSize(rec)
	var ipcBuf bytes.Buffer
	iw := ipc.NewWriter(&ipcBuf, ipc.WithSchema(rec.Schema()))
	if err := iw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if got := float64(full) / float64(ipcBuf.Len()); got < 0.8 || got > 1.2 {
		t.Errorf("size estimate %d is %.2fx the IPC message (%d bytes)", full, got, ipcBuf.Len())
	}
	var sum int64
	for i := int64(0); i < 10; i++ {
		part := rec.NewSlice(i*2000, (i+1)*2000)
		n := recordSize(part)
		part.Release()
		if r := float64(n) / float64(full/10); r < 0.9 || r > 1.1 {
			t.Errorf("slice %d: size %d, %.2fx a tenth of the batch's %d", i, n, r, full)
		}
		sum += n
	}
	if r := float64(sum) / float64(full); r < 0.98 || r > 1.02 {
		t.Errorf("slices add up to %d bytes, the batch has %d", sum, full)
	}
}

// TestLargeWriteIsNotHeldForTheTick: a single write of 256 KiB or more is
// written (and released) at once, below the 1 MiB kick and long before a
// flush tick. The sender's pooled buffers come back without waiting the
// flush interval (a batch's last chunk used to wait up to 5 s).
func TestLargeWriteIsNotHeldForTheTick(t *testing.T) {
	checkGoroutines(t)
	w := mustNew(t, table, Config{OutputDir: t.TempDir(), Proto: true, MaxFilesRetained: -1},
		WithClock(newFakeClock())) // the fake clock never ticks by itself
	rec := make([]byte, 64<<10)
	records := [][]byte{rec, rec, rec, rec, rec} // 320 KiB: above directWrite, below kickBytes
	released := make(chan struct{})
	w.WriteProto(testDesc("Row"), records, func() { close(released) })
	select {
	case <-released:
	case <-time.After(10 * time.Second):
		t.Fatal("a 320 KiB write was still queued after 10 s: it waits for the flush tick")
	}
	eventually(t, "the queue to be empty", func() bool { _, ps := w.Stats(); return ps.QueuedWrites == 0 })
	if _, ps := w.Stats(); ps.Writes != 1 || ps.Rows != 5 {
		t.Errorf("stats %+v, want 1 write of 5 records", ps)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

package debugfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"
)

// Rows per batch large enough that every write wakes the background
// goroutine (an Arrow batch and its records are each 256 KiB or more).
const yieldRows = 30_000

// paddedRecords encodes Row messages with ids [start, start+n), each with a
// name of pad bytes.
func paddedRecords(start, n, pad int) [][]byte {
	recs := make([][]byte, n)
	name := strings.Repeat("p", pad)
	for i := range recs {
		b := protowire.AppendTag(nil, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(start+i))
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		recs[i] = protowire.AppendString(b, name)
	}
	return recs
}

// waitHold wakes the background goroutine and waits until it has held its
// writes back once more: the pump ran after everything written before the
// call, and wrote nothing (checked by the caller).
func waitHold(t *testing.T, w *Writer) {
	t.Helper()
	h := w.holds.Load()
	w.wake()
	eventually(t, "the writer to hold its writes back", func() bool { return w.holds.Load() > h })
}

// fileIDs reads the Arrow and protobuf ids of every file of dir's table, in
// file order.
func fileIDs(t *testing.T, dir string) (arrowIDs, protoIDs []int64) {
	t.Helper()
	ra, aa := dataFiles(t, filepath.Join(dir, "zerobus", "arrow"), table, ".arrow")
	rp, ap := dataFiles(t, filepath.Join(dir, "zerobus", "proto"), table, ".proto")
	return readArrowIDs(t, withActive(ra, aa), false), readProtoIDs(t, withActive(rp, ap), "Row")
}

// noDataYet fails unless no file was opened for writing and nothing was
// written: the writes are all still queued.
func noDataYet(t *testing.T, w *Writer, ffs *faultFS, wantQueued int64) {
	t.Helper()
	if n := ffs.writes.Load(); n != 0 {
		t.Fatalf("%d file writes while the sender was busy, want 0", n)
	}
	as, ps := w.Stats()
	var kinds []Stats
	if w.arrow != nil {
		kinds = append(kinds, as)
	}
	if w.proto != nil {
		kinds = append(kinds, ps)
	}
	for _, st := range kinds {
		if st.BytesWritten != 0 || st.QueuedWrites != wantQueued || st.DroppedWrites != 0 {
			t.Fatalf("stats %+v while the sender was busy: want nothing written, %d writes queued, none dropped", st, wantQueued)
		}
	}
	ap, pp := w.Paths()
	for _, p := range []string{ap, pp} {
		if st, err := os.Stat(p); err == nil && st.Size() != 0 {
			t.Fatalf("%s holds %d bytes while the sender was busy", filepath.Base(p), st.Size())
		}
	}
}

// heldWriter is a Writer of table in a fresh directory, on a fake clock (a
// later WithClock in opts replaces it), whose file system counts writes;
// closed by the test's cleanup. cfg.OutputDir is set here.
func heldWriter(t *testing.T, cfg Config, opts ...Option) (w *Writer, dir string, ffs *faultFS) {
	t.Helper()
	checkGoroutines(t)
	dir, ffs = t.TempDir(), &faultFS{}
	cfg.OutputDir = dir
	w = mustNew(t, table, cfg, append([]Option{WithClock(newFakeClock()), WithFileSystem(ffs)}, opts...)...)
	t.Cleanup(func() { _ = w.Close() })
	return w, dir, ffs
}

// wantFileIDs fails unless both kinds of dir's files hold rows 0..n-1, in
// order (sorted first when anyOrder).
func wantFileIDs(t *testing.T, dir string, n int, anyOrder bool, when string) {
	t.Helper()
	arrowIDs, protoIDs := fileIDs(t, dir)
	if anyOrder {
		slices.Sort(arrowIDs)
		slices.Sort(protoIDs)
	}
	if want := seq(0, n); !slices.Equal(arrowIDs, want) || !slices.Equal(protoIDs, want) {
		t.Fatalf("%s: files hold %d Arrow and %d protobuf rows, want each of ids 0..%d once, in order", when, len(arrowIDs), len(protoIDs), n-1)
	}
}

func TestYieldHoldsWritesUntilTheSenderIsIdle(t *testing.T) {
	w, dir, ffs := heldWriter(t, Config{Arrow: true, Proto: true})

	w.SenderBusy()
	w.SenderBusy() // two senders: the first going idle is not enough
	for i := range 3 {
		writeRows(t, w, memory.DefaultAllocator, i*yieldRows, yieldRows)
	}
	waitHold(t, w)
	noDataYet(t, w, ffs, 3)

	w.SenderIdle()
	waitHold(t, w)
	noDataYet(t, w, ffs, 3)

	w.SenderIdle() // no sender busy: the held writes go to the files
	eventually(t, "the held writes to be written", func() bool {
		as, ps := w.Stats()
		return as.QueuedWrites == 0 && ps.QueuedWrites == 0
	})
	if w.held.Load() {
		t.Error("the writer still holds writes back with none queued")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	wantFileIDs(t, dir, 3*yieldRows, false, "after the sender went idle")
}

// A hold lasts yieldAge on the Writer's clock: then what is queued is
// written although the sender is still busy, and later writes wait for a
// hold of their own. Close while busy writes everything.
func TestYieldAgeBoundAndCloseWhileBusy(t *testing.T) {
	clk := newFakeClock()
	// Buffered I/O: a drain's writes are done when it ends (no direct
	// write in flight), so the counts below are stable.
	w, dir, ffs := heldWriter(t, Config{Arrow: true, Proto: true}, WithClock(clk), WithBufferedIO())

	w.SenderBusy()
	writeRows(t, w, memory.DefaultAllocator, 0, yieldRows)
	waitHold(t, w)
	clk.Advance(yieldAge / 2)
	writeRows(t, w, memory.DefaultAllocator, yieldRows, yieldRows)
	waitHold(t, w) // half the bound: still held
	noDataYet(t, w, ffs, 2)

	clk.Advance(yieldAge - yieldAge/2) // the hold's ticker: the bound is reached
	eventually(t, "the writes held for yieldAge to be written", func() bool {
		as, ps := w.Stats()
		return as.QueuedWrites == 0 && ps.QueuedWrites == 0 && as.BytesWritten > 0 && ps.BytesWritten > 0
	})
	as0, ps0 := w.Stats()
	writes := ffs.writes.Load()

	// Still busy: a new write is held by a new hold.
	writeRows(t, w, memory.DefaultAllocator, 2*yieldRows, yieldRows)
	waitHold(t, w)
	as, ps := w.Stats()
	if as.QueuedWrites != 1 || ps.QueuedWrites != 1 || as.BytesWritten != as0.BytesWritten || ps.BytesWritten != ps0.BytesWritten || ffs.writes.Load() != writes {
		t.Fatalf("after the bound, a new write while busy: stats %+v / %+v (before %+v / %+v), %d file writes (before %d): want it held",
			as, ps, as0, ps0, ffs.writes.Load(), writes)
	}

	if err := w.Close(); err != nil { // the sender is still busy
		t.Fatal(err)
	}
	wantFileIDs(t, dir, 3*yieldRows, false, "after Close")
	w.SenderIdle() // after Close: harmless
}

// A queue at half its byte bound is written while the sender is busy, down
// to below that mark; the rest stays held.
func TestYieldHighWaterMark(t *testing.T) {
	const (
		maxBuf = 24 << 20
		perRec = 1000
		recs   = 1000 // ~1 MB per write
		writes = 14
	)
	w, dir, ffs := heldWriter(t, Config{Proto: true}, WithMaxBuffered(maxBuf))

	w.SenderBusy()
	for i := range 8 {
		w.WriteProto(testDesc("Row"), paddedRecords(i*recs, recs, perRec), nil)
	}
	waitHold(t, w)
	noDataYet(t, w, ffs, 8)

	for i := 8; i < writes; i++ { // past half the bound
		w.WriteProto(testDesc("Row"), paddedRecords(i*recs, recs, perRec), nil)
	}
	waitHold(t, w)
	// What left the queue is in the file or in a direct write in flight
	// (a direct sink's buffers are dioBufSize each).
	eventually(t, "a direct write of what left the queue", func() bool {
		_, ps := w.Stats()
		return ps.BytesWritten > 0
	})
	_, ps := w.Stats()
	if ps.BytesWritten == 0 || ps.QueuedBytes >= maxBuf/2 || ps.QueuedWrites == 0 || ps.DroppedWrites != 0 {
		t.Fatalf("stats %+v: want some written, the queue below %d bytes but not empty, none dropped", ps, maxBuf/2)
	}
	if ps.QueuedBytes < maxBuf/2-sliceBytes-2*(perRec+8)*recs {
		t.Errorf("%d bytes queued: the writer wrote more than a slice below the mark (%d)", ps.QueuedBytes, maxBuf/2)
	}

	w.SenderIdle()
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rp, ap := dataFiles(t, filepath.Join(dir, "zerobus", "proto"), table, ".proto")
	if got, want := readProtoIDs(t, withActive(rp, ap), "Row"), seq(0, writes*recs); !slices.Equal(got, want) {
		t.Fatalf("files hold %d records, want ids 0..%d in order", len(got), len(want)-1)
	}
}

// Flush while a sender is busy writes everything queued before it.
func TestYieldFlushWhileBusy(t *testing.T) {
	w, dir, ffs := heldWriter(t, Config{Arrow: true, Proto: true})

	w.SenderBusy()
	defer w.SenderIdle()
	for i := range 2 {
		writeRows(t, w, memory.DefaultAllocator, i*yieldRows, yieldRows)
	}
	waitHold(t, w)
	noDataYet(t, w, ffs, 2)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	as, ps := w.Stats()
	if as.QueuedWrites != 0 || ps.QueuedWrites != 0 {
		t.Fatalf("after Flush: %d and %d writes queued, want 0", as.QueuedWrites, ps.QueuedWrites)
	}
	wantFileIDs(t, dir, 2*yieldRows, false, "after Flush")
}

// Senders going busy and idle concurrently with writes, Flush and the real
// clock's holds: every row reaches the files (run with -race).
func TestYieldConcurrentSenders(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFilesRetained: -1, MaxFileSize: 4 << 20})
	const senders, batches, rows = 4, 12, 5000
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				start := (g*batches + i) * rows
				w.SenderBusy()
				writeRows(t, w, memory.DefaultAllocator, start, rows/2)
				writeRows(t, w, memory.DefaultAllocator, start+rows/2, rows-rows/2)
				if i%5 == 4 {
					if err := w.Flush(); err != nil {
						t.Error(err)
					}
				}
				w.SenderIdle()
			}
		}()
	}
	wg.Wait()
	as, ps := w.Stats()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if as.DroppedWrites != 0 || ps.DroppedWrites != 0 {
		t.Fatalf("writes dropped: %+v / %+v", as, ps)
	}
	wantFileIDs(t, dir, senders*batches*rows, true, "after Close")
}

func TestYieldDisabledWriter(t *testing.T) {
	var nilW *Writer
	nilW.SenderBusy()
	nilW.SenderIdle()
	w, err := New(table, Config{})
	if err != nil {
		t.Fatal(err)
	}
	w.SenderBusy()
	w.SenderIdle()
	if n := w.senders.Load(); n != 0 {
		t.Fatalf("disabled writer counts %d busy senders", n)
	}
}

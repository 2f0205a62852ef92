//go:build linux

package debugfile

import (
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The direct buffers are two distinct, writable, huge-page-aligned halves
// of one mapping, unmapped by free.
func TestDirectBufsAlignedAndFreed(t *testing.T) {
	before := liveDirectMaps.Load()
	bufs, free := directBufs(dioBufSize)
	if liveDirectMaps.Load() != before+1 {
		t.Fatalf("live mappings %d, want %d", liveDirectMaps.Load(), before+1)
	}
	for i, b := range bufs {
		if len(b) != dioBufSize || cap(b) != dioBufSize {
			t.Fatalf("buffer %d: len %d cap %d, want %d", i, len(b), cap(b), dioBufSize)
		}
		if p := uintptr(unsafe.Pointer(unsafe.SliceData(b))); p%hugePage != 0 {
			t.Fatalf("buffer %d at %#x: not %d-aligned", i, p, hugePage)
		}
		for j := range b {
			b[j] = byte(i + j)
		}
	}
	if bufs[1][0] != 1 || bufs[0][dioBufSize-1] != byte((dioBufSize-1)%256) {
		t.Fatal("the buffers overlap")
	}
	free()
	if liveDirectMaps.Load() != before {
		t.Fatalf("live mappings %d after free, want %d", liveDirectMaps.Load(), before)
	}
}

// A writer that wrote with direct I/O unmaps its buffers at Close, and the
// files read back whole.
func TestDirectBuffersReturnedAtClose(t *testing.T) {
	checkGoroutines(t)
	before := liveDirectMaps.Load()
	dir := t.TempDir()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true}, WithAllocator(mem))
	writeRows(t, w, mem, 0, 200_000) // several MiB: whole direct buffers
	w.WriteProto(testDesc("Row"), makeRecords(0, 50_000), nil)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	as, ps := w.Stats()
	direct := w.arrow.directBytes.Load() + w.proto.directBytes.Load()
	if direct == 0 {
		t.Skipf("no direct write on this file system (%d / %d bytes written): nothing mapped", as.BytesWritten, ps.BytesWritten)
	}
	if liveDirectMaps.Load() <= before {
		t.Fatalf("wrote %d bytes direct with %d live mappings (before: %d)", direct, liveDirectMaps.Load(), before)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := liveDirectMaps.Load(); got != before {
		t.Fatalf("%d live mappings after Close, want %d", got, before)
	}
	a, _ := w.Paths()
	recs, err := ReadArrowFile(a, mem)
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
		r.Release()
	}
	if rows != 200_000 {
		t.Fatalf("%d rows read back, want 200000", rows)
	}
}

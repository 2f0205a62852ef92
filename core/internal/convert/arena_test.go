package convert

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"
)

func TestClassOf(t *testing.T) {
	prevClass, prevSize := -1, 0
	for _, n := range []int{0, 1, 4096, minRegion, minRegion + 1, 100_000, 1 << 20, 1<<20 + 1, 3 << 20, hugeMin - 1, hugeMin, hugeMin + 1, 9 << 20, 100 << 20, 1<<30 + 5} {
		class, size := classOf(n)
		if size < n {
			t.Errorf("classOf(%d) = size %d, smaller than asked", n, size)
		}
		if n > minRegion && size < hugeMin && size > n+n/8 {
			t.Errorf("classOf(%d) = size %d, more than 12.5%% over", n, size)
		}
		if size >= hugeMin && size%hugePage != 0 {
			t.Errorf("classOf(%d) = size %d, not a multiple of 2 MiB", n, size)
		}
		if class < prevClass || size < prevSize {
			t.Errorf("classOf(%d) = (%d, %d) after (%d, %d): not monotone", n, class, size, prevClass, prevSize)
		}
		if c2, s2 := classOf(size); c2 != class || s2 != size {
			t.Errorf("classOf(%d) = (%d, %d) but classOf(%d) = (%d, %d)", n, class, size, size, c2, s2)
		}
		prevClass, prevSize = class, size
	}
}

// settleArena collects garbage until every region of an unreachable Batch
// is back (cleanups run asynchronously after a collection) and fails the
// test if regions are still in use after 30 seconds.
func settleArena(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a poll: returns as soon as they are back
	for ReadArenaStats().InUse != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("arena: %d bytes still in use after collecting every unreachable Batch", ReadArenaStats().InUse)
		}
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
}

// inArena reports whether b lies in one of the Batch's arena regions.
func inArena(bt *Batch, b []byte) bool {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	for _, r := range bt.own.regions {
		lo := uintptr(unsafe.Pointer(unsafe.SliceData(r.mem)))
		if p >= lo && p+uintptr(len(b)) <= lo+uintptr(len(r.mem)) {
			return true
		}
	}
	return false
}

func TestArenaReleaseReturnsEveryRegion(t *testing.T) {
	settleArena(t)
	rec := ReferenceBatch(memory.DefaultAllocator, 3*parallelMinRows+5)
	defer rec.Release()
	var batches []*Batch
	for _, par := range []int{1, 3} {
		p, err := NewPlan(rec.Schema(), Options{Parallelism: par})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			batches = append(batches, encodeOK(t, p, rec))
		}
	}
	if ReadArenaStats().InUse == 0 {
		t.Fatal("arena: nothing in use while 6 Batches are held")
	}
	for _, b := range batches {
		for _, c := range b.chunks {
			if !inArena(b, c.buf) {
				t.Fatal("a chunk buffer is not in the Batch's arena regions")
			}
		}
		b.Retain()
		b.Release()
		b.Release()
	}
	if n := ReadArenaStats().InUse; n != 0 {
		t.Fatalf("arena: %d bytes in use after every Batch was released", n)
	}
}

func TestArenaUnreleasedBatchComesBackAfterGC(t *testing.T) {
	settleArena(t)
	rec := ReferenceBatch(memory.DefaultAllocator, 3*parallelMinRows)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		b := encodeOK(t, p, rec)
		b.Retain() // two references, none ever dropped
	}
	if ReadArenaStats().InUse == 0 {
		t.Fatal("arena: nothing in use after encoding")
	}
	settleArena(t) // fails unless the cleanups return the regions
}

// TestArenaTrimmedRegionsReadAsNew: regions whose pages were given back
// (reading zeros) are reused and encode the same bytes.
func TestArenaTrimmedRegionsReadAsNew(t *testing.T) {
	settleArena(t)
	rec := ReferenceBatch(memory.DefaultAllocator, 5000)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := encodeOK(t, p, rec)
	want := bytes.Join(b.Frames(0, len(b.Records)), nil)
	b.Release()
	if ReadArenaStats().Free == 0 {
		t.Fatal("arena: no free region after a Release")
	}
	TrimArena()
	if st := ReadArenaStats(); st.Free != 0 || st.Trimmed == 0 {
		t.Fatalf("after TrimArena: %+v, want nothing free and warm, something trimmed", st)
	}
	b = encodeOK(t, p, rec)
	defer b.Release()
	if got := bytes.Join(b.Frames(0, len(b.Records)), nil); !bytes.Equal(got, want) {
		t.Fatal("encoding into trimmed regions gave other bytes")
	}
}

// TestArenaOversizeRecord: a record much larger than the first region (and
// than a 2 MiB chunk), up to MaxRecordBytes, between small ones: an
// encoder's append moves the buffer to the Go heap and the worker moves it
// back into the arena; every record and frame is intact.
func TestArenaOversizeRecord(t *testing.T) {
	mem := checkedMem(t)
	const big = 12 << 20
	vals := []string{"a", strings.Repeat("x", big), "b", "", strings.Repeat("y", 300_000), "c"}
	bld := array.NewStringBuilder(mem)
	valid := []bool{true, true, true, false, true, true} // the null makes an empty record
	bld.AppendValues(vals, valid)
	arr := bld.NewArray()
	bld.Release()
	defer arr.Release()
	rec := oneColumn(arr, true)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{MaxRecordBytes: big + 16, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	b := encodeOK(t, p, rec)
	defer b.Release()
	if len(b.Errors) != 0 || len(b.Records) != len(vals) {
		t.Fatalf("%d records, errors %v; want %d and none", len(b.Records), b.Errors, len(vals))
	}
	var frames []byte
	for i, v := range vals {
		var want []byte
		if valid[i] {
			want = protowire.AppendTag(nil, 1, protowire.BytesType)
			want = protowire.AppendString(want, v)
		}
		if !bytes.Equal(b.Records[i], want) {
			t.Fatalf("record %d: %d bytes, want %d", i, len(b.Records[i]), len(want))
		}
		frames = protowire.AppendTag(frames, 1, protowire.BytesType)
		frames = protowire.AppendBytes(frames, want)
	}
	if got := bytes.Join(b.Frames(0, len(vals)), nil); !bytes.Equal(got, frames) {
		t.Fatal("Frames differ from the records framed")
	}
	for _, c := range b.chunks {
		if !inArena(b, c.buf) {
			t.Fatal("the chunk buffer stayed in Go memory after an encoder outgrew its region")
		}
	}
	// One over the limit still fails alone.
	p2, err := NewPlan(rec.Schema(), Options{MaxRecordBytes: big - 1, Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	b2 := encodeOK(t, p2, rec)
	defer b2.Release()
	if len(b2.Errors) != 1 || b2.Errors[0].Row != 1 || len(b2.Records) != len(vals)-1 {
		t.Fatalf("limit below the big record: %d records, errors %v", len(b2.Records), b2.Errors)
	}
}

// TestEmptyBatchReleaseThenEncode: releasing the Batch of an empty record
// batch (not from the pool) leaves later Encodes working.
func TestEmptyBatchReleaseThenEncode(t *testing.T) {
	rec := ReferenceBatch(memory.DefaultAllocator, 10)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	empty := rec.NewSlice(0, 0)
	defer empty.Release()
	for range 4 {
		encodeOK(t, p, empty).Release()
	}
	for range 4 {
		b := encodeOK(t, p, rec)
		if len(b.Records) != 10 {
			t.Fatalf("%d records, want 10", len(b.Records))
		}
		b.Release()
	}
}

// TestArenaIdleRegionsTrimmed: free regions give their pages back by
// themselves once idle for trimAfter (a timer, no caller action).
func TestArenaIdleRegionsTrimmed(t *testing.T) {
	settleArena(t)
	rec := ReferenceBatch(memory.DefaultAllocator, 20_000)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	encodeOK(t, p, rec).Release()
	if ReadArenaStats().Free == 0 {
		t.Fatal("arena: no warm free region after a Release")
	}
	deadline := time.Now().Add(trimAfter + 3*time.Second)
	for ReadArenaStats().Free != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("arena: %+v %v after the last Release, want nothing warm", ReadArenaStats(), trimAfter+3*time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ReadArenaStats().Trimmed == 0 {
		t.Fatal("arena: nothing trimmed")
	}
}

// TestArenaGoMemoryFallback: where no mapping can be made (other systems,
// or mmap failing) regions are Go memory; Batches encoded into them stay
// intact across collections while held, and come back when released,
// collected or trimmed.
func TestArenaGoMemoryFallback(t *testing.T) {
	settleArena(t)
	TrimArena() // no mapped region left warm to reuse
	saved := allocRegion
	allocRegion = func(int) ([]byte, bool) { return nil, false }
	defer func() { allocRegion = saved }()
	// Drop the trimmed mapped regions from reuse: take them out and keep
	// them aside while the test runs.
	arena.mu.Lock()
	aside := arena.free
	arena.free = map[int][]*region{}
	arena.mu.Unlock()
	defer func() {
		arena.mu.Lock()
		for c, l := range aside {
			arena.free[c] = append(arena.free[c], l...)
		}
		arena.mu.Unlock()
	}()

	rec := ReferenceBatch(memory.DefaultAllocator, 3*parallelMinRows)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{Parallelism: 2})
	if err != nil {
		t.Fatal(err)
	}
	ref := encodeOK(t, p, rec)
	want := bytes.Join(ref.Frames(0, len(ref.Records)), nil)
	held := []*Batch{ref}
	for range 3 {
		held = append(held, encodeOK(t, p, rec))
		runtime.GC()
	}
	for i, b := range held {
		for _, r := range b.own.regions {
			if !r.heap {
				t.Fatal("a mapped region was handed out while mapping fails")
			}
		}
		if got := bytes.Join(b.Frames(0, len(b.Records)), nil); !bytes.Equal(got, want) {
			t.Fatalf("batch %d changed across collections", i)
		}
		if i%2 == 0 {
			b.Release()
		}
	}
	held = nil
	settleArena(t) // the unreleased ones come back through their cleanup
	TrimArena()    // Go-memory regions are dropped
	arena.mu.Lock()
	for _, l := range arena.free {
		for _, r := range l {
			if r.heap {
				arena.mu.Unlock()
				t.Fatal("a trimmed Go-memory region is still on a free list")
			}
		}
	}
	arena.mu.Unlock()
	if st := ReadArenaStats(); st.Free != 0 {
		t.Fatalf("after TrimArena: %+v", st)
	}
}

// TestReleaseIndexKeepsFrames: ReleaseIndex gives back exactly the
// Records/Rows region (32 bytes per row) while the Batch is held; frames
// taken before it stay byte-exact while later Encodes reuse that region;
// a second call does nothing; the last Release returns the rest; a Batch
// never released after ReleaseIndex still comes back after GC.
func TestReleaseIndexKeepsFrames(t *testing.T) {
	settleArena(t)
	const rows = 3*parallelMinRows + 5
	rec := ReferenceBatch(memory.DefaultAllocator, rows)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{Parallelism: 3})
	if err != nil {
		t.Fatal(err)
	}
	b := encodeOK(t, p, rec)
	frames := b.Frames(0, len(b.Records))
	var want []byte
	for _, f := range frames {
		want = append(want, f...)
	}
	before := ReadArenaStats().InUse
	_, metaSize := classOf(rows * int(unsafe.Sizeof([]byte(nil))+unsafe.Sizeof(int(0))))
	b.ReleaseIndex()
	if b.Records != nil || b.Rows != nil {
		t.Fatal("Records or Rows still set after ReleaseIndex")
	}
	if got := before - ReadArenaStats().InUse; got != int64(metaSize) {
		t.Fatalf("ReleaseIndex returned %d bytes, want the %d-byte Records/Rows region", got, metaSize)
	}
	b.ReleaseIndex()
	if got := before - ReadArenaStats().InUse; got != int64(metaSize) {
		t.Fatalf("a second ReleaseIndex changed the bytes in use (%d returned in all)", got)
	}
	// Later batches take the freed region (LIFO): the frames must not change.
	var later []*Batch
	for range 3 {
		later = append(later, encodeOK(t, p, rec))
	}
	var got []byte
	for _, f := range frames {
		got = append(got, f...)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("frames changed after ReleaseIndex and later Encodes")
	}
	for _, l := range later {
		l.Release()
	}
	b.Release()
	if n := ReadArenaStats().InUse; n != 0 {
		t.Fatalf("arena: %d bytes in use after every Batch was released", n)
	}
	encodeOK(t, p, rec).ReleaseIndex() // never released: the cleanup returns the rest
	settleArena(t)
}

package convert

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestArrowAllocator: buffers from 32 KiB on are arena regions (in use
// while allocated, back when freed), 64-byte aligned and zeroed even when
// the region held other bytes; Reallocate keeps the contents whether it
// grows inside the region, moves to a larger one or comes from Go memory;
// small buffers are Go memory.
func TestArrowAllocator(t *testing.T) {
	settleArena(t) // base is global: no earlier Batch may come back while this test reads it
	base := ReadArenaStats().InUse
	mem := memory.NewCheckedAllocator(ArrowAllocator)
	defer mem.AssertSize(t, 0)

	small := mem.Allocate(100)
	if got := ReadArenaStats().InUse; got != base {
		t.Fatalf("a 100-byte buffer took %d arena bytes", got-base)
	}
	for i := range small {
		small[i] = byte(i)
	}
	// Growing past 32 KiB moves it into a region, contents kept.
	grown := mem.Reallocate(40<<10, small)
	if ReadArenaStats().InUse <= base {
		t.Fatal("a 40 KiB buffer is not in the arena")
	}
	for i := range 100 {
		if grown[i] != byte(i) {
			t.Fatalf("byte %d = %d after Reallocate from Go memory", i, grown[i])
		}
	}
	for i := 100; i < len(grown); i++ {
		if grown[i] != 0 {
			t.Fatalf("byte %d = %d: not zeroed", i, grown[i])
		}
	}
	for i := range grown {
		grown[i] = 0xAB
	}
	// Within its region (64 KiB class: 40 KiB rounds up), then beyond.
	inPlace := mem.Reallocate(50<<10, grown)
	if unsafe.SliceData(inPlace) != unsafe.SliceData(grown) {
		t.Fatal("Reallocate inside the region moved the buffer")
	}
	if inPlace[40<<10-1] != 0xAB || inPlace[40<<10] != 0 {
		t.Fatalf("in-place growth: kept byte %x, new byte %x", inPlace[40<<10-1], inPlace[40<<10])
	}
	moved := mem.Reallocate(1<<20, inPlace)
	if moved[0] != 0xAB || moved[40<<10-1] != 0xAB || moved[40<<10] != 0 || moved[50<<10] != 0 || moved[1<<20-1] != 0 {
		t.Fatal("Reallocate to a larger region lost bytes or did not zero the rest")
	}
	for i := range moved {
		moved[i] = 0xCD
	}
	mem.Free(moved)
	if got := ReadArenaStats().InUse; got != base {
		t.Fatalf("arena %d bytes in use after Free, want %d", got, base)
	}
	// The same region again (most recently freed first): zeroed.
	again := mem.Allocate(1 << 20)
	if uintptr(unsafe.Pointer(unsafe.SliceData(again)))%64 != 0 {
		t.Fatal("region buffer not 64-byte aligned")
	}
	for i, c := range again {
		if c != 0 {
			t.Fatalf("reused region byte %d = %x: not zeroed", i, c)
		}
	}
	mem.Free(again)
	if got := ReadArenaStats().InUse; got != base {
		t.Fatalf("arena %d bytes in use after Free, want %d", got, base)
	}
	// A free 6 MiB (huge-page class) region does not serve a 4 MiB buffer:
	// its last 2 MiB page would be resident for nothing.
	big := mem.Allocate(5 << 20)
	mem.Free(big)
	four := mem.Allocate(4 << 20)
	if unsafe.SliceData(four) == unsafe.SliceData(big) || ReadArenaStats().InUse-base != 4<<20 {
		t.Fatalf("a 4 MiB buffer got a %d-byte region", ReadArenaStats().InUse-base)
	}
	mem.Free(four)
	if got := ReadArenaStats().InUse; got != base {
		t.Fatalf("arena %d bytes in use after Free, want %d", got, base)
	}
}

// TestArrowAllocatorArrays: arrays built with builders (buffers growing by
// Reallocate) read back their values, and releasing them returns every
// region.
func TestArrowAllocatorArrays(t *testing.T) {
	settleArena(t) // base is global: no earlier Batch may come back while this test reads it
	base := ReadArenaStats().InUse
	mem := memory.NewCheckedAllocator(ArrowAllocator)
	defer mem.AssertSize(t, 0)
	const n = 100_000
	sb := array.NewLargeStringBuilder(mem)
	ib := array.NewInt64Builder(mem)
	for i := range n {
		if i%7 == 3 {
			sb.AppendNull()
			ib.AppendNull()
			continue
		}
		sb.Append(fmt.Sprintf("value-%d", i))
		ib.Append(int64(i) * 3)
	}
	s, ints := sb.NewLargeStringArray(), ib.NewInt64Array()
	sb.Release()
	ib.Release()
	if ReadArenaStats().InUse <= base {
		t.Fatal("the arrays are not in the arena")
	}
	for i := range n {
		if i%7 == 3 {
			if s.IsValid(i) || ints.IsValid(i) {
				t.Fatalf("row %d: null lost", i)
			}
			continue
		}
		if s.Value(i) != fmt.Sprintf("value-%d", i) || ints.Value(i) != int64(i)*3 {
			t.Fatalf("row %d: %q %d", i, s.Value(i), ints.Value(i))
		}
	}
	part := array.NewSlice(s, 11, 20)
	s.Release()
	ints.Release()
	if part.(*array.LargeString).Value(0) != "value-11" {
		t.Fatal("slice lost its values")
	}
	part.Release()
	if got := ReadArenaStats().InUse; got != base {
		t.Fatalf("arena %d bytes in use after Release, want %d", got, base)
	}
}

// TestArrowAllocation: ArrowAllocation is the memory an ArrowAllocator
// allocation holds (Holds: the region's size class),
// and n itself below the arena's minimum (Go memory).
func TestArrowAllocation(t *testing.T) {
	for _, n := range []int{1, arenaAllocMin - 1, arenaAllocMin, 40 << 10, minRegion + 1, 1 << 20, 3<<20 - 1, 3 << 20, 4<<20 + 1, 9 << 20} {
		b := ArrowAllocator.Allocate(n)
		want := int64(n)
		if n >= arenaAllocMin {
			want = ArrowAllocator.(*arrowAlloc).Holds(b)
		}
		if got := ArrowAllocation(int64(n)); got != want || got < int64(n) {
			t.Errorf("ArrowAllocation(%d) = %d, want %d (what the allocation holds)", n, got, want)
		}
		ArrowAllocator.Free(b)
	}
}

// withEmptyClasses runs f with the free lists of classes [lo, hi] empty
// (their regions are put back afterwards), so that which region serves a
// request is deterministic.
func withEmptyClasses(t *testing.T, lo, hi int, f func()) {
	t.Helper()
	saved := map[int][]*region{}
	arena.mu.Lock()
	for c := lo; c <= hi; c++ {
		saved[c], arena.free[c] = arena.free[c], nil
	}
	arena.mu.Unlock()
	defer func() {
		arena.mu.Lock()
		for c, l := range saved {
			arena.free[c] = append(arena.free[c], l...)
		}
		arena.mu.Unlock()
	}()
	f()
}

// TestArrowBodyAllocatorExactClass: with only a free region two classes
// larger than a request's, ArrowAllocator reuses it (holding more than
// ArrowAllocation), ArrowBodyAllocator does not: its allocation holds
// exactly ArrowAllocation(n), what the Flight transport reserved for it.
func TestArrowBodyAllocatorExactClass(t *testing.T) {
	const n = 600_000 // class of 640 KiB; two classes up: 768 KiB
	class, size := classOf(n)
	_, larger := classOf(size + 2*(64<<10))
	withEmptyClasses(t, class, class+2, func() {
		r := arena.get(larger)
		if r.class != class+2 {
			t.Fatalf("seed region of class %d, want %d", r.class, class+2)
		}
		arena.put(r)
		b := ArrowBodyAllocator.Allocate(n)
		if got, want := ArrowBodyAllocator.(*arrowAlloc).Holds(b), ArrowAllocation(n); got != want || want != int64(size) {
			t.Errorf("ArrowBodyAllocator.Allocate(%d): holds %d, want ArrowAllocation = %d (class size %d)", n, got, want, size)
		}
		// The same request from ArrowAllocator takes the larger free region.
		a := ArrowAllocator.Allocate(n)
		if got := ArrowAllocator.(*arrowAlloc).Holds(a); got != int64(larger) {
			t.Errorf("ArrowAllocator.Allocate(%d): holds %d, want the free %d-byte region", n, got, larger)
		}
		ArrowAllocator.Free(a)
		ArrowBodyAllocator.Free(b)
		if big := ArrowBodyAllocator.Allocate(larger); ArrowBodyAllocator.(*arrowAlloc).Holds(big) != int64(larger) {
			t.Errorf("ArrowBodyAllocator.Allocate(%d): holds %d, want %d", larger, ArrowBodyAllocator.(*arrowAlloc).Holds(big), larger)
		} else {
			ArrowBodyAllocator.Free(big)
		}
	})
}

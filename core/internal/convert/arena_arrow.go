package convert

import (
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ArrowAllocator is an Arrow memory.Allocator backed by the encoder arena:
// buffers of arenaAllocMin bytes or more are arena regions (off the Go
// heap on Linux, so they do not count toward the collector's heap goal),
// smaller ones Go memory. Arrow buffers are reference counted, so a buffer
// goes back to the arena when its last Release frees it; one never
// released stays in use (ReadArenaStats shows it). Use it only for arrays
// whose owner releases them (the Flight transport's cast of a chunk),
// never for arrays handed to a caller. Memory is zeroed, as Go's
// allocator's; regions are page-aligned (64-byte alignment holds). A
// buffer's capacity is its length, as Go's allocator hands them out:
// arrow-go's kernels size their appends by a buffer's capacity and then
// slice its length (a take of long strings from a region larger than the
// request panicked in a kernel goroutine, out of any recover); Holds
// tells the region's size.
var ArrowAllocator memory.Allocator = &arrowAlloc{live: map[unsafe.Pointer]*region{}}

// ArrowBodyAllocator is ArrowAllocator taking only regions of a request's
// own size class (never a free region up to two classes larger, as
// ArrowAllocator may below the huge-page classes), so that what an
// allocation holds is exactly ArrowAllocation(n): the Flight transport's
// IPC bodies, reserved in the record window by ArrowAllocation before they
// are encoded. Bodies of one stream come in similar sizes and reuse their
// own class; from hugeMin on both allocators are exact already.
var ArrowBodyAllocator memory.Allocator = &arrowAlloc{live: map[unsafe.Pointer]*region{}, exact: true}

// ArrowAllocation returns the bytes an allocation of n bytes from
// ArrowBodyAllocator holds: its region's size class, or n for a buffer
// below arenaAllocMin (Go memory); one from ArrowAllocator holds at least
// that and at most two classes more. The Flight transport reserves IPC
// bodies in its record window by what they hold.
func ArrowAllocation(n int64) int64 {
	if n < arenaAllocMin {
		return n
	}
	_, size := classOf(int(n))
	return int64(size)
}

// arenaAllocMin is the smallest buffer put in a region (64 KiB, the
// smallest region, wastes at most half of it).
const arenaAllocMin = minRegion / 2

type arrowAlloc struct {
	mu    sync.Mutex
	live  map[unsafe.Pointer]*region // by the first byte of the buffer
	exact bool                       // regions of the request's own class only
}

func (a *arrowAlloc) Allocate(size int) []byte {
	if size < arenaAllocMin {
		return memory.DefaultAllocator.Allocate(size)
	}
	// A larger free region serves only below the huge-page classes: there
	// the unused tail would be whole resident 2 MiB pages.
	larger := 2
	if size >= hugeMin || a.exact {
		larger = 0
	}
	r := arena.getWithin(size, larger)
	b := r.mem[:size:size]
	clear(b)
	a.mu.Lock()
	a.live[unsafe.Pointer(unsafe.SliceData(b))] = r
	a.mu.Unlock()
	return b
}

// region returns the region b starts, or nil for Go memory.
func (a *arrowAlloc) region(b []byte) *region {
	if cap(b) == 0 {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.live[unsafe.Pointer(unsafe.SliceData(b))]
}

func (a *arrowAlloc) Reallocate(size int, b []byte) []byte {
	r := a.region(b)
	if r != nil && size <= len(r.mem) {
		nb := r.mem[:size:size]
		if size > len(b) {
			clear(nb[len(b):])
		}
		return nb
	}
	if r == nil && size < arenaAllocMin {
		return memory.DefaultAllocator.Reallocate(size, b)
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

// Holds returns the memory an allocation b of this allocator holds: its
// region's size (ArrowAllocation(len(b)) for ArrowBodyAllocator), or
// len(b) for Go memory.
func (a *arrowAlloc) Holds(b []byte) int64 {
	if r := a.region(b); r != nil {
		return int64(len(r.mem))
	}
	return int64(len(b))
}

func (a *arrowAlloc) Free(b []byte) {
	if cap(b) == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	a.mu.Lock()
	r := a.live[p]
	delete(a.live, p)
	a.mu.Unlock()
	if r == nil {
		memory.DefaultAllocator.Free(b)
		return
	}
	arena.put(r)
}

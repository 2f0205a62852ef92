package convert

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// The arena holds the encoder's output (framed records, per-row end
// offsets, a Batch's Records and Rows) outside the Go heap, in anonymous
// memory mappings on Linux (arena_linux.go; Go memory elsewhere,
// arena_other.go). Bytes
// there do not count toward the garbage collector's heap goal, so the
// records in flight are not doubled by GC headroom, and regions of 3 MiB or
// more are backed by transparent huge pages when the system allows it, so
// that a fresh process touches its first output in a few 2 MiB faults
// rather than thousands of 4 KiB ones.
//
// Regions come in size classes (64 KiB, then eight per doubling) and go
// back to a per-class free list when released, for the next Encode to reuse
// (most recently released first: its pages are still resident; a region up
// to two classes larger serves when its own class has none). The pages of a
// region free for trimAfter, or beyond what was in use lately plus a
// sixteenth (residentCap), are given back to the system (MADV_DONTNEED); the
// region keeps its address range: a mapping is never removed, so a stale
// slice into a released region reads zeros or a later batch's bytes, never
// unmapped memory.
//
// Who returns a region: Batch.Release (the last reference), or, for a Batch
// never released, a cleanup attached to it (runtime.AddCleanup) once it is
// unreachable. The per-row end offsets go back when Encode returns.

const (
	minRegion = 64 << 10
	hugePage  = 2 << 20
	// hugeMin is the smallest region backed by huge pages (rounding up to
	// whole huge pages adds at most a third). Chunk buffers of a Wrapper
	// (about 2 MiB of records, split among workers) stay below it.
	hugeMin = 3 << 20
	// trimAfter is how long a free region keeps its pages.
	trimAfter = 2 * time.Second
)

// region is one mapping handed out by the arena.
type region struct {
	mem   []byte // the whole region (len = cap = class size)
	class int
	heap  bool      // Go-heap memory (fallback): dropped, not kept, when trimmed
	warm  bool      // may hold resident pages
	freed time.Time // when it was last released
}

// arena is the process's one arena.
var arena = arenaState{free: map[int][]*region{}}

type arenaState struct {
	mu    sync.Mutex
	free  map[int][]*region // by class, most recently released last
	timer *time.Timer       // armed while warm free regions exist
	// Byte counts: handed out and not yet returned; free with resident
	// pages; free and trimmed (address space only).
	inUse, warmFree, coldFree atomic.Int64
	peak                      atomic.Int64 // highest inUse since ResetArenaPeak
	recent                    atomic.Int64 // highest inUse lately: decays by a quarter per timed trim
}

// used adds n (negative: released) to the bytes in use.
func (a *arenaState) used(n int64) {
	v := a.inUse.Add(n)
	for p := a.peak.Load(); v > p && !a.peak.CompareAndSwap(p, v); p = a.peak.Load() {
	}
	for p := a.recent.Load(); v > p && !a.recent.CompareAndSwap(p, v); p = a.recent.Load() {
	}
}

// allocRegion maps a new region (sysAlloc; tests replace it to exercise
// the Go-memory fallback).
var allocRegion = sysAlloc

// hugeClass is added to size/hugePage for the classes from hugeMin on.
const hugeClass = 1 << 10

// classOf returns the size class of a request of n bytes and its size:
// 64 KiB, then eight classes per doubling (at most 12.5% over n), multiples
// of 2 MiB from hugeMin on.
func classOf(n int) (int, int) {
	if n <= minRegion {
		return 0, minRegion
	}
	e := bits.Len(uint(n - 1)) // 2^(e-1) < n <= 2^e
	base := 1 << (e - 1)
	q := base / 8
	step := (n - base + q - 1) / q // 1..8
	size := base + step*q
	if size >= hugeMin {
		size = (size + hugePage - 1) &^ (hugePage - 1)
		return hugeClass + size/hugePage, size
	}
	return (e-1-16)*8 + step, size
}

// get returns a region of at least n bytes: a free one of its class or
// up to two classes larger (most recently released first), else a new one.
func (a *arenaState) get(n int) *region { return a.getWithin(n, 2) }

// getWithin is get with a free region up to larger classes larger.
func (a *arenaState) getWithin(n, larger int) *region {
	class, size := classOf(n)
	a.mu.Lock()
	for c := class; c <= class+larger; c++ {
		l := a.free[c]
		for len(l) > 0 && l[len(l)-1].mem == nil { // trimmed Go memory
			l[len(l)-1] = nil
			l = l[:len(l)-1]
		}
		a.free[c] = l
		if len(l) == 0 {
			continue
		}
		r := l[len(l)-1]
		l[len(l)-1] = nil
		a.free[c] = l[:len(l)-1]
		if r.warm {
			a.warmFree.Add(-int64(len(r.mem)))
		} else {
			a.coldFree.Add(-int64(len(r.mem)))
		}
		a.mu.Unlock()
		r.warm = true
		a.used(int64(len(r.mem)))
		return r
	}
	a.mu.Unlock()
	r := &region{class: class, warm: true}
	if mem, ok := allocRegion(size); ok {
		r.mem = mem
	} else {
		r.mem, r.heap = make([]byte, size), true
	}
	a.used(int64(size))
	return r
}

// residentCap bounds the bytes of regions in use plus free regions that
// keep their pages: the most in use lately (the peak, losing a quarter
// every trimAfter, never below what is in use) plus a sixteenth, plus 2 MiB
// (an eighth plus 4 MiB kept 6 MiB more resident with 16 senders and no
// fewer faults). A free region beyond it is trimmed at once, longest free
// first, so that free regions of one size class do not stay
// resident while another class grows; a process that encodes the same
// sizes again and again keeps its regions warm.
func (a *arenaState) residentCap() int64 {
	r := a.recent.Load()
	return r + r/16 + 2<<20
}

// put returns r to its free list. r's memory must not be used afterwards.
func (a *arenaState) put(r *region) {
	if r == nil {
		return
	}
	size := int64(len(r.mem))
	a.used(-size)
	r.freed = time.Now()
	a.mu.Lock()
	a.free[r.class] = append(a.free[r.class], r)
	if limit := a.residentCap(); a.warmFree.Add(size)+a.inUse.Load() > limit {
		a.trimOldest(limit - limit/16 - a.inUse.Load())
	}
	if a.timer == nil {
		a.timer = time.AfterFunc(trimAfter, a.timedTrim)
	}
	a.mu.Unlock()
}

// trimOldest trims free regions, longest free first, until at most keep
// bytes of them are warm. a.mu is held.
func (a *arenaState) trimOldest(keep int64) {
	for a.warmFree.Load() > keep {
		var oldest *region
		for _, l := range a.free {
			for _, r := range l {
				if r.warm && (oldest == nil || r.freed.Before(oldest.freed)) {
					oldest = r
				}
			}
		}
		if oldest == nil {
			return
		}
		a.trimRegion(oldest)
	}
}

// trimRegion gives back the pages of the free region r. a.mu is held. A
// Go-memory region is emptied (its list entry stays, mem nil, and is
// dropped by the next trim or reuse).
func (a *arenaState) trimRegion(r *region) {
	r.warm = false
	size := int64(len(r.mem))
	a.warmFree.Add(-size)
	if r.heap || !sysTrim(r.mem) {
		r.heap, r.mem = true, nil
		return
	}
	a.coldFree.Add(size)
}

// trim gives back the pages of every free region released at least idle
// ago and reports whether warm free regions remain. a.mu is held.
func (a *arenaState) trim(idle time.Duration) bool {
	now := time.Now()
	warmLeft := false
	for class, l := range a.free {
		kept := l[:0]
		for _, r := range l {
			if r.warm && now.Sub(r.freed) >= idle {
				a.trimRegion(r)
			}
			if r.mem == nil {
				continue // Go memory: left to the collector
			}
			warmLeft = warmLeft || r.warm
			kept = append(kept, r)
		}
		clear(l[len(kept):])
		a.free[class] = kept
	}
	return warmLeft
}

// timedTrim is the timer's trim (one timer at a time, a.timer): regions
// free for trimAfter, the recent peak's decay, and the next round while
// warm free regions remain.
func (a *arenaState) timedTrim() {
	a.mu.Lock()
	defer a.mu.Unlock()
	warmLeft := a.trim(trimAfter)
	a.recent.Store(max(a.inUse.Load(), a.recent.Load()-a.recent.Load()/4))
	a.timer = nil
	if warmLeft {
		a.timer = time.AfterFunc(trimAfter, a.timedTrim)
	}
}

// ArenaStats are the encoder arena's byte counts (see doc.go, Memory).
type ArenaStats struct {
	// InUse is held by Batches (and Encode calls) not yet released.
	InUse int64
	// Peak is the highest InUse since the last ResetArenaPeak.
	Peak int64
	// Free is released and kept for reuse with its pages resident;
	// Trimmed is released and given back to the system (address space
	// only).
	Free, Trimmed int64
}

// ResetArenaPeak starts a new ArenaStats.Peak at the current InUse.
func ResetArenaPeak() { arena.peak.Store(arena.inUse.Load()) }

// ReadArenaStats returns the arena's current byte counts.
func ReadArenaStats() ArenaStats {
	return ArenaStats{InUse: arena.inUse.Load(), Peak: arena.peak.Load(), Free: arena.warmFree.Load(), Trimmed: arena.coldFree.Load()}
}

// TrimArena gives back the pages of every free region now, as
// debug.FreeOSMemory does for the Go heap.
func TrimArena() {
	arena.mu.Lock()
	defer arena.mu.Unlock()
	arena.trim(0)
}

// owned is the set of regions a Batch holds; the cleanup of its Records
// array returns them if the Batch is never released.
type owned struct {
	mu      sync.Mutex
	regions []*region
}

func (o *owned) add(r *region) {
	o.mu.Lock()
	o.regions = append(o.regions, r)
	o.mu.Unlock()
}

// release returns every region of o to the arena.
func (o *owned) release() {
	o.mu.Lock()
	rs := o.regions
	o.regions = o.regions[:0]
	o.mu.Unlock()
	for i, r := range rs {
		arena.put(r)
		rs[i] = nil
	}
}

// ReleaseIndex returns the region of the Batch's Records and Rows arrays to
// the arena before the Batch itself is released, and sets both to nil:
// for a holder that needs only the framed bytes from now on (Frames taken,
// rows noted), so that 32 bytes per row do not stay in use while the
// records wait for their acknowledgement. Only the Batch's owner may call
// it, and only when no one else reads Records or Rows (they would read a
// later batch's bytes); Frames and FramedSize are not available after it.
// The chunk buffers, and slices of them already taken, stay valid until the
// last Release. Calling it again, or on a Batch without rows, does nothing.
func (b *Batch) ReleaseIndex() {
	if b.own == nil || cap(b.Records) == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(b.Records))
	b.Records, b.Rows = nil, nil
	o := b.own
	o.mu.Lock()
	var meta *region
	for i, r := range o.regions {
		if unsafe.Pointer(unsafe.SliceData(r.mem)) == p {
			meta = r
			last := len(o.regions) - 1
			copy(o.regions[i:], o.regions[i+1:])
			o.regions[last] = nil
			o.regions = o.regions[:last]
			break
		}
	}
	o.mu.Unlock()
	arena.put(meta)
}

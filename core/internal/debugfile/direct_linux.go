//go:build linux

package debugfile

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// setDirect sets or clears O_DIRECT on f's descriptor. File systems
// without direct I/O refuse it (EINVAL).
func setDirect(f *os.File, on bool) error {
	return fdCall(f, func(fd int) error {
		flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
		if e != 0 {
			return e
		}
		if on {
			flags |= syscall.O_DIRECT
		} else {
			flags &^= syscall.O_DIRECT
		}
		if _, _, e = syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFL, flags); e != 0 {
			return e
		}
		return nil
	})
}

// hugePage is the size of a transparent huge page on x86-64 and arm64 (4
// KiB base pages).
const hugePage = 2 << 20

// directBufs returns the two aligned buffers of a direct sink, n bytes each
// (a multiple of hugePage), in memory of their own that asks the kernel for
// transparent huge pages (madvise MADV_HUGEPAGE: honoured where THP is
// "always" or "madvise", the usual settings). A direct write pins the
// buffer's pages for the device; from huge pages that costs a fraction of
// what 4 KiB pages do, and the device gets long contiguous segments:
// BenchmarkWriterIO measured about 0.05 s/GB of kernel CPU and 1 GB/s for 4
// MiB writes from huge pages against 0.12-0.15 s/GB and 0.3-0.5 GB/s from
// ordinary Go memory. free unmaps the memory: call it once, when no write
// uses the buffers. Without the mapping (no memory, or a kernel refusing
// it), Go memory is used.
func directBufs(n int) (bufs [2][]byte, free func()) {
	m, err := syscall.Mmap(-1, 0, 2*n+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return heapBufs(n)
	}
	skip := (hugePage - int(uintptr(unsafe.Pointer(unsafe.SliceData(m)))%hugePage)) % hugePage
	both := m[skip : skip+2*n : skip+2*n]
	_ = syscall.Madvise(both, madvHugePage) // advice: ordinary pages if refused
	bufs[0], bufs[1] = both[:n:n], both[n:]
	liveDirectMaps.Add(1)
	return bufs, func() {
		if syscall.Munmap(m) == nil {
			liveDirectMaps.Add(-1)
		}
	}
}

// liveDirectMaps counts the mappings of directBufs not yet freed (tests:
// none is left after Close).
var liveDirectMaps atomic.Int64

// madvHugePage is MADV_HUGEPAGE (the syscall package does not name it).
const madvHugePage = 14

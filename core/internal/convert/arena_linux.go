package convert

import (
	"syscall"
	"unsafe"
)

// sysAlloc maps size bytes of anonymous memory. Regions of hugeMin or more
// are aligned to 2 MiB and advised to use transparent huge pages (where
// THP is off the advice is refused and the region uses normal pages).
func sysAlloc(size int) ([]byte, bool) {
	if size < hugeMin {
		mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		return mem, err == nil
	}
	// Map a huge page more, then unmap the unaligned head and tail (never
	// touched, handed to no one).
	raw, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, false
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
	head := int((hugePage - addr%hugePage) % hugePage)
	if head > 0 {
		unmap(raw[:head])
	}
	if tail := hugePage - head; tail > 0 {
		unmap(raw[head+size : head+size+tail])
	}
	mem := raw[head : head+size : head+size]
	_ = syscall.Madvise(mem, madvHugepage)
	return mem, true
}

// sysTrim gives the pages of mem back to the system; the range stays
// mapped and reads as zeros until written again.
func sysTrim(mem []byte) bool { return syscall.Madvise(mem, syscall.MADV_DONTNEED) == nil }

// madvHugepage is MADV_HUGEPAGE (not in package syscall).
const madvHugepage = 14

// unmap removes part of a fresh mapping (syscall.Munmap only takes whole
// mappings it made).
func unmap(mem []byte) {
	_, _, _ = syscall.Syscall(syscall.SYS_MUNMAP, uintptr(unsafe.Pointer(unsafe.SliceData(mem))), uintptr(len(mem)), 0)
}

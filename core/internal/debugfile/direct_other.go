//go:build !linux

package debugfile

import (
	"errors"
	"os"
)

// setDirect: direct I/O is used on Linux only; elsewhere files are written
// through the page cache.
func setDirect(*os.File, bool) error { return errors.ErrUnsupported }

// directBufs: the aligned buffers in Go memory (direct I/O is not used
// here; a test file system may still take direct writes).
func directBufs(n int) (bufs [2][]byte, free func()) { return heapBufs(n) }

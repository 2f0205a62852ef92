//go:build linux

package debugfile

import (
	"errors"
	"os"
	"syscall"
)

// falloc reserves disk blocks for f's bytes [off, off+n) without changing
// its size (fallocate with FALLOC_FL_KEEP_SIZE), on ext4 only: that is
// where it was measured to pay (BenchmarkWriterIO). Elsewhere it returns
// errors.ErrUnsupported: on tmpfs it would take memory ahead of the data,
// and copy-on-write file systems gain nothing from reserved blocks.
func falloc(f *os.File, off, n int64) error {
	return fdCall(f, func(fd int) error {
		var fs syscall.Statfs_t
		if err := syscall.Fstatfs(fd, &fs); err != nil {
			return err
		}
		if fs.Type != ext4Magic {
			return errors.ErrUnsupported
		}
		for {
			err := syscall.Fallocate(fd, fallocKeepSize, off, n)
			if err != syscall.EINTR {
				return err
			}
		}
	})
}

// trimAlloc frees the blocks reserved beyond f's size (a truncate to the
// size it has).
func trimAlloc(f *os.File) error {
	return fdCall(f, func(fd int) error {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil {
			return err
		}
		return syscall.Ftruncate(fd, st.Size)
	})
}

const (
	fallocKeepSize = 0x1    // FALLOC_FL_KEEP_SIZE
	ext4Magic      = 0xEF53 // EXT4_SUPER_MAGIC (also ext2 and ext3)
)

// fdCall runs fn on f's descriptor (setDirect, falloc, trimAlloc) and
// returns its error, or the error of reaching the descriptor.
func fdCall(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

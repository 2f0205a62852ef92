//go:build linux

package debugfile

import (
	"os"
	"syscall"
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

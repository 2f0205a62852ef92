//go:build linux

package cli

import (
	"fmt"
	"os"
	"syscall"
)

// reopenPipe opens the pipe f (standard input) again, through
// /proc/self/fd: on Linux that is a new open file description of the same
// pipe (not a dup, which would share f's), so it can be non-blocking, in
// Go's poller, where closing it ends a read waiting in it, while f (the
// host's file descriptor 0 when Python runs the command line) keeps its
// mode. Data comes from the one pipe either way. ok is false when f is
// not a pipe or cannot be opened so (it is then read as it is).
func reopenPipe(f *os.File) (_ *os.File, ok bool) {
	st, err := f.Stat()
	if err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		return nil, false
	}
	rc, err := f.SyscallConn() // not f.Fd(), which would put f in blocking mode
	if err != nil {
		return nil, false
	}
	var fd uintptr
	if err := rc.Control(func(d uintptr) { fd = d }); err != nil {
		return nil, false
	}
	// O_NONBLOCK: opening a FIFO for reading does not wait for a writer.
	r, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", fd), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, false
	}
	if st2, err := r.Stat(); err != nil || !os.SameFile(st, st2) {
		_ = r.Close()
		return nil, false
	}
	return r, true
}

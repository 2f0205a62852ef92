//go:build unix

package debugfile

import (
	"errors"
	"os"
	"syscall"
)

// ownedByUs reports whether fi (from Lstat) is owned by this process's
// user.
func ownedByUs(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// lockFile opens (creating it, 0600) the lock file path and takes an
// exclusive advisory lock on it without waiting (flock LOCK_EX|LOCK_NB;
// it excludes other processes and other opens in this process). It
// returns errLocked when another writer holds it. Closing the file
// releases the lock. The holder may remove path before closing
// (unlockFile): a writer that locked the file just removed, or one
// replaced meanwhile, finds that path no longer names the file it locked
// and tries again, so a lock file is never held by two writers.
func lockFile(path string) (*os.File, error) {
	for range 100 {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, err
		}
		for {
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if !errors.Is(err, syscall.EINTR) {
				break
			}
		}
		if err != nil {
			_ = f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, errLocked
			}
			return nil, err
		}
		held, err1 := f.Stat()
		named, err2 := os.Stat(path)
		if err1 == nil && err2 == nil && os.SameFile(held, named) {
			return f, nil
		}
		_ = f.Close() // removed by its last holder: lock the current file
		if err1 != nil {
			return nil, err1
		}
	}
	return nil, errLocked
}

// unlockFile removes the lock file f (while it still holds the lock) and
// releases the lock.
func unlockFile(f *os.File) {
	_ = os.Remove(f.Name())
	_ = f.Close()
}

// lockHeld reports whether a writer holds the lock file path: false when
// there is none (its writer closed it, or never ran) or it can be taken
// (its writer crashed). It takes and drops a shared lock, never creating
// the file.
func lockHeld(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return true
	}
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	return false
}

// lockSupported: writers lock their active names (see takeName).
const lockSupported = true

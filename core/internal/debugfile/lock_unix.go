//go:build unix

package debugfile

import (
	"errors"
	"os"
	"syscall"
)

// lockFile opens (creating it, 0600) the lock file path and takes an
// exclusive advisory lock on it without waiting (flock LOCK_EX|LOCK_NB;
// it excludes other processes and other opens in this process). It
// returns errLocked when another writer holds it. Closing the file
// releases the lock.
func lockFile(path string) (*os.File, error) {
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
	return f, nil
}

// lockSupported: writers lock their active names (see takeName).
const lockSupported = true

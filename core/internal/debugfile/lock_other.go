//go:build !unix

package debugfile

import (
	"errors"
	"os"
)

// ownedByUs is false here: no directory's mode is changed.
func ownedByUs(os.FileInfo) bool { return false }

// lockFile is not implemented here: every writer takes the table's
// canonical active name, as before locking existed (see the package doc,
// "Several writers").
func lockFile(string) (*os.File, error) { return nil, errors.ErrUnsupported }

func unlockFile(f *os.File) { _ = f.Close() }

// lockHeld is not known here (see beingWritten).
func lockHeld(string) bool { return false }

// lockSupported: writers lock their active names (see takeName).
const lockSupported = false

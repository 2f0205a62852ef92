//go:build !linux

package debugfile

import (
	"errors"
	"os"
)

// setDirect: direct I/O is used on Linux only; elsewhere files are written
// through the page cache.
func setDirect(*os.File, bool) error { return errors.ErrUnsupported }

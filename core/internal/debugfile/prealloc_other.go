//go:build !linux

package debugfile

import (
	"errors"
	"os"
)

// falloc: disk blocks are reserved ahead on Linux only; elsewhere the file
// system allocates them as the data comes.
func falloc(*os.File, int64, int64) error { return errors.ErrUnsupported }

func trimAlloc(*os.File) error { return nil }

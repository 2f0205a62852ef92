//go:build !linux

package cli

import "os"

// reopenPipe is false: outside Linux, opening /dev/fd/N duplicates the file
// descriptor (the open file description, and its blocking mode, is
// shared), so standard input is read as it is (see openStream).
func reopenPipe(*os.File) (*os.File, bool) { return nil, false }

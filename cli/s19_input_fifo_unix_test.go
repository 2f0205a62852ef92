//go:build unix

package cli

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestSendRefusesPipe: a named pipe (as /dev/stdin is when piped) is
// refused up front with exit status 2, saying why (before: "illegal seek"
// with -format, or "cannot tell the format", after its data was consumed).
func TestSendRefusesPipe(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "in.arrows")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"auto", "arrow", "csv"} {
		code, _, errOut := runCLIOrderedErr(t, "send", "-dry-run", "-format", format, fifo)
		want := "zerobus send: " + fifo + " is a pipe: send reads each file twice (to check it and count its rows " +
			"before anything is sent, then to send it); save it to a file first"
		if code != ExitUsage || !strings.Contains(errOut, want) {
			t.Errorf("-format %s: exit %d, stderr:\n%s\nwant %d and %q", format, code, errOut, ExitUsage, want)
		}
	}
}

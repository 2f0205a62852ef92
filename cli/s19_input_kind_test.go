package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSendRefusesNonRegularInputs: compressed files are refused up front
// with exit status 2 and the reason (before: "cannot tell the format" for a
// .gz); "-" (a pipe) is read since s20 (s20_pipes_test.go), not when
// standard input is a terminal (s20_pipes_fifo_unix_test.go).
func TestSendRefusesNonRegularInputs(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("id\n1\n"))
	_ = zw.Close()
	gzPath := filepath.Join(dir, "ev.csv.gz")
	hidden := filepath.Join(dir, "ev.data") // gzip by content
	for _, p := range []string{gzPath, hidden} {
		if err := os.WriteFile(p, gz.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ arg, want string }{
		{gzPath, "zerobus send: " + gzPath + " is gzip-compressed: compressed input is not supported; decompress it on the way in"},
		{hidden, "zerobus send: " + hidden + " is gzip-compressed: compressed input is not supported"},
	} {
		code, _, errOut := runCLIOrderedErr(t, "send", "-dry-run", tc.arg)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("send %s: exit %d, stderr:\n%s\nwant %d and %q", tc.arg, code, errOut, ExitUsage, tc.want)
		}
	}
}

// runCLIOrderedErr runs the command line with an empty environment.
func runCLIOrderedErr(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	code, stdout, stderr, _ = runCLIOrdered(context.Background(), args...)
	return code, stdout, stderr
}

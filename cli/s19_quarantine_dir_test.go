package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSendQuarantineMissingDir: a -quarantine path in a directory that does
// not exist names that directory, not the temporary file send would create
// there ("open /x/.q.arrows.3767715377.tmp: no such file or directory").
func TestSendQuarantineMissingDir(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "d.csv")
	writeFile(t, in, "id\n1\n")
	missing := filepath.Join(dir, "nonexist")
	q := filepath.Join(missing, "q.arrows")
	code, _, errOut, _ := runCLIOrdered(context.Background(), "send", "-dry-run", "-quarantine", q, in)
	want := "zerobus send: -quarantine " + q + ": the directory " + missing + " does not exist\n"
	if code != ExitUsage || !strings.Contains(errOut, want) || strings.Contains(errOut, ".tmp") {
		t.Errorf("exit %d, stderr:\n%s\nwant %q", code, errOut, want)
	}
	notDir := filepath.Join(in, "q.arrows") // beside a file, as if it were a directory
	code, _, errOut, _ = runCLIOrdered(context.Background(), "send", "-dry-run", "-quarantine", notDir, in)
	if want := "zerobus send: -quarantine " + notDir + ": " + in + " is not a directory\n"; code != ExitUsage || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant %q", code, errOut, want)
	}
}

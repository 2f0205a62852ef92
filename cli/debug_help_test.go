package cli

import (
	"strings"
	"testing"
)

// TestDebugHelpNamesEveryFileName: debug -h names the file names a second
// writer of the same table in the same directory uses (core's debugfile
// names.go: extraStem and rotatedStem with a writer id), not only the
// canonical active and rotated ones.
func TestDebugHelpNamesEveryFileName(t *testing.T) {
	_, out, _ := runCLI(t, "debug", "-h")
	for _, want := range []string{
		"<table>[-<stamp>-<seq>].arrow",
		"<table>-<pid>_<n>.<ext>",
		"<table>-<stamp>-<seq>-<pid>_<n>.<ext>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("debug -h lacks %q:\n%s", want, out)
		}
	}
}

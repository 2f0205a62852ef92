package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every error of "zerobus debug read" is named by the subcommand, as its
// usage errors are: a file that is not a debug file printed "zerobus debug:"
// (s14 review-docs L12).
func TestDebugReadErrorsNameTheSubcommand(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.txt")
	if err := os.WriteFile(p, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI(t, "debug", "read", p)
	if code != ExitFailed || !strings.HasPrefix(stderr, "zerobus debug read: "+p+": not a debug file") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

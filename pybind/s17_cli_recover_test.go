package pybind

import (
	"bytes"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/cli"
)

// A panic in a command run from Python aborted the interpreter (s17 H1):
// guardCLI turns it into an error naming the command.
func TestS17GuardCLIRecoversPanic(t *testing.T) {
	var errOut bytes.Buffer
	code := guardCLI([]string{"debug", "read", "-format", "table", "x.proto"}, &errOut, func() int {
		var m map[string]int
		m["x"] = 1 // a nil map write: a runtime panic
		return 0
	})
	if code != cli.ExitFailed {
		t.Errorf("exit %d, want %d", code, cli.ExitFailed)
	}
	first := strings.SplitN(errOut.String(), "\n", 2)[0]
	if !strings.HasPrefix(first, "zerobus debug read: internal error") || !strings.Contains(first, "assignment to entry in nil map") {
		t.Errorf("stderr first line %q", first)
	}
	if got := guardCLI([]string{"version"}, &errOut, func() int { return 7 }); got != 7 {
		t.Errorf("no panic: exit %d, want 7", got)
	}
}

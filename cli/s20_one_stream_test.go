package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Two Arrow IPC streams one after the other ("cat a.arrows b.arrows | zerobus
// send -", or a file holding both) sent the first and dropped the second
// without a word, exit 0 (s20 review diffa M3). What follows the
// end-of-stream marker is now an error naming where, after the first
// stream's rows were sent.
func TestS20ConcatenatedArrowStreamsAreAnError(t *testing.T) {
	two := append(arrowBytes(t, false, 100, 100), arrowBytes(t, false, 100, 100)...)
	file := filepath.Join(t.TempDir(), "two.arrows")
	if err := os.WriteFile(file, two, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string][]string{"stdin": {"-"}, "file": {file}} {
		code, out, errOut := runWithStdin(t.Context(), pipeStdin(t, two), append([]string{"send", "-dry-run"}, args...)...)
		if code == 0 || !strings.Contains(errOut+out, "more data follows the Arrow IPC stream's end-of-stream marker") ||
			!strings.Contains(errOut+out, "after record batch 1 (row 100)") {
			t.Errorf("%s: exit %d\nstdout %s\nstderr %s\nwant an error naming the data after the first stream", name, code, out, errOut)
		}
	}
	// One stream alone still sends.
	if code, out, errOut := runWithStdin(t.Context(), pipeStdin(t, arrowBytes(t, false, 100, 100)), "send", "-dry-run", "-"); code != 0 {
		t.Errorf("one stream: exit %d\n%s\n%s", code, out, errOut)
	}
}

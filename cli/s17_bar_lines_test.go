package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestBarLineIsBlankedBeforeOtherWrites: a log record or notice written
// while the progress bar is shown starts at the start of a blank line (the
// bar's line blanked), not glued after the bar's text; the next redraw puts
// the bar back, and Stop's newline ends it.
func TestBarLineIsBlankedBeforeOtherWrites(t *testing.T) {
	var out bytes.Buffer
	lw := &lockedWriter{w: &out}
	lw.drawLine("[###.....]  30%  3/10 rows")
	if _, err := lw.Write([]byte("level=WARN msg=retrying\n")); err != nil {
		t.Fatal(err)
	}
	lw.drawLine("[#####...]  50%  5/10 rows")
	lw.endLine()
	lw.endLine() // nothing shown: no second newline
	const bar1 = "[###.....]  30%  3/10 rows"
	want := "\r" + bar1 + "\r" + strings.Repeat(" ", len(bar1)) + "\r" + "level=WARN msg=retrying\n" +
		"\r[#####...]  50%  5/10 rows\n"
	if got := out.String(); got != want {
		t.Errorf("stderr:\n got %q\nwant %q", got, want)
	}
	// What a terminal shows: each line's text after its last \r.
	var shown []string
	for _, line := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
		shown = append(shown, line[strings.LastIndex(line, "\r")+1:])
	}
	if want := []string{"level=WARN msg=retrying", "[#####...]  50%  5/10 rows"}; strings.Join(shown, "|") != strings.Join(want, "|") {
		t.Errorf("terminal shows %q, want %q", shown, want)
	}
}

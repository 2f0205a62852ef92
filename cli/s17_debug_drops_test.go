package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// s17 L2: a damaged line in the drops sidecar (half a line from a short
// write, with the next gap appended to it) made debug read refuse the whole
// intact data file. Now it is noted on stderr, naming the sidecar and line,
// and the rows are printed with the gaps that parse.
func TestS17DebugReadDamagedDrops(t *testing.T) {
	dir := t.TempDir()
	p := writeArrowFixture(t, dir, 3, 2) // ids 0..5 in batches of 2
	writeDrops(t, p,
		`{"before_write":1,"before_row":2,"dropped_writes":1,"dropped_rows":3,"dropped_bytes":10,"reason":"queue full"}`,
		`{"before_write":2,"before_ro{"before_write":2,"before_row":4,"dropped_writes":1,"dropped_rows":5,"dropped_bytes":10,"reason":"queue full"}`,
		`{"before_write":3,"before_ro`)
	var out, errOut bytes.Buffer
	if err := debugMain(context.Background(), []string{"read", p}, &out, &errOut); err != nil {
		t.Fatalf("debug read: %v (stderr %q)", err, errOut.String())
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.HasPrefix(line, `{"zerobus_gap":`) {
			got = append(got, "gap")
		} else {
			got = append(got, line[:len(`{"id":0`)])
		}
	}
	want := []string{`{"id":0`, `{"id":1`, "gap", `{"id":2`, `{"id":3`, "gap", `{"id":4`, `{"id":5`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("output (-want +got):\n%s\n%s", diff, out.String())
	}
	side := strings.TrimSuffix(p, ".arrow") + ".drops.jsonl"
	for _, n := range []string{"2", "3"} {
		if w := "note: \"" + side + "\" line " + n + " is damaged: "; !strings.Contains(errOut.String(), w) {
			t.Errorf("stderr lacks %q:\n%s", w, errOut.String())
		}
	}
	if !strings.Contains(errOut.String(), "note: 8 rows are missing") {
		t.Errorf("stderr lacks the total of the gaps that parse:\n%s", errOut.String())
	}
}

package cli

import (
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// s17 L4: -limit read (and checked, and held) every batch of the file
// before printing the first rows; it now stops after the batches it
// prints: damage past them is not even read.
func TestS17DebugReadLimitStopsReading(t *testing.T) {
	p := writeArrowFixture(t, t.TempDir(), 3, 2) // ids 0..5 in batches of 2
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, st.Size()-20); err != nil { // cut inside the last batch (and its end marker)
		t.Fatal(err)
	}
	if _, err := runDebugCmd(t, "read", p); err == nil {
		t.Fatal("the whole file: no error for its cut last batch")
	}
	out, err := runDebugCmd(t, "read", "-limit", "2", p)
	if err != nil {
		t.Fatalf("-limit 2: %v", err)
	}
	if diff := cmp.Diff([]int64{0, 1}, jsonIDs(t, out)); diff != "" {
		t.Errorf("-limit 2 ids (-want +got):\n%s", diff)
	}
	// The damage in the batch right after the rows asked for (read to tell
	// whether more follow) is a note, not a failure (s17 review late L1).
	out, err = runDebugCmd(t, "read", "-limit", "4", p)
	if err != nil {
		t.Fatalf("-limit 4 (the batch after is cut): %v", err)
	}
	if diff := cmp.Diff([]int64{0, 1, 2, 3}, jsonIDs(t, out)); diff != "" {
		t.Errorf("-limit 4 ids (-want +got):\n%s", diff)
	}
	// Asking for rows in the damaged batch still fails, after the rows before it.
	if out, err := runDebugCmd(t, "read", "-limit", "6", p); err == nil || len(jsonIDs(t, out)) != 4 {
		t.Errorf("-limit 6: %v, %d rows; want the 4 intact rows and the damage as the error", err, len(jsonIDs(t, out)))
	}
}

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
}

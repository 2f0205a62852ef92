package debugfile

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// s17 L4: reading the first rows of a file read (and held) every batch;
// ReadArrowFileRows stops after the batches holding maxRows rows.
func TestS17ReadArrowFileRowsStopsEarly(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := filepath.Join(t.TempDir(), "r.arrow")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	var w *ipc.Writer
	for b := 0; b < 5; b++ {
		rec := makeBatch(memory.DefaultAllocator, b*10, 10)
		if w == nil {
			w = ipc.NewWriter(f, ipc.WithSchema(rec.Schema()))
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, c := range []struct {
		max         int64
		batches     int
		more        bool
		description string
	}{
		{1, 1, true, "one row"}, {10, 1, true, "one batch"}, {11, 2, true, "into the second"},
		{50, 5, false, "all"}, {0, 5, false, "no limit"}, {1000, 5, false, "more than all"},
	} {
		recs, _, more, err := ReadArrowFileRows(p, mem, c.max)
		if err != nil {
			t.Fatalf("%s: %v", c.description, err)
		}
		if len(recs) != c.batches || more != c.more {
			t.Errorf("%s: %d batches, more %v; want %d, %v", c.description, len(recs), more, c.batches, c.more)
		}
		for i, r := range recs {
			if got := r.Column(0).ValueStr(0); got != strconv.Itoa(i*10) {
				t.Errorf("%s: batch %d starts with %s", c.description, i, got)
			}
			r.Release()
		}
	}
}

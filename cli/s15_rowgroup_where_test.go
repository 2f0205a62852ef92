package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestCorruptRowGroupNamedInSpanningBatch: when one batch spans every row
// group (-batch-rows larger than the file) and only row group 9 of 10 is
// corrupt, the error names row group 9 and its rows, not row group 0; with
// a batch spanning groups 8 and 9 too. A corrupt first group is still named.
func TestCorruptRowGroupNamedInSpanningBatch(t *testing.T) {
	dir := t.TempDir()
	last := filepath.Join(dir, "lastrg.parquet")
	writeSnappyParquet(t, last, 20000, 2000)
	corruptColumnChunk(t, last, 9, 1)
	first := filepath.Join(dir, "firstrg.parquet")
	writeSnappyParquet(t, first, 20000, 2000)
	corruptColumnChunk(t, first, 0, 1)
	cases := []struct {
		path      string
		batchRows int64
		want      string
	}{
		{last, 65536, "row group 9 (rows 18000..19999)"},
		{last, 3000, "row group 9 (rows 18000..19999)"},
		{first, 65536, "row group 0 (rows 0..1999)"},
	}
	for _, tc := range cases {
		in, err := openInput(context.Background(), tc.path, inputOptions{format: formatAuto, batchRows: tc.batchRows, csvInferRows: 10, mem: memory.DefaultAllocator})
		if err != nil {
			t.Fatal(err)
		}
		var rows int64
		for in.reader.Next() {
			rows += in.reader.RecordBatch().NumRows()
		}
		err = in.reader.Err()
		in.Close()
		if err == nil {
			t.Fatalf("%s, batch rows %d: no error for a corrupt row group", filepath.Base(tc.path), tc.batchRows)
		}
		if !strings.HasPrefix(err.Error(), tc.want+": the data cannot be decoded") {
			t.Errorf("%s, batch rows %d: error %q; want it to start with %q", filepath.Base(tc.path), tc.batchRows, err, tc.want)
		}
		t.Logf("%s, batch rows %d: %d rows read, then %v", filepath.Base(tc.path), tc.batchRows, rows, err)
	}
}

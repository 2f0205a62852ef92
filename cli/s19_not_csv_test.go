package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestSendParquetNamedCSV: a Parquet or Arrow IPC file named .csv is said
// to look like one, with the -format to give (before: "CSV header: column 1
// name is not valid UTF-8"); with that -format it is sent.
func TestSendParquetNamedCSV(t *testing.T) {
	dir := t.TempDir()
	pq := filepath.Join(dir, "d.parquet")
	writeParquet(t, pq, mixedSchema, 10, func(yield func(arrow.RecordBatch) bool) {
		yield(mixedBatch(memory.DefaultAllocator, 0, 4))
	})
	ar := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 4)
	defer rec.Release()
	writeArrow(t, ar, false, mixedSchema, []arrow.RecordBatch{rec})
	for _, tc := range []struct{ src, want, format string }{
		{pq, `not a CSV file: it looks like a Parquet file (it starts with "PAR1`, "parquet"},
		{ar, `not a CSV file: it looks like an Arrow IPC file or stream (it starts with "ARROW1"); give -format arrow`, "arrow"},
	} {
		b, err := os.ReadFile(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		wrong := filepath.Join(dir, "wrong-"+tc.format+".csv")
		writeFile(t, wrong, string(b))
		code, _, errOut, _ := runCLIOrdered(context.Background(), "send", "-dry-run", wrong)
		if code == ExitOK || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "give -format "+tc.format) {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant %q", wrong, code, errOut, tc.want)
		}
		code, out, errOut, _ := runCLIOrdered(context.Background(), "send", "-dry-run", "-format", tc.format, wrong)
		if code != ExitOK || !strings.Contains(out, "converted:    4 of 4") {
			t.Errorf("%s -format %s: exit %d\n%s%s", wrong, tc.format, code, out, errOut)
		}
	}
}

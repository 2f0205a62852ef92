package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestSendFailedRowsGroupedAndTruncated: 30 rows with a null in a NOT NULL
// column, every 2nd row: the text summary gives one line for the one
// reason (its first ranges, the rows and ranges counted) and a heading with
// the real counts (not "first 30" when 10 ranges were listed); -json says
// that failed_rows is cut and how many ranges there are.
func TestSendFailedRowsGroupedAndTruncated(t *testing.T) {
	s := startServer(t)
	const table = "main.default.nn"
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, name STRING")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range 60 {
		if i%2 == 1 {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
		}
		b.Field(1).(*array.StringBuilder).Append("x")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "nulls.arrow")
	writeArrow(t, path, false, schema, []arrow.RecordBatch{rec})

	r := sendCLI(t, append(connFlags(s, table), "-progress", "never", "-batch-rows", "7", path)...)
	if got := s.RecordCount(table); got != 30 {
		t.Fatalf("server stored %d rows, want 30", got)
	}
	if !strings.Contains(r.stdout, "  failed rows (30 rows in 30 ranges; rows count from 0 in each file):\n    "+path+
		" rows 1, 3, 5, 7, 9, … (30 rows in 30 ranges): [conversion] column \"id\": ") {
		t.Errorf("summary does not group the rows of the one reason:\n%s", r.stdout)
	}
	if n := strings.Count(r.stdout, "column \"id\""); n != 1 {
		t.Errorf("the reason is printed %d times, want once:\n%s", n, r.stdout)
	}

	r = sendCLI(t, append(connFlags(s, table), "-json", "-batch-rows", "7", path)...)
	var out struct {
		FailedRows []struct {
			FirstRow int64 `json:"first_row"`
		} `json:"failed_rows"`
		Truncated *bool  `json:"failed_rows_truncated"`
		Ranges    *int64 `json:"failed_row_ranges"`
		Failed    int64  `json:"rows_failed"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("-json %q: %v", r.stdout, err)
	}
	if len(out.FailedRows) != 10 || out.FailedRows[9].FirstRow != 19 || out.Truncated == nil || !*out.Truncated ||
		out.Ranges == nil || *out.Ranges != 30 || out.Failed != 30 {
		t.Errorf("-json failed rows: %+v truncated %v ranges %v", out, out.Truncated, out.Ranges)
	}
}

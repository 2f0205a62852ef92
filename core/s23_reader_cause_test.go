package core_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// The cause under a failed row's ConversionError (the row's own RowError)
// names the same row as the error, also when a reader's parts are merged:
// row 107 of a two-batch reader said "row 7" in its cause (s23 review).
func TestReaderRowCauseNamesTheReaderRow(t *testing.T) {
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, "main.default.s23_reader_cause"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	b1 := nullNameBatch(100, func(int) bool { return false })
	b2 := nullNameBatch(100, func(i int) bool { return i == 7 || i == 8 })
	rdr, err := array.NewRecordReader(b1.Schema(), []arrow.RecordBatch{b1, b2})
	if err != nil {
		t.Fatal(err)
	}
	res, _ := w.SendReader(context.Background(), rdr)
	var rows []int
	for _, g := range res.FailedGroups() {
		for _, r := range g.Ranges {
			for i := r[0]; i < r[1]; i++ {
				rows = append(rows, i)
				var ce *core.ConversionError
				if !errors.As(g.ErrAt(i), &ce) || ce.Row != i {
					t.Fatalf("row %d: error %v does not name it", i, g.ErrAt(i))
				}
				cause := errors.Unwrap(ce)
				if cause == nil || !strings.HasPrefix(cause.Error(), fmt.Sprintf("row %d,", i)) {
					t.Errorf("row %d: the cause names another row: %v", i, cause)
				}
			}
		}
	}
	if fmt.Sprint(rows) != "[107 108]" {
		t.Fatalf("failed rows %v, want [107 108]", rows)
	}
}

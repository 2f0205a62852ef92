package core_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// nullNameBatch is n rows of telSchema whose name is null (failing the row)
// where null(i).
func nullNameBatch(n int, null func(int) bool) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.NewGoAllocator(), telSchema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if null(i) {
			b.Field(1).(*array.StringBuilder).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("row %d", i))
		}
	}
	return b.NewRecordBatch()
}

// checkNamesRow fails unless err is row i's own conversion error of the
// name column.
func checkNamesRow(t *testing.T, what string, i int, err error) {
	t.Helper()
	ce, ok := err.(*core.ConversionError) //nolint:errorlint // the row's error as stored
	if !ok || ce.Row != i || ce.Column != "name" || !strings.Contains(err.Error(), fmt.Sprintf(" at row %d,", i)) ||
		core.DetailsOf(err).Row != i {
		t.Fatalf("%s: row %d's error = %v (%T), want a conversion error naming row %d", what, i, err, err, i)
	}
}

// TestRowNamedErrorsAreOneGroup: a conversion error names its row, and
// FailedGroups keyed groups by message, so 500k rows failing with the same
// null value made 500k groups (88 MB under WithRowRangesOnly, the option
// promising "a few ranges"); pybind folded them again for Python only (s17
// review goapi M2). Core now keeps rows whose errors differ only in the row
// they name as one run and one RowNamed group, and every row's error
// (FailedRows, ErrAt, ErrorMessages) still names its own row.
func TestRowNamedErrorsAreOneGroup(t *testing.T) {
	const n = 3000
	null := func(i int) bool { return i < 1000 || i >= 2000 && i < 2500 || i == 2700 }
	wantRanges := [][2]int{{0, 1000}, {2000, 2500}, {2700, 2701}}
	const failed = 1501
	for _, mode := range []string{"lists", "ranges only"} {
		t.Run(mode, func(t *testing.T) {
			srv := localServer(t)
			table := "main.default.row_named_" + strings.ReplaceAll(mode, " ", "_")
			var opts []core.Option
			if mode == "ranges only" {
				opts = append(opts, core.WithRowRangesOnly())
			}
			w, err := core.New(context.Background(), localConfig(srv, table), opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer closeWrapper(t, w)
			rec := nullNameBatch(n, null)
			defer rec.Release()
			res, err := w.SendBatch(context.Background(), rec)
			if err == nil || res.FailedCount != failed || res.NotWrittenCount != failed || res.SuccessfulCount != n-failed {
				t.Fatalf("SendBatch = %v, %v; want %d rows failed", res, err, failed)
			}
			if got := len(storedTelIDs(t, srv, table)); got != n-failed {
				t.Errorf("server stored %d rows, want %d", got, n-failed)
			}
			if ce := (*core.ConversionError)(nil); !errors.As(res.Err, &ce) || ce.Row != 0 {
				t.Errorf("Err = %v, want row 0's conversion error in its chain", res.Err)
			}
			groups := res.FailedGroups()
			if len(groups) != 1 {
				t.Fatalf("FailedGroups: %d groups, want 1 (first: %+v)", len(groups), groups[0])
			}
			g := groups[0]
			if !g.RowNamed || g.State != core.RowNotWritten || !slices.Equal(g.Ranges, wantRanges) || g.Rows() != failed {
				t.Fatalf("group = %+v, want RowNamed, not written, ranges %v", g, wantRanges)
			}
			checkNamesRow(t, "group Err", 0, g.Err)
			for _, r := range g.Ranges {
				for i := r[0]; i < r[1]; i++ {
					checkNamesRow(t, "ErrAt", i, g.ErrAt(i))
				}
			}
			if mode == "lists" {
				if len(res.FailedRows) != failed {
					t.Fatalf("%d FailedRows, want %d", len(res.FailedRows), failed)
				}
				for _, f := range res.FailedRows {
					checkNamesRow(t, "FailedRows", f.Index, f.Err)
				}
			}
			msgs := res.ErrorMessages()
			if len(msgs) != failed || !strings.Contains(msgs[1000], " at row 2000,") {
				t.Errorf("ErrorMessages: %d (msgs[1000] %q), want one per failed row naming it", len(msgs), msgs[min(1000, len(msgs)-1)])
			}
			if got := res.FailedRowIndices(); len(got) != failed || got[1000] != 2000 {
				t.Errorf("FailedRowIndices: %d rows", len(got))
			}
			if s := res.String(); !strings.Contains(s, "conversion=1501") {
				t.Errorf("String() = %s", s)
			}
			if res.FailedAsWhole() {
				t.Error("FailedAsWhole for row failures")
			}
		})
	}
}

// TestRowNamedAllRowsNotWhole: every row failing with its own null value is
// row failures, not the batch failing as a whole (Python raises for the
// latter), although the rows are now one run whose first error is Err.
func TestRowNamedAllRowsNotWhole(t *testing.T) {
	c := core.DefaultConfig()
	c.TableName, c.WriterDisabled = "main.default.all_null", true
	w, err := core.New(context.Background(), c, core.WithRowRangesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	rec := nullNameBatch(200, func(int) bool { return true })
	defer rec.Release()
	res, _ := w.SendBatch(context.Background(), rec)
	if res.FailedCount != 200 || res.FailedAsWhole() {
		t.Fatalf("result %v, FailedAsWhole %v; want 200 row failures, not whole", res, res.FailedAsWhole())
	}
	if g := res.FailedGroups(); len(g) != 1 || !g[0].RowNamed || g[0].Rows() != 200 {
		t.Fatalf("FailedGroups = %+v", g)
	}
	// The batch's error counts the rows, as SendReader's does for the same
	// rows (it was row 0's own error once the rows were one run).
	if want := "zerobus: 200 of 200 rows failed; first, row 0: "; res.Err == nil || !strings.HasPrefix(res.Err.Error(), want) {
		t.Errorf("Err = %v, want it to start %q", res.Err, want)
	}
}

// TestRowNamedAcrossReaderBatches: rows failing across the boundary of a
// reader's batches (results merged) are one run and one group too.
func TestRowNamedAcrossReaderBatches(t *testing.T) {
	const table = "main.default.row_named_reader"
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, table), core.WithRowRangesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	var nulls []int
	for i := 250; i < 350; i++ {
		nulls = append(nulls, i)
	}
	res, err := w.SendReader(context.Background(), &genReader{size: 300, count: 3, nullIDs: nulls})
	if err == nil || res.FailedCount != 100 {
		t.Fatalf("SendReader = %v, %v", res, err)
	}
	g := res.FailedGroups()
	if len(g) != 1 || !g[0].RowNamed || !slices.Equal(g[0].Ranges, [][2]int{{250, 350}}) {
		t.Fatalf("FailedGroups = %+v, want one group of rows [250, 350)", g)
	}
	for i := 250; i < 350; i++ {
		checkNamesRow(t, "ErrAt", i, g[0].ErrAt(i))
	}
}

// TestRowNamedGroupsKeepDistinctErrors: only errors that differ in nothing
// but their own row share a group: another column, another state, an error
// shared by several rows, or one naming another row stay apart.
func TestRowNamedGroupsKeepDistinctErrors(t *testing.T) {
	var rows []core.FailedRow
	for i := 0; i < 100; i += 2 {
		rows = append(rows, core.FailedRow{Index: i, Err: &core.ConversionError{Row: i, Column: "s", Reason: "invalid UTF-8"}, State: core.RowNotWritten})
	}
	shared := &core.ConversionError{Row: 101, Reason: "bad"}
	rows = append(rows,
		core.FailedRow{Index: 101, Err: shared, State: core.RowNotWritten}, core.FailedRow{Index: 102, Err: shared, State: core.RowNotWritten}, // shared: names row 101 only
		core.FailedRow{Index: 103, Err: &core.ConversionError{Row: 103, Column: "t", Reason: "invalid UTF-8"}, State: core.RowNotWritten},
		core.FailedRow{Index: 104, Err: &core.ConversionError{Row: 7, Column: "s", Reason: "invalid UTF-8"}, State: core.RowNotWritten},
		core.FailedRow{Index: 105, Err: &core.ConversionError{Row: 105, Column: "s", Reason: "invalid UTF-8"}, State: core.RowUnknown},
		core.FailedRow{Index: 106, Err: &core.ConversionError{Row: 106, Column: "s", Reason: "invalid UTF-8"}, State: core.RowNotWritten},
	)
	res := &core.TransmissionResult{TotalRows: 110, FailedCount: len(rows), SuccessfulCount: 110 - len(rows), Err: rows[0].Err, FailedRows: rows}
	groups := res.FailedGroups()
	type want struct {
		named  bool
		ranges int
		rows   int
		first  int
	}
	wants := []want{{true, 51, 51, 0}, {false, 1, 2, 101}, {true, 1, 1, 103}, {false, 1, 1, 104}, {true, 1, 1, 105}}
	if len(groups) != len(wants) {
		t.Fatalf("%d groups, want %d: %+v", len(groups), len(wants), groups)
	}
	for k, w := range wants {
		g := groups[k]
		if g.RowNamed != w.named || len(g.Ranges) != w.ranges || g.Rows() != w.rows || g.Ranges[0][0] != w.first {
			t.Errorf("group %d = %+v (RowNamed %v, %d rows), want %+v", k, g.Ranges[:min(3, len(g.Ranges))], g.RowNamed, g.Rows(), w)
		}
	}
	if e := groups[1].ErrAt(102); e != shared {
		t.Errorf("shared group's ErrAt(102) = %v, want the shared error naming row 101", e)
	}
	checkNamesRowCol(t, groups[0].ErrAt(106), 106, "s")
	if e := groups[3].ErrAt(104).(*core.ConversionError); e.Row != 7 { //nolint:errorlint,forcetypeassert // as stored
		t.Errorf("a row whose error names another row: ErrAt = %v", e)
	}
}

func checkNamesRowCol(t *testing.T, err error, row int, col string) {
	t.Helper()
	ce, ok := err.(*core.ConversionError) //nolint:errorlint // as stored
	if !ok || ce.Row != row || ce.Column != col {
		t.Errorf("error %v, want row %d column %s", err, row, col)
	}
}

package core_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// valueFoldSchema: id BIGINT, n and m int64 sent into INT columns.
var valueFoldSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "m", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

// valueFoldRow is row i's n and m and the message its failure has ("" for a
// row that is stored), written out as the protobuf and Arrow Flight paths
// word it for a row on its own: n over INT's maximum on even rows and on
// every row of [4000, 4200) (a run of contiguous rows across the protobuf
// path's first chunk of 4096 rows), under its minimum on rows 5 mod 10, m
// over the maximum on rows 3 mod 7 (when n fits), the rest fit.
func valueFoldRow(i int) (n, m int64, msg string) {
	const over = "zerobus: conversion failed at row %d, column %q: int64 value %d is over the INT maximum 2147483647; filter or correct the row, or give the table's column a wider type"
	const under = "zerobus: conversion failed at row %d, column %q: int64 value %d is under the INT minimum -2147483648; filter or correct the row, or give the table's column a wider type"
	n, m = int64(i), int64(-i)
	switch {
	case i%2 == 0 || i >= 4000 && i < 4200:
		n = 1<<31 + int64(i)
		return n, m, fmt.Sprintf(over, i, "n", n)
	case i%10 == 5:
		n = -1<<31 - int64(i)
		return n, m, fmt.Sprintf(under, i, "n", n)
	case i%7 == 3:
		m = 1<<31 + int64(i)*1000
		return n, m, fmt.Sprintf(over, i, "m", m)
	}
	return n, m, ""
}

// valueFoldBatch is rows [lo, hi) of the value-fold data.
func valueFoldBatch(lo, hi int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.NewGoAllocator(), valueFoldSchema)
	defer b.Release()
	for i := lo; i < hi; i++ {
		n, m, _ := valueFoldRow(i)
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.Int64Builder).Append(n)
		b.Field(2).(*array.Int64Builder).Append(m)
	}
	return b.NewRecordBatch()
}

// storedIDs is the ids the server stored in table, sorted (either transport).
func storedIDs(t *testing.T, srv *zerobuslocal.Server, table string) []int {
	t.Helper()
	rec, err := srv.ArrowBatch(table, memory.NewGoAllocator())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	var ids []int
	for c := range int(rec.NumCols()) {
		if rec.ColumnName(c) == "id" {
			col := rec.Column(c).(*array.Int64)
			for i := range col.Len() {
				ids = append(ids, int(col.Value(i)))
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// rebuild is row i's message from g's RowTemplate (what Python gets).
func rebuild(t *testing.T, g core.FailedGroup, i, j int) string {
	t.Helper()
	parts, vals, ok := g.RowTemplate()
	if !ok {
		t.Fatalf("RowTemplate of %v: not ok", g.Err)
	}
	k := len(parts) - 2
	var b strings.Builder
	b.WriteString(parts[0])
	b.WriteString(strconv.Itoa(i))
	b.WriteString(parts[1])
	for x := range k {
		b.WriteString(vals[j*k+x])
		b.WriteString(parts[x+2])
	}
	return b.String()
}

// TestValueErrorsFoldIntoOneGroupPerFailure: rows whose conversion errors
// differ in the row and in the row's own value (an INT overflow per row)
// were a group each (500k bad values: 500k groups); now each kind of
// failure of a column is one RowNamed group, on both transports, for one
// batch and for a reader's batches, listing rows or ranges only, and every
// row's error (ErrAt, FailedRows, RowTemplate) is byte for byte the message
// the row has on its own, naming its row and its value. Distinct failures
// (over vs under, another column) stay apart; the rows that fit are the
// ones the server stored.
func TestValueErrorsFoldIntoOneGroupPerFailure(t *testing.T) {
	const total = 10_000
	want := map[int]string{}
	var good []int
	for i := range total {
		if _, _, msg := valueFoldRow(i); msg != "" {
			want[i] = msg
		} else {
			good = append(good, i)
		}
	}
	srv := localServer(t)
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, n INT, m INT")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		for _, mode := range []string{"lists", "ranges only"} {
			for _, input := range []string{"batch", "reader"} {
				name := tr + "_" + strings.ReplaceAll(mode, " ", "_") + "_" + input
				t.Run(name, func(t *testing.T) {
					table := "main.default.s18_valuefold_" + name
					if err := srv.CreateTableColumns(table, cols); err != nil {
						t.Fatal(err)
					}
					cfg := localConfig(srv, table)
					cfg.Transport = tr
					var opts []core.Option
					if mode == "ranges only" {
						opts = append(opts, core.WithRowRangesOnly())
					}
					w, err := core.New(context.Background(), cfg, opts...)
					if err != nil {
						t.Fatal(err)
					}
					defer closeWrapper(t, w)
					var res *core.TransmissionResult
					if input == "batch" {
						rec := valueFoldBatch(0, total)
						defer rec.Release()
						res, _ = w.SendBatch(context.Background(), rec)
					} else { // batches of 1700 rows: groups run across them
						var recs []arrow.RecordBatch
						for lo := 0; lo < total; lo += 1700 {
							recs = append(recs, valueFoldBatch(lo, min(lo+1700, total)))
						}
						rdr, err := array.NewRecordReader(valueFoldSchema, recs)
						if err != nil {
							t.Fatal(err)
						}
						for _, r := range recs {
							r.Release()
						}
						res, _ = w.SendReader(context.Background(), rdr)
						rdr.Release()
					}
					if res.TotalRows != total || res.FailedCount != len(want) || res.NotWrittenCount != len(want) || res.SuccessfulCount != len(good) {
						t.Fatalf("result %v: want %d failed, %d stored", res, len(want), len(good))
					}
					if got := storedIDs(t, srv, table); !slices.Equal(got, good) {
						t.Fatalf("server stored %d rows, want the %d rows that fit", len(got), len(good))
					}
					groups := res.FailedGroups()
					if len(groups) != 3 {
						for _, g := range groups[:min(5, len(groups))] {
							t.Logf("group %v: %d rows", g.Err, g.Rows())
						}
						t.Fatalf("%d groups, want 3 (n over, n under, m over)", len(groups))
					}
					seen := 0
					for gi, g := range groups {
						if !g.RowNamed || g.State != core.RowNotWritten {
							t.Fatalf("group %d: RowNamed %v, state %v", gi, g.RowNamed, g.State)
						}
						first := strings.Contains(want[g.Ranges[0][0]], "is under")
						col := core.DetailsOf(g.Err).Column
						parts, _, _ := g.RowTemplate()
						if len(parts) != 3 { // the row and the value: INT's maximum is the same in every row
							t.Errorf("group %d: template %q, want the row and one value as holes", gi, parts)
						}
						j := 0
						for _, r := range g.Ranges {
							for i := r[0]; i < r[1]; i++ {
								e := g.ErrAt(i)
								if got := e.Error(); got != want[i] {
									t.Fatalf("ErrAt(%d) = %q, want %q", i, got, want[i])
								}
								if d := core.DetailsOf(e); d.Message != want[i] || d.Row != i || d.Column != col || d.Kind != core.KindConversion {
									t.Fatalf("DetailsOf(ErrAt(%d)) = %+v", i, d)
								}
								if strings.Contains(want[i], "is under") != first || !strings.Contains(want[i], fmt.Sprintf("column %q", col)) {
									t.Fatalf("row %d (%q) in the group of %q", i, want[i], want[g.Ranges[0][0]])
								}
								if got := rebuild(t, g, i, j); got != want[i] {
									t.Fatalf("RowTemplate row %d = %q, want %q", i, got, want[i])
								}
								j++
								seen++
							}
						}
					}
					if seen != len(want) {
						t.Fatalf("groups hold %d rows, want %d", seen, len(want))
					}
					if mode == "lists" {
						if len(res.FailedRows) != len(want) {
							t.Fatalf("%d FailedRows, want %d", len(res.FailedRows), len(want))
						}
						for _, f := range res.FailedRows {
							if f.Err.Error() != want[f.Index] {
								t.Fatalf("FailedRows row %d: %q, want %q", f.Index, f.Err.Error(), want[f.Index])
							}
						}
					}
					msgs := res.ErrorMessages()
					if len(msgs) != len(want) {
						t.Fatalf("ErrorMessages: %d, want one per failed row", len(msgs))
					}
					for _, m := range msgs {
						var i int
						if _, err := fmt.Sscanf(m, "zerobus: conversion failed at row %d,", &i); err != nil || want[i] != m {
							t.Fatalf("ErrorMessages has %q, row %d's message is %q", m, i, want[i])
						}
					}
				})
			}
		}
	}
}

// TestValueFoldKeepsStatesAndKindsApart: rows whose messages differ only in
// their values still split by state (not written vs unknown), by cause,
// and by the reason around the values; a row whose error is shared or names
// another row keeps its own group.
func TestValueFoldKeepsStatesAndKindsApart(t *testing.T) {
	over := func(i int, col string, v int64) *core.ConversionError {
		return &core.ConversionError{Row: i, Column: col, Reason: fmt.Sprintf("int64 value %d is over the INT maximum 2147483647; fix it", v)}
	}
	var rows []core.FailedRow
	for i := 0; i < 40; i++ {
		rows = append(rows, core.FailedRow{Index: i, Err: over(i, "n", 1<<31+int64(i)), State: core.RowNotWritten})
	}
	rows = append(rows,
		core.FailedRow{Index: 40, Err: over(40, "n", 1<<31), State: core.RowUnknown},
		core.FailedRow{Index: 41, Err: over(41, "m", 1<<31), State: core.RowNotWritten},
		core.FailedRow{Index: 42, Err: &core.ConversionError{Row: 42, Column: "n", Reason: "int64 value -2147483649 is under the INT minimum -2147483648; fix it"}, State: core.RowNotWritten},
		core.FailedRow{Index: 43, Err: &core.ConversionError{Row: 43, Column: "n", Reason: "int64 value 2147483648 is over the INT maximum 2147483647; fix it", Err: core.ErrClosed}, State: core.RowNotWritten},
		core.FailedRow{Index: 44, Err: over(44, "n", 1<<32), State: core.RowNotWritten},
		core.FailedRow{Index: 45, Err: over(7, "n", 1<<33), State: core.RowNotWritten}, // names another row
		core.FailedRow{Index: 46, Err: over(46, "n", 1<<31+46), State: core.RowUnknown},
	)
	res := &core.TransmissionResult{TotalRows: 50, FailedCount: len(rows), SuccessfulCount: 50 - len(rows), Err: rows[0].Err, FailedRows: rows}
	groups := res.FailedGroups()
	type want struct {
		first, rows int
		named       bool
	}
	wants := []want{{0, 41, true}, {40, 2, true}, {41, 1, true}, {42, 1, true}, {43, 1, true}, {45, 1, false}}
	if len(groups) != len(wants) {
		t.Fatalf("%d groups, want %d: %+v", len(groups), len(wants), groups)
	}
	for k, w := range wants {
		if g := groups[k]; g.Ranges[0][0] != w.first || g.Rows() != w.rows || g.RowNamed != w.named {
			t.Errorf("group %d: first %d, %d rows, RowNamed %v; want %+v", k, g.Ranges[0][0], g.Rows(), g.RowNamed, w)
		}
	}
	for _, g := range groups {
		for _, r := range g.Ranges {
			for i := r[0]; i < r[1]; i++ {
				if got, want := g.ErrAt(i).Error(), rows[i].Err.Error(); got != want {
					t.Errorf("ErrAt(%d) = %q, want %q", i, got, want)
				}
			}
		}
	}
	// Row 44's value differs from the others in its length: the template
	// still gives it.
	if got, want := rebuild(t, groups[0], 44, 40), rows[44].Err.Error(); got != want {
		t.Errorf("row 44 rebuilt %q, want %q", got, want)
	}
	// A row not in the group (between its ranges, after them): Err naming
	// it, with the first row's values (ErrAt does not check).
	for _, i := range []int{42, 49} {
		if e := groups[0].ErrAt(i).(*core.ConversionError); e.Row != i || e.Reason != rows[0].Err.(*core.ConversionError).Reason { //nolint:errorlint,forcetypeassert // as built
			t.Errorf("ErrAt(%d) outside the group = %v", i, e)
		}
	}
	if _, _, ok := groups[0].RowMessage(); ok {
		t.Error("RowMessage of a group whose rows differ in their values: ok (before + row + after would give row 0's value)")
	}
}

// TestDecimalValueErrorsFold: decimals too large for the table's DECIMAL
// fold too, on both transports, and each row's message is the one the
// same row gets when sent alone (a batch of one row folds nothing), but
// naming its row.
func TestDecimalValueErrorsFold(t *testing.T) {
	const total = 2000
	dt := &arrow.Decimal128Type{Precision: 20, Scale: 2}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "d", Type: dt, Nullable: true}}, nil)
	unscaled := func(i int) int64 {
		if i%2 == 0 {
			return 1_000_000_000_000 + int64(i)*1_234_567 // 10^10 and more: over DECIMAL(10,2)'s 8 digits
		}
		return int64(i)
	}
	batch := func(rows ...int) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
		defer b.Release()
		for _, i := range rows {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			b.Field(1).(*array.Decimal128Builder).Append(decimal128.FromI64(unscaled(i)))
		}
		return b.NewRecordBatch()
	}
	all := make([]int, total)
	for i := range all {
		all[i] = i
	}
	srv := localServer(t)
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, d DECIMAL(10,2)")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			table := "main.default.s18_valuefold_decimal_" + tr
			if err := srv.CreateTableColumns(table, cols); err != nil {
				t.Fatal(err)
			}
			cfg := localConfig(srv, table)
			cfg.Transport = tr
			w, err := core.New(context.Background(), cfg, core.WithRowRangesOnly())
			if err != nil {
				t.Fatal(err)
			}
			defer closeWrapper(t, w)
			rec := batch(all...)
			defer rec.Release()
			res, _ := w.SendBatch(context.Background(), rec)
			groups := res.FailedGroups()
			if res.FailedCount != total/2 || len(groups) != 1 || groups[0].Rows() != total/2 {
				t.Fatalf("result %v, %d groups: want one group of %d rows", res, len(groups), total/2)
			}
			if got := storedIDs(t, srv, table); len(got) != total/2 || got[0] != 1 || got[len(got)-1] != total-1 {
				t.Fatalf("server stored %d rows (%v…), want the %d odd rows", len(got), got[:min(3, len(got))], total/2)
			}
			g := groups[0]
			for _, i := range []int{0, 2, 4, 998, 1000, 1998} {
				one := batch(i)
				alone, _ := w.SendBatch(context.Background(), one)
				one.Release()
				if alone.FailedCount != 1 {
					t.Fatalf("row %d alone: %v", i, alone)
				}
				want := strings.Replace(alone.FailedGroups()[0].Err.Error(), "at row 0,", fmt.Sprintf("at row %d,", i), 1)
				if got := g.ErrAt(i).Error(); got != want {
					t.Fatalf("ErrAt(%d) = %q, want %q (the row alone)", i, got, want)
				}
				if got := rebuild(t, g, i, i/2); got != want {
					t.Fatalf("RowTemplate row %d = %q, want %q", i, got, want)
				}
			}
		})
	}
}

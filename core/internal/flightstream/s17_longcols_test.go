package flightstream

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ApplyWith casts and checks only a batch's NumRows rows when its columns
// are longer (arrow-go allows them): a value out of range and a null in a
// NOT NULL column beyond the rows do not count, one within them fails its
// row; the output has the batch's rows and every array the cast made (a
// CheckedAllocator) is freed with it. It indexed the rows by the columns'
// length and panicked. Columns shorter than NumRows are an ErrUnreadable
// error, not a panic.
func TestS17ApplyLongColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{10, 1 << 40, 30, 1 << 41, 0}, []bool{true, true, true, true, false})
	ids := ib.NewArray()
	ib.Release()
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"a", "b", "c", "d", "e"}, nil)
	s := sb.NewArray()
	sb.Release()
	from := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	rec := array.NewRecordBatch(from, []arrow.Array{ids, s}, 3)
	ids.Release()
	s.Release()
	defer rec.Release()
	for _, tc := range []struct {
		name  string
		id    arrow.DataType
		nulls []int // rows left out
	}{
		{"same types", arrow.PrimitiveTypes.Int64, nil},
		{"narrowed", arrow.PrimitiveTypes.Int32, []int{1}},
	} {
		to := arrow.NewSchema([]arrow.Field{
			{Name: "id", Type: tc.id},
			{Name: "s", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		}, nil)
		c, err := PlanCast("t", from, to)
		if err != nil {
			t.Fatal(err)
		}
		out, nulls, _, err := c.ApplyWith(context.Background(), mem, rec)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var rows []int
		for _, n := range nulls {
			rows = append(rows, n.Row)
		}
		if len(rows) != len(tc.nulls) || len(rows) > 0 && rows[0] != tc.nulls[0] {
			t.Errorf("%s: rows left out %v; want %v", tc.name, rows, tc.nulls)
		}
		want := 3 - len(tc.nulls)
		if int(out.NumRows()) != want {
			t.Errorf("%s: %d rows out; want %d", tc.name, out.NumRows(), want)
		}
		for i, col := range out.Columns() {
			if col.Len() != want {
				t.Errorf("%s: column %d has %d values for %d rows", tc.name, i, col.Len(), want)
			}
		}
		if got := out.Column(1).(*array.LargeString).Value(want - 1); got != "c" {
			t.Errorf("%s: last row's s = %q; want \"c\"", tc.name, got)
		}
		out.Release()
	}
}

// shortRecord is a batch whose NumRows is more than its columns hold (a
// RecordBatch implementation that does not check).
type shortRecord struct{ arrow.RecordBatch }

func (shortRecord) NumRows() int64 { return 10 }

func TestS17ApplyShortColumnsIsAnError(t *testing.T) {
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	ib.AppendValues([]int64{1, 2}, nil)
	ids := ib.NewArray()
	ib.Release()
	from := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rec := array.NewRecordBatch(from, []arrow.Array{ids}, 2)
	ids.Release()
	defer rec.Release()
	to := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int32}}, nil)
	c, err := PlanCast("t", from, to)
	if err != nil {
		t.Fatal(err)
	}
	out, _, _, err := c.ApplyWith(context.Background(), memory.DefaultAllocator, shortRecord{rec})
	if !errors.Is(err, ErrUnreadable) || out != nil {
		t.Fatalf("ApplyWith = %v, %v; want an ErrUnreadable error", out, err)
	}
}

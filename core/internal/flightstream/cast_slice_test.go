package flightstream

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestCastSlicedNestedColumns: a batch that is a slice of a larger one (an
// offset past its own length, as when a big input is cut into parts) casts
// its struct and list columns like any other; arrow-go's struct cast used to
// panic on such an offset ("index out of range").
func TestCastSlicedNestedColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	st := arrow.StructOf(arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	sb := array.NewStructBuilder(mem, st)
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int32)
	const total = 1000
	for i := range total {
		if i%7 == 0 { // nulls: a validity bitmap to slice too
			sb.AppendNull() // (nulls in the children too)
		} else {
			sb.Append(true)
			sb.FieldBuilder(0).(*array.Int32Builder).Append(int32(i))
		}
		lb.Append(true)
		lb.ValueBuilder().(*array.Int32Builder).AppendValues([]int32{int32(i), -int32(i)}, nil)
	}
	sa, la := sb.NewArray(), lb.NewArray()
	sb.Release()
	lb.Release()
	fields := []arrow.Field{{Name: "s", Type: st, Nullable: true}, {Name: "xs", Type: la.DataType(), Nullable: true}}
	whole := array.NewRecordBatch(arrow.NewSchema(fields, nil), []arrow.Array{sa, la}, total)
	sa.Release()
	la.Release()
	defer whole.Release()

	target := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
		{Name: "xs", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
	}, nil)
	c, err := PlanCast("t", whole.Schema(), target)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int64{{600, 1000}, {0, 300}, {299, 301}} {
		part := whole.NewSlice(r[0], r[1])
		out, _, _, err := c.Apply(context.Background(), part)
		part.Release()
		if err != nil {
			t.Fatalf("rows %d..%d: %v", r[0], r[1], err)
		}
		sc := out.Column(0).(*array.Struct)
		s := sc.Field(0).(*array.Int64)
		xs := out.Column(1).(*array.List)
		for i := range int(out.NumRows()) {
			want := r[0] + int64(i)
			if sc.IsNull(i) != (want%7 == 0) {
				t.Fatalf("rows %d..%d: s[%d] null = %v, want %v", r[0], r[1], i, sc.IsNull(i), want%7 == 0)
			}
			if got := s.Value(i); !sc.IsNull(i) && got != want {
				t.Fatalf("rows %d..%d: s.n[%d] = %d, want %d", r[0], r[1], i, got, want)
			}
			lo, _ := xs.ValueOffsets(i)
			if got := xs.ListValues().(*array.Int64).Value(int(lo) + 1); got != -want {
				t.Fatalf("rows %d..%d: xs[%d][1] = %d, want %d", r[0], r[1], i, got, -want)
			}
		}
		out.Release()
	}
}

package flightstream

import (
	"context"
	"fmt"
	"testing"
	"unsafe"

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

// TestWidenSlicesExactly: a slice of a batch (a chunk) casts its string
// and binary columns, top-level and in a struct, to large_utf8 and
// large_binary from offset 0, with one offset per row plus one and the
// caller's value bytes shared, not copied: the cast allocates about 8 bytes
// a row whatever the slice's offset (arrow-go's kernel allocates for offset
// plus length and the IPC encoder rebases them again). The values stay
// valid after the caller releases its batch, and every buffer goes back to
// its allocator.
func TestWidenSlicesExactly(t *testing.T) {
	inMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer inMem.AssertSize(t, 0)
	outMem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer outMem.AssertSize(t, 0)
	st := arrow.StructOf(arrow.Field{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true})
	fields := []arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "st", Type: st, Nullable: true},
	}
	const total = 10_000
	bld := array.NewRecordBuilder(inMem, arrow.NewSchema(fields, nil))
	str := func(i int) string {
		if i%11 == 0 {
			return ""
		}
		return fmt.Sprintf("value-%d", i)
	}
	for i := range total {
		if i%5 == 0 {
			bld.Field(0).AppendNull()
		} else {
			bld.Field(0).(*array.StringBuilder).Append(str(i))
		}
		if i%3 == 0 {
			bld.Field(1).AppendNull()
		} else {
			bld.Field(1).(*array.BinaryBuilder).Append([]byte(str(i)))
		}
		sb := bld.Field(2).(*array.StructBuilder)
		sb.Append(true)
		if i%7 == 0 {
			sb.FieldBuilder(0).AppendNull()
		} else {
			sb.FieldBuilder(0).(*array.StringBuilder).Append(str(i))
		}
	}
	whole := bld.NewRecordBatch()
	bld.Release()
	target := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "label", Type: arrow.BinaryTypes.LargeString, Nullable: true}), Nullable: true},
	}, nil)
	c, err := PlanCast("t", whole.Schema(), target)
	if err != nil {
		t.Fatal(err)
	}
	round64 := func(n int) int { return (n + 63) &^ 63 }
	var kept arrow.RecordBatch // the last slice's cast, read after whole is released
	for _, r := range [][2]int{{7001, 10_000}, {0, total}, {0, 1000}, {4096, 5000}, {13, 14}, {5003, 5003}, {9999, 10_000}, {2001, 4000}} {
		part := whole.NewSlice(int64(r[0]), int64(r[1]))
		before := outMem.CurrentAlloc()
		out, nulls, keep, err := c.ApplyWith(context.Background(), outMem, part)
		if err != nil || nulls != nil || keep != nil {
			t.Fatalf("rows %d..%d: %v %v %v", r[0], r[1], err, nulls, keep)
		}
		n := r[1] - r[0]
		// Three widened columns: offsets and (with nulls) a bitmap each.
		if bound := 3 * (round64((n+1)*8) + round64(n/8+1)); outMem.CurrentAlloc()-before > bound {
			t.Errorf("rows %d..%d: the cast allocated %d bytes, want at most %d (exact offsets)", r[0], r[1], outMem.CurrentAlloc()-before, bound)
		}
		sCol := out.Column(0).(*array.LargeString)
		bCol := out.Column(1).(*array.LargeBinary)
		lCol := out.Column(2).(*array.Struct).Field(0).(*array.LargeString)
		for _, a := range []arrow.Array{sCol, bCol, lCol} {
			d := a.Data()
			if d.Offset() != 0 || d.Buffers()[1].Len() != (n+1)*8 {
				t.Fatalf("rows %d..%d: %s has offset %d and %d offset bytes, want 0 and %d", r[0], r[1], a.DataType(), d.Offset(), d.Buffers()[1].Len(), (n+1)*8)
			}
		}
		for i := range n {
			row := r[0] + i
			if sCol.IsNull(i) != (row%5 == 0) || (!sCol.IsNull(i) && sCol.Value(i) != str(row)) {
				t.Fatalf("rows %d..%d: s[%d] = %q (null %v), want row %d's", r[0], r[1], i, sCol.Value(i), sCol.IsNull(i), row)
			}
			if bCol.IsNull(i) != (row%3 == 0) || (!bCol.IsNull(i) && string(bCol.Value(i)) != str(row)) {
				t.Fatalf("rows %d..%d: b[%d] = %q (null %v), want row %d's", r[0], r[1], i, bCol.Value(i), bCol.IsNull(i), row)
			}
			if lCol.IsNull(i) != (row%7 == 0) || (!lCol.IsNull(i) && lCol.Value(i) != str(row)) {
				t.Fatalf("rows %d..%d: st.label[%d] = %q (null %v), want row %d's", r[0], r[1], i, lCol.Value(i), lCol.IsNull(i), row)
			}
		}
		if n > 1 {
			// The caller's bytes, not a copy.
			src := part.Column(0).(*array.String)
			if unsafe.SliceData(sCol.ValueBytes()) != &src.Data().Buffers()[2].Bytes()[src.ValueOffsets()[0]] {
				t.Fatalf("rows %d..%d: the large_string values were copied", r[0], r[1])
			}
		}
		part.Release()
		if kept != nil {
			kept.Release()
		}
		kept = out
	}
	// Released by the caller, the values of the kept cast stay allocated
	// until it is released (the cast holds the caller's values buffers).
	whole.Release()
	if inMem.CurrentAlloc() == 0 {
		t.Fatal("the caller's values were freed while the cast still uses them")
	}
	kept.Release()
}

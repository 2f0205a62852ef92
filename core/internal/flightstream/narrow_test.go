package flightstream

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// pandas' and polars' int64 and float64 columns into INT, SMALLINT,
// TINYINT and FLOAT table columns: the batch is sent, each value that does
// not fit the table's type fails its row alone (naming the value and the
// type), the boundary values pass; also uint32 into INT, int32 into
// TINYINT, uint64 into BIGINT, a dictionary of int64 and a slice.
func TestNarrowingCastsCheckEachValue(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	i64 := func(vals []int64, valid []bool) arrow.Array {
		b := array.NewInt64Builder(mem)
		defer b.Release()
		b.AppendValues(vals, valid)
		return b.NewArray()
	}
	u32b := array.NewUint32Builder(mem)
	u32b.AppendValues([]uint32{0, math.MaxInt32, math.MaxInt32 + 1, math.MaxUint32, 7, 8, 9}, nil)
	i32b := array.NewInt32Builder(mem)
	i32b.AppendValues([]int32{-128, 127, 1, 2, -129, 300, 3}, nil)
	f64b := array.NewFloat64Builder(mem)
	f64b.AppendValues([]float64{1.1, math.Inf(-1), math.NaN(), math.MaxFloat32, -1e39, 0, 1e300}, []bool{true, true, true, true, true, false, true})
	cols := []arrow.Array{
		i64([]int64{math.MinInt32, math.MaxInt32, math.MinInt32 - 1, math.MaxInt32 + 1, 0, 5, 6}, []bool{true, true, true, true, false, true, true}),
		i64([]int64{math.MinInt16, math.MaxInt16, 1, 2, 3, math.MaxInt16 + 1, 4}, nil),
		u32b.NewArray(), i32b.NewArray(), f64b.NewArray(),
	}
	u32b.Release()
	i32b.Release()
	f64b.Release()
	rec := batchOf(t, []arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "t", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, cols...)
	defer rec.Release()
	table := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "s", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "u", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "t", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	}, nil)
	c, err := PlanCast("t", rec.Schema(), table)
	if err != nil {
		t.Fatal(err)
	}
	out, bad, keep, err := c.ApplyWith(context.Background(), mem, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	want := []NullRow{
		{Row: 2, Column: "i", Reason: "int64 value -2147483649 is under the INT minimum -2147483648; filter or correct the row, or give the table's column a wider type"},
		{Row: 3, Column: "i", Reason: "int64 value 2147483648 is over the INT maximum 2147483647"},
		{Row: 4, Column: "t", Reason: "int32 value -129 is under the TINYINT minimum -128"}, // (and f: the first column names the row)
		{Row: 5, Column: "s", Reason: "int64 value 32768 is over the SMALLINT maximum 32767"},
		{Row: 6, Column: "f", Reason: "float64 value 1e+300 is outside the FLOAT range (magnitude at most 3.4028234663852886e+38); filter or correct the row, or declare the table's column DOUBLE"},
	}
	if len(bad) != len(want) {
		t.Fatalf("left out %v, want %v", bad, want)
	}
	for k, w := range want {
		if bad[k].Row != w.Row || bad[k].Column != w.Column || !strings.HasPrefix(bad[k].Reason, w.Reason) {
			t.Errorf("left out %d: %+v, want %+v", k, bad[k], w)
		}
	}
	if len(keep) != 2 || keep[0] != 0 || keep[1] != 1 {
		t.Fatalf("keep %v, want [0 1]", keep)
	}
	for k, w := range []string{"[-2147483648 2147483647]", "[-32768 32767]", "[0 2147483647]", "[-128 127]", "[1.1 -Inf]"} {
		if got := out.Column(k).String(); got != w {
			t.Errorf("column %s sent %s, want %s", table.Field(k).Name, got, w)
		}
	}
	if got := out.Column(4).(*array.Float32).Value(0); got != float32(1.1) {
		t.Errorf("1.1 sent as %v, want float32(1.1)", got)
	}

	// Each column alone: u fails MaxInt32+1 and MaxUint32, t -129 and 300,
	// f the finite values beyond FLOAT's range (NaN, -Inf and the FLOAT
	// maximum pass).
	u, tt, f := rec.Column(2), rec.Column(3), rec.Column(4)
	for _, tc := range []struct {
		col  arrow.Array
		to   arrow.DataType
		bad  map[int]string
		sent string
	}{
		{u, arrow.PrimitiveTypes.Int32, map[int]string{2: "uint32 value 2147483648 is over the INT maximum 2147483647", 3: "uint32 value 4294967295 is over the INT maximum"}, "[0 2147483647 (null) (null) 7 8 9]"},
		{f, arrow.PrimitiveTypes.Float32, map[int]string{4: "float64 value -1e+39 is outside the FLOAT range", 6: "float64 value 1e+300 is outside"}, "[1.1 -Inf NaN 3.4028235e+38 (null) (null) (null)]"},
		{tt, arrow.PrimitiveTypes.Int8, map[int]string{4: "int32 value -129 is under the TINYINT minimum -128", 5: "int32 value 300 is over the TINYINT maximum 127"}, "[-128 127 1 2 (null) (null) 3]"},
	} {
		got, bv, err := castTo(context.Background(), mem, tc.col, tc.to)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != tc.sent || len(bv) != len(tc.bad) {
			t.Errorf("%s → %s: sent %s, bad %v", tc.col.DataType(), tc.to, got, bv)
		}
		for _, v := range bv {
			if !strings.HasPrefix(v.reason, tc.bad[v.i]) {
				t.Errorf("%s → %s: element %d: %q, want %q", tc.col.DataType(), tc.to, v.i, v.reason, tc.bad[v.i])
			}
		}
		got.Release()
	}

	// A slice (a chunk of a batch) and a dictionary of int64 values.
	s := array.NewSlice(cols[0], 1, 4)
	defer s.Release()
	got, bv, err := castTo(context.Background(), mem, s, arrow.PrimitiveTypes.Int32)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != "[2147483647 (null) (null)]" || len(bv) != 2 || bv[0].i != 1 || bv[1].i != 2 {
		t.Errorf("slice: sent %s, bad %v", got, bv)
	}
	got.Release()
	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.PrimitiveTypes.Int64}).(*array.Int64DictionaryBuilder)
	for _, v := range []int64{5, 1 << 40, 5, -1} {
		if err := db.Append(v); err != nil {
			t.Fatal(err)
		}
	}
	d := db.NewArray()
	db.Release()
	defer d.Release()
	got, bv, err = castTo(context.Background(), mem, d, arrow.PrimitiveTypes.Int16)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != "[5 (null) 5 -1]" || len(bv) != 1 || bv[0].i != 1 || !strings.HasPrefix(bv[0].reason, "int64 value 1099511627776 is over the SMALLINT maximum 32767") {
		t.Errorf("dictionary: sent %s, bad %v", got, bv)
	}
	got.Release()
}

// Inside a STRUCT field, ARRAY elements and MAP keys and values, a value
// that does not fit the table's narrower type fails its row, named by its
// path as the protobuf path names it.
func TestNarrowingInsideNestedTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	st := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	lt := arrow.ListOf(arrow.PrimitiveTypes.Int64)
	mt := arrow.MapOf(arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64)
	sb := array.NewStructBuilder(mem, st)
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int64)
	mb := array.NewMapBuilder(mem, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64, false)
	rows := []struct {
		x    int64
		list []int64
		v    float64
		k    int64
	}{{1, []int64{1, 2}, 1.5, 7}, {40000, []int64{3}, 2, 7}, {2, []int64{4, 128}, 3, 7}, {3, nil, 1e40, 7}, {4, nil, 1, 1 << 40}}
	for _, r := range rows {
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Int64Builder).Append(r.x)
		lb.Append(true)
		lb.ValueBuilder().(*array.Int64Builder).AppendValues(r.list, nil)
		mb.Append(true)
		mb.KeyBuilder().(*array.Int64Builder).Append(r.k)
		mb.ItemBuilder().(*array.Float64Builder).Append(r.v)
	}
	sa, la, ma := sb.NewArray(), lb.NewArray(), mb.NewArray()
	sb.Release()
	lb.Release()
	mb.Release()
	rec := batchOf(t, []arrow.Field{{Name: "s", Type: st, Nullable: true}, {Name: "l", Type: lt, Nullable: true}, {Name: "m", Type: mt, Nullable: true}}, sa, la, ma)
	defer rec.Release()
	table := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int16, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int8), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float32), Nullable: true},
	}, nil)
	c, err := PlanCast("t", rec.Schema(), table)
	if err != nil {
		t.Fatal(err)
	}
	out, bad, keep, err := c.ApplyWith(context.Background(), mem, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	want := []NullRow{
		{Row: 1, Column: "s.x", Reason: "int64 value 40000 is over the SMALLINT maximum 32767"},
		{Row: 2, Column: "l[1]", Reason: "int64 value 128 is over the TINYINT maximum 127"},
		{Row: 3, Column: "m[0].value", Reason: "float64 value 1e+40 is outside the FLOAT range"},
		{Row: 4, Column: "m[0].key", Reason: "int64 value 1099511627776 is over the INT maximum 2147483647"},
	}
	if len(bad) != len(want) || len(keep) != 1 || keep[0] != 0 {
		t.Fatalf("left out %v (keep %v), want %v", bad, keep, want)
	}
	for k, w := range want {
		if bad[k].Row != w.Row || bad[k].Column != w.Column || !strings.HasPrefix(bad[k].Reason, w.Reason) {
			t.Errorf("left out %d: %+v, want %+v", k, bad[k], w)
		}
	}
	if got := out.Column(0).String() + " " + out.Column(1).String() + " " + out.Column(2).String(); got != `{[1]} [[1 2]] [{[7] [1.5]}]` {
		t.Errorf("sent %s", got)
	}
}

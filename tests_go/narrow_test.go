package tests_go

import (
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// narrowRow is one row of TestNarrowingFailsOnlyTheRowsThatDoNotFit; nil
// means null.
type narrowRow struct {
	i, s, t, x *int64
	u          *uint32
	t32        *int32
	f, mv      *float64
	l          []int64
}

func nptr[T any](v T) *T { return &v }

// pandas' and polars' default dtypes (int64, float64), and uint32 and
// int32, into a table's INT, SMALLINT, TINYINT and FLOAT columns (also a
// STRUCT's SMALLINT field, an ARRAY<TINYINT>, a MAP<STRING, FLOAT>): the
// batch goes on both transports, the boundary values are stored as sent,
// and exactly the rows holding a value the table's type cannot hold fail,
// "not written", naming the column, the value and the table's type, with
// the same reason on both transports.
func TestNarrowingFailsOnlyTheRowsThatDoNotFit(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	ok := narrowRow{i: nptr[int64](1), s: nptr[int64](1), t: nptr[int64](1), x: nptr[int64](1), u: nptr[uint32](1), t32: nptr[int32](1), f: nptr(0.5), mv: nptr(0.5), l: []int64{1}}
	with := func(f func(r *narrowRow)) narrowRow { r := ok; f(&r); return r }
	rows := []narrowRow{
		{i: nptr[int64](math.MinInt32), s: nptr[int64](math.MinInt16), t: nptr[int64](-128), x: nptr[int64](math.MinInt16), u: nptr[uint32](0), t32: nptr[int32](-128), f: nptr(-math.MaxFloat32), mv: nptr(1.5), l: []int64{-128, 127}},
		{i: nptr[int64](math.MaxInt32), s: nptr[int64](math.MaxInt16), t: nptr[int64](127), x: nptr[int64](math.MaxInt16), u: nptr[uint32](math.MaxInt32), t32: nptr[int32](127), f: nptr(math.MaxFloat32), mv: nptr(math.Inf(1)), l: []int64{0}},
		with(func(r *narrowRow) { r.i = nptr[int64](math.MinInt32 - 1) }),
		with(func(r *narrowRow) { r.i = nptr[int64](math.MaxInt32 + 1) }),
		with(func(r *narrowRow) { r.s = nptr[int64](math.MinInt16 - 1) }),
		with(func(r *narrowRow) { r.s = nptr[int64](math.MaxInt16 + 1) }),
		with(func(r *narrowRow) { r.t = nptr[int64](-129) }),
		with(func(r *narrowRow) { r.t = nptr[int64](128) }),
		with(func(r *narrowRow) { r.u = nptr[uint32](math.MaxInt32 + 1) }),
		with(func(r *narrowRow) { r.t32 = nptr[int32](-129) }),
		with(func(r *narrowRow) { r.t32 = nptr[int32](300) }),
		with(func(r *narrowRow) { r.f = nptr(1e39) }),
		with(func(r *narrowRow) { r.f = nptr(-1e300) }),
		with(func(r *narrowRow) { r.x = nptr[int64](math.MaxInt16 + 1) }),
		with(func(r *narrowRow) { r.l = []int64{1, 128} }),
		with(func(r *narrowRow) { r.mv = nptr(1e40) }),
		{},
		with(func(r *narrowRow) { r.f = nptr(0.1) }),
	}
	wantFailed := map[int]string{
		2:  `column "i": int64 value -2147483649 is under the INT minimum -2147483648; filter or correct the row, or give the table's column a wider type`,
		3:  `column "i": int64 value 2147483648 is over the INT maximum 2147483647;`,
		4:  `column "s": int64 value -32769 is under the SMALLINT minimum -32768;`,
		5:  `column "s": int64 value 32768 is over the SMALLINT maximum 32767;`,
		6:  `column "t": int64 value -129 is under the TINYINT minimum -128;`,
		7:  `column "t": int64 value 128 is over the TINYINT maximum 127;`,
		8:  `column "u": uint32 value 2147483648 is over the INT maximum 2147483647;`,
		9:  `column "t32": int32 value -129 is under the TINYINT minimum -128;`,
		10: `column "t32": int32 value 300 is over the TINYINT maximum 127;`,
		11: `column "f": float64 value 1e+39 is outside the FLOAT range (magnitude at most 3.4028234663852886e+38); filter or correct the row, or declare the table's column DOUBLE`,
		12: `column "f": float64 value -1e+300 is outside the FLOAT range`,
		13: `column "st.x": int64 value 32768 is over the SMALLINT maximum 32767;`,
		14: `column "l[1]": int64 value 128 is over the TINYINT maximum 127;`,
		15: `column "m[0].value": float64 value 1e+40 is outside the FLOAT range`,
	}

	st := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "t", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "t32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "st", Type: st, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	appendI64 := func(k int, v *int64) {
		if v == nil {
			b.Field(k).AppendNull()
		} else {
			b.Field(k).(*array.Int64Builder).Append(*v)
		}
	}
	for id, r := range rows {
		b.Field(0).(*array.Int64Builder).Append(int64(id))
		appendI64(1, r.i)
		appendI64(2, r.s)
		appendI64(3, r.t)
		if r.u == nil {
			b.Field(4).AppendNull()
		} else {
			b.Field(4).(*array.Uint32Builder).Append(*r.u)
		}
		if r.t32 == nil {
			b.Field(5).AppendNull()
		} else {
			b.Field(5).(*array.Int32Builder).Append(*r.t32)
		}
		if r.f == nil {
			b.Field(6).AppendNull()
		} else {
			b.Field(6).(*array.Float64Builder).Append(*r.f)
		}
		sb := b.Field(7).(*array.StructBuilder)
		if r.x == nil {
			sb.AppendNull()
		} else {
			sb.Append(true)
			sb.FieldBuilder(0).(*array.Int64Builder).Append(*r.x)
		}
		lb := b.Field(8).(*array.ListBuilder)
		if r.l == nil {
			lb.AppendNull()
		} else {
			lb.Append(true)
			lb.ValueBuilder().(*array.Int64Builder).AppendValues(r.l, nil)
		}
		mb := b.Field(9).(*array.MapBuilder)
		if r.mv == nil {
			mb.AppendNull()
		} else {
			mb.Append(true)
			mb.KeyBuilder().(*array.StringBuilder).Append("k")
			mb.ItemBuilder().(*array.Float64Builder).Append(*r.mv)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, i INT, s SMALLINT, t TINYINT, u INT, t32 TINYINT, f FLOAT, st STRUCT<x: SMALLINT>, l ARRAY<TINYINT>, m MAP<STRING, FLOAT>")
	if err != nil {
		t.Fatal(err)
	}
	stored, results := sendBoth(t, srv, "narrow", cols, rec)
	for transport, res := range results {
		checkFailedRows(t, transport, res, wantFailed)
	}
	var want []map[string]any
	for id, r := range rows {
		if _, failed := wantFailed[id]; failed {
			continue
		}
		m := map[string]any{"id": int64(id)}
		put := func(name string, v any, null bool) {
			if !null {
				m[name] = v
			}
		}
		put("i", nderef(r.i), r.i == nil)
		put("s", nderef(r.s), r.s == nil)
		put("t", nderef(r.t), r.t == nil)
		put("u", int64(nderef(r.u)), r.u == nil)
		put("t32", int64(nderef(r.t32)), r.t32 == nil)
		put("f", float64(float32(nderef(r.f))), r.f == nil)
		put("st", map[string]any{"x": nderef(r.x)}, r.x == nil)
		if len(r.l) > 0 {
			l := []any{}
			for _, v := range r.l {
				l = append(l, v)
			}
			m["l"] = l
		}
		put("m", map[string]any{"k": float64(float32(nderef(r.mv)))}, r.mv == nil)
		want = append(want, m)
	}
	for transport, got := range stored {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s stored\n%v\nwant\n%v", transport, got, want)
		}
	}
	if t.Failed() {
		return
	}
	// Boundary values stored as sent, on both transports.
	if fmt.Sprint(stored[core.TransportArrowFlight][0]["f"], stored[core.TransportProtobuf][1]["i"]) != "-3.4028234663852886e+38 2147483647" {
		t.Errorf("boundaries stored as %v / %v", stored[core.TransportArrowFlight][0], stored[core.TransportProtobuf][1])
	}
}

func nderef[T any](v *T) T {
	var zero T
	if v == nil {
		return zero
	}
	return *v
}

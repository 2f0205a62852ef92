package tests_go

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// fiRow is one row of TestFloatIntCastsFailOnlyTheRowsThatDoNotFit; nil
// means null.
type fiRow struct {
	i, b, x, mk, nn *float64
	s               *float32
	d, f, mv        *int64
	d32             *int32
	l               []float64
}

// A float column into a table's integer types (pandas' integer column
// holding a missing value is float64: float64 into INT and BIGINT, float32
// into SMALLINT, a STRUCT's INT field, ARRAY<BIGINT> elements, MAP<INT, …>
// keys) and an integer column into FLOAT and DOUBLE (int64, int32, MAP
// values): the batch goes on both transports, whole numbers in range and
// exact integers are stored as sent (boundaries included), and exactly the
// rows holding a fraction, NaN, ±Inf, a value out of range or an integer the
// float would round fail, "not written", with the same reason on both.
func TestFloatIntCastsFailOnlyTheRowsThatDoNotFit(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	const p53, p24 = int64(1) << 53, int64(1) << 24
	negZero := math.Copysign(0, -1)
	ok := fiRow{i: nptr(1.0), b: nptr(1.0), x: nptr(1.0), mk: nptr(1.0), nn: nptr(1.0), s: nptr[float32](1), d: nptr[int64](1), f: nptr[int64](1), mv: nptr[int64](1), d32: nptr[int32](1), l: []float64{1}}
	with := func(f func(r *fiRow)) fiRow { r := ok; f(&r); return r }
	rows := []fiRow{
		{i: nptr(2147483647.0), b: nptr(-0x1p63), x: nptr(-2147483648.0), mk: nptr(negZero), nn: nptr(0.0), s: nptr[float32](-32768), d: nptr(p53), f: nptr(p24), mv: nptr(-p53), d32: nptr[int32](math.MaxInt32), l: []float64{negZero, 0x1p53}},
		{i: nptr(negZero), b: nptr(0x1p62), x: nptr(-0.0), mk: nptr(7.0), nn: nptr(-1.0), s: nptr[float32](32767), d: nptr(int64(1) << 60), f: nptr(int64(1) << 30), mv: nptr[int64](math.MaxInt64 - 1023), d32: nptr[int32](math.MinInt32), l: []float64{}},
		with(func(r *fiRow) { r.i = nptr(2147483648.0) }),
		with(func(r *fiRow) { r.i = nptr(-2147483649.0) }),
		with(func(r *fiRow) { r.i = nptr(1.5) }),
		with(func(r *fiRow) { r.i = nptr(math.NaN()) }),
		with(func(r *fiRow) { r.i = nptr(math.Inf(1)) }),
		with(func(r *fiRow) { r.b = nptr(0x1p63) }),
		with(func(r *fiRow) { r.s = nptr[float32](32768) }),
		with(func(r *fiRow) { r.d = nptr(p53 + 1) }),
		with(func(r *fiRow) { r.d = nptr(-p53 - 1) }),
		with(func(r *fiRow) { r.f = nptr(p24 + 1) }),
		with(func(r *fiRow) { r.x = nptr(0.5) }),
		with(func(r *fiRow) { r.l = []float64{1, 2.5} }),
		with(func(r *fiRow) { r.mv = nptr[int64](math.MaxInt64) }),
		with(func(r *fiRow) { r.mk = nptr(1.5) }),
		with(func(r *fiRow) { r.nn = nil }),
		{nn: nptr(2.0)},
		with(func(r *fiRow) { r.i = nptr(-1e300) }),
	}
	wantFailed := map[int]string{
		2:  `column "i": float64 value 2147483648 is over the INT maximum 2147483647; filter or correct the row, or give the table's column a wider type`,
		3:  `column "i": float64 value -2147483649 is under the INT minimum -2147483648;`,
		4:  `column "i": float64 value 1.5 is not a whole number (the table's column is INT, and the value is not rounded); round or filter the row, or declare the table's column DOUBLE`,
		5:  `column "i": float64 value NaN is not a number (the table's column is INT); filter the row, or send null where the column is nullable`,
		6:  `column "i": float64 value +Inf is over the INT maximum 2147483647;`,
		7:  `column "b": float64 value 9223372036854775808 is over the BIGINT maximum 9223372036854775807;`,
		8:  `column "s": float32 value 32768 is over the SMALLINT maximum 32767;`,
		9:  `column "d": int64 value 9007199254740993 is not exact as a DOUBLE (the nearest is 9007199254740992, and it is not rounded: a DOUBLE holds every integer up to 2^53 = 9007199254740992, larger ones only in steps); filter or correct the row, or declare the table's column BIGINT`,
		10: `column "d": int64 value -9007199254740993 is not exact as a DOUBLE (the nearest is -9007199254740992,`,
		11: `column "f": int64 value 16777217 is not exact as a FLOAT (the nearest is 16777216, and it is not rounded: a FLOAT holds every integer up to 2^24 = 16777216,`,
		12: `column "st.x": float64 value 0.5 is not a whole number`,
		13: `column "l[1]": float64 value 2.5 is not a whole number (the table's column is BIGINT,`,
		14: `column "m[0].value": int64 value 9223372036854775807 is not exact as a DOUBLE (the nearest is 9223372036854775808,`,
		15: `column "mk[0].key": float64 value 1.5 is not a whole number`,
		16: `column "nn"`,
		18: `column "i": float64 value -1e+300 is under the INT minimum`,
	}

	st := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "i", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "d", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "d32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "st", Type: st, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "mk", Type: arrow.MapOf(arrow.PrimitiveTypes.Float64, arrow.BinaryTypes.String), Nullable: true},
		{Name: "nn", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	f64 := func(k int, v *float64) {
		if v == nil {
			b.Field(k).AppendNull()
		} else {
			b.Field(k).(*array.Float64Builder).Append(*v)
		}
	}
	i64 := func(k int, v *int64) {
		if v == nil {
			b.Field(k).AppendNull()
		} else {
			b.Field(k).(*array.Int64Builder).Append(*v)
		}
	}
	for id, r := range rows {
		b.Field(0).(*array.Int64Builder).Append(int64(id))
		f64(1, r.i)
		f64(2, r.b)
		if r.s == nil {
			b.Field(3).AppendNull()
		} else {
			b.Field(3).(*array.Float32Builder).Append(*r.s)
		}
		i64(4, r.d)
		i64(5, r.f)
		if r.d32 == nil {
			b.Field(6).AppendNull()
		} else {
			b.Field(6).(*array.Int32Builder).Append(*r.d32)
		}
		sb := b.Field(7).(*array.StructBuilder)
		if r.x == nil {
			sb.AppendNull()
		} else {
			sb.Append(true)
			sb.FieldBuilder(0).(*array.Float64Builder).Append(*r.x)
		}
		lb := b.Field(8).(*array.ListBuilder)
		if r.l == nil {
			lb.AppendNull()
		} else {
			lb.Append(true)
			lb.ValueBuilder().(*array.Float64Builder).AppendValues(r.l, nil)
		}
		mb := b.Field(9).(*array.MapBuilder)
		if r.mv == nil {
			mb.AppendNull()
		} else {
			mb.Append(true)
			mb.KeyBuilder().(*array.StringBuilder).Append("k")
			mb.ItemBuilder().(*array.Int64Builder).Append(*r.mv)
		}
		kb := b.Field(10).(*array.MapBuilder)
		if r.mk == nil {
			kb.AppendNull()
		} else {
			kb.Append(true)
			kb.KeyBuilder().(*array.Float64Builder).Append(*r.mk)
			kb.ItemBuilder().(*array.StringBuilder).Append("v")
		}
		f64(11, r.nn)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, i INT, b BIGINT, s SMALLINT, d DOUBLE, f FLOAT, d32 DOUBLE, st STRUCT<x: INT>, l ARRAY<BIGINT>, m MAP<STRING, DOUBLE>, mk MAP<INT, STRING>, nn INT NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	stored, results := sendBoth(t, srv, "floatint", cols, rec)
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
		put("i", int64(nderef(r.i)), r.i == nil)
		put("b", int64(nderef(r.b)), r.b == nil)
		put("s", int64(nderef(r.s)), r.s == nil)
		put("d", float64(nderef(r.d)), r.d == nil)
		put("f", float64(nderef(r.f)), r.f == nil)
		put("d32", float64(nderef(r.d32)), r.d32 == nil)
		put("st", map[string]any{"x": int64(nderef(r.x))}, r.x == nil)
		if len(r.l) > 0 {
			l := []any{}
			for _, v := range r.l {
				l = append(l, int64(v))
			}
			m["l"] = l
		}
		put("m", map[string]any{"k": float64(nderef(r.mv))}, r.mv == nil)
		if r.mk != nil {
			m["mk"] = map[string]any{fmt.Sprint(int32(*r.mk)): "v"}
		}
		put("nn", int64(nderef(r.nn)), r.nn == nil)
		want = append(want, m)
	}
	for transport, got := range stored {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s stored\n%v\nwant\n%v", transport, got, want)
		}
	}
}

// Less common sources of the same casts, on both transports: float16 into
// TINYINT, a dictionary of float64 (pandas' category of floats) into INT,
// uint64 into DOUBLE (2^63 exact, 2^64-1 rounds) and int8 into FLOAT (no
// value to check); stored values read back, the bad rows failed alone.
func TestFloatIntCastsOfOtherSources(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	ids := array.NewInt64Builder(mem)
	ids.AppendValues([]int64{0, 1, 2, 3, 4}, nil)
	hb := array.NewFloat16Builder(mem)
	hb.AppendValues([]float16.Num{float16.New(-128), float16.New(127), float16.New(128), float16.New(1), float16.New(1)}, nil)
	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.PrimitiveTypes.Float64}).(*array.Float64DictionaryBuilder)
	for _, v := range []float64{2147483647, -7, 1, 0.5, 1} {
		if err := db.Append(v); err != nil {
			t.Fatal(err)
		}
	}
	ub := array.NewUint64Builder(mem)
	ub.AppendValues([]uint64{1 << 63, 0, 1, 1, math.MaxUint64}, []bool{true, false, true, true, true})
	i8 := array.NewInt8Builder(mem)
	i8.AppendValues([]int8{-128, 127, 0, 0, 0}, nil)
	var cols []arrow.Array
	for _, b := range []array.Builder{ids, hb, db, ub, i8} {
		cols = append(cols, b.NewArray())
		b.Release()
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "h", Type: arrow.FixedWidthTypes.Float16, Nullable: true},
		{Name: "c", Type: cols[2].DataType(), Nullable: true},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "e", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	}, nil), cols, 5)
	defer rec.Release()
	tcols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, h TINYINT, c INT, u DOUBLE, e FLOAT")
	if err != nil {
		t.Fatal(err)
	}
	stored, results := sendBoth(t, srv, "floatint_other", tcols, rec)
	wantFailed := map[int]string{
		2: `column "h": float16 value 128 is over the TINYINT maximum 127;`,
		3: `column "c": float64 value 0.5 is not a whole number (the table's column is INT,`,
		4: `column "u": uint64 value 18446744073709551615 is not exact as a DOUBLE (the nearest is 18446744073709551616,`,
	}
	for transport, res := range results {
		if len(res.FailedRows) != len(wantFailed) {
			t.Errorf("%s: failed rows %v, want %v", transport, res.FailedRows, wantFailed)
		}
		for _, fr := range res.FailedRows {
			if fr.State != core.RowNotWritten || !strings.Contains(fr.Err.Error(), wantFailed[fr.Index]) {
				t.Errorf("%s row %d: %v (%v), want %q", transport, fr.Index, fr.Err, fr.State, wantFailed[fr.Index])
			}
		}
	}
	want := []map[string]any{
		{"id": int64(0), "h": int64(-128), "c": int64(2147483647), "u": 0x1p63, "e": -128.0},
		{"id": int64(1), "h": int64(127), "c": int64(-7), "e": 127.0},
	}
	for transport, got := range stored {
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s stored\n%v\nwant\n%v", transport, got, want)
		}
	}
}

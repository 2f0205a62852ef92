package convert

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func TestFloatToIntAtTheBoundaries(t *testing.T) {
	negZero := math.Copysign(0, -1)
	for _, tc := range []struct {
		t  TableInt
		in []float64
		no []float64
	}{
		{Tinyint, []float64{-128, 127, 0, negZero}, []float64{-129, 128, 0.5, -127.5}},
		{Smallint, []float64{-32768, 32767}, []float64{-32769, 32768}},
		{Int, []float64{math.MinInt32, math.MaxInt32, 2147483647.0}, []float64{2147483648.0, -2147483649.0, 1.5, math.NaN(), math.Inf(1), math.Inf(-1), 1e-300, 2147483646.5}},
		{Bigint, []float64{-0x1p63, 0x1p63 - 1024, 0x1p53 + 2}, []float64{0x1p63, math.MaxFloat64, -math.MaxFloat64, math.NaN(), 0.1}},
	} {
		for _, v := range tc.in {
			got, ok := FloatToInt(v, tc.t)
			if !ok || float64(got) != v {
				t.Errorf("%v into %s: %d, %v; want it as it is", v, tc.t.Name, got, ok)
			}
		}
		for _, v := range tc.no {
			if got, ok := FloatToInt(v, tc.t); ok {
				t.Errorf("%v into %s: %d taken, want its row failed", v, tc.t.Name, got)
			}
		}
	}
	if got, _ := FloatToInt(negZero, Int); got != 0 {
		t.Errorf("-0.0 as %d", got)
	}
	f64, f32 := arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Float32
	for _, tc := range []struct {
		from arrow.DataType
		v    float64
		t    TableInt
		want string
	}{
		{f64, 2147483648, Int, "float64 value 2147483648 is over the INT maximum 2147483647; filter or correct the row, or give the table's column a wider type"},
		{f64, 0x1p63, Bigint, "float64 value 9223372036854775808 is over the BIGINT maximum 9223372036854775807;"},
		{f64, -1e300, Tinyint, "float64 value -1e+300 is under the TINYINT minimum -128;"},
		{f64, math.Inf(-1), Int, "float64 value -Inf is under the INT minimum -2147483648;"},
		{f64, math.Inf(1), Int, "float64 value +Inf is over the INT maximum 2147483647;"},
		{f32, 1.5, Smallint, "float32 value 1.5 is not a whole number (the table's column is SMALLINT, and the value is not rounded); round or filter the row, or declare the table's column DOUBLE"},
		{f64, math.NaN(), Bigint, "float64 value NaN is not a number (the table's column is BIGINT); filter the row, or send null where the column is nullable"},
	} {
		if got := FloatToIntReason(tc.from, tc.v, tc.t); !strings.HasPrefix(got, tc.want) {
			t.Errorf("reason %q, want %q", got, tc.want)
		}
	}
}

func TestIntToFloatExactOnly(t *testing.T) {
	const p53, p24 = int64(1) << 53, int64(1) << 24
	for _, tc := range []struct {
		double bool
		in, no []int64
	}{
		{true, []int64{0, p53, -p53, p53 + 2, 1 << 60, math.MinInt64, math.MaxInt64 - 1023}, []int64{p53 + 1, -p53 - 1, math.MaxInt64, math.MinInt64 + 1}},
		{false, []int64{p24, -p24, p24 + 2, 1 << 30, math.MinInt64}, []int64{p24 + 1, -p24 - 1, math.MaxInt32, 1<<26 + 1}},
	} {
		for _, v := range tc.in {
			f, ok := IntToFloat(v, tc.double)
			if !ok || f != float64(v) || !tc.double && float64(float32(f)) != f {
				t.Errorf("%d (double %v): %v, %v; want it exactly", v, tc.double, f, ok)
			}
		}
		for _, v := range tc.no {
			if f, ok := IntToFloat(v, tc.double); ok {
				t.Errorf("%d (double %v): %v taken, want its row failed", v, tc.double, f)
			}
		}
	}
	if _, ok := IntToFloat(uint64(math.MaxUint64), true); ok {
		t.Error("MaxUint64 (2^64 as a double) taken")
	}
	if f, ok := IntToFloat(uint64(1)<<63, true); !ok || f != 0x1p63 {
		t.Errorf("2^63 as %v, %v", f, ok)
	}
	// The fast bound: below it every integer is exact; at it, 2^53+1 rounds to it.
	for _, double := range []bool{true, false} {
		lim := int64(ExactIntBelow(double))
		for v := lim - 3; v <= lim; v++ {
			if _, ok := IntToFloat(v, double); !ok {
				t.Errorf("%d under the bound not exact", v)
			}
		}
		if _, ok := IntToFloat(lim+1, double); ok {
			t.Errorf("%d exact", lim+1)
		}
	}
	for _, tc := range []struct {
		from   arrow.DataType
		double bool
		all    bool
	}{
		{arrow.PrimitiveTypes.Int32, true, true}, {arrow.PrimitiveTypes.Uint32, true, true}, {arrow.PrimitiveTypes.Int64, true, false},
		{arrow.PrimitiveTypes.Int16, false, true}, {arrow.PrimitiveTypes.Uint16, false, true}, {arrow.PrimitiveTypes.Int32, false, false},
		{arrow.PrimitiveTypes.Float64, true, false},
	} {
		if got := IntFloatHoldsAll(tc.from, tc.double); got != tc.all {
			t.Errorf("%s holds all (double %v): %v", tc.from, tc.double, got)
		}
	}
	if got := IntToFloatReason(arrow.PrimitiveTypes.Int64, p53+1, true); got != "int64 value 9007199254740993 is not exact as a DOUBLE (the nearest is 9007199254740992, and it is not rounded: a DOUBLE holds every integer up to 2^53 = 9007199254740992, larger ones only in steps); filter or correct the row, or declare the table's column BIGINT" {
		t.Errorf("reason %q", got)
	}
	if got := IntToFloatReason(arrow.PrimitiveTypes.Uint64, uint64(math.MaxUint64), false); !strings.HasPrefix(got, "uint64 value 18446744073709551615 is not exact as a FLOAT (the nearest is 18446744073709551616,") {
		t.Errorf("reason %q", got)
	}
}

// With the table's types, a float leaf of a table integer column is an
// int32 or int64 field and an integer leaf of a FLOAT or DOUBLE column a
// float or double field (top level, STRUCT field, ARRAY element, MAP key and
// value); each value is converted by the rule, one it does not take failing
// its row with ErrOutOfRange. Without them the descriptor follows the batch.
func TestFloatIntDescriptorAndRows(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	st := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float32, Nullable: true})
	batch := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "h", Type: arrow.FixedWidthTypes.Float16, Nullable: true},
		{Name: "d", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "f8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "st", Type: st, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64), Nullable: true},
	}, nil)
	table := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "h", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "f8", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float64), Nullable: true},
	}, nil)
	if _, err := NewPlan(batch, Options{}); err == nil || !strings.Contains(err.Error(), `"m.key" (float64): protobuf map keys must be integers`) {
		t.Errorf("a float MAP key without the table's types: %v", err)
	}
	p, err := NewPlan(batch, Options{TableType: TableTypes(table)})
	if err != nil {
		t.Fatal(err)
	}
	md := p.MessageDescriptor()
	field := func(name string) protoreflect.FieldDescriptor { return md.Fields().ByName(protoreflect.Name(name)) }
	for name, want := range map[string]protoreflect.Kind{"i": protoreflect.Int32Kind, "h": protoreflect.Int32Kind, "d": protoreflect.DoubleKind, "f8": protoreflect.FloatKind, "f": protoreflect.FloatKind, "l": protoreflect.Int64Kind} {
		if got := field(name).Kind(); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	if got := field("st").Message().Fields().ByName("x").Kind(); got != protoreflect.Int64Kind {
		t.Errorf("st.x: %v", got)
	}
	if k, v := field("m").MapKey().Kind(), field("m").MapValue().Kind(); k != protoreflect.Int32Kind || v != protoreflect.DoubleKind {
		t.Errorf("m: %v, %v", k, v)
	}
	plain, err := NewPlan(arrow.NewSchema(batch.Fields()[:7], nil), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if k := plain.MessageDescriptor().Fields().ByName("i").Kind(); k != protoreflect.DoubleKind {
		t.Errorf("i without the table's types: %v", k)
	}

	rec := recordFromJSON(t, mem, batch, `[
		{"i": -2147483648, "h": -128, "d": 9007199254740992, "f8": -128, "f": 16777216, "st": {"x": -1099511627776}, "l": [-0.0, 3], "m": [{"key": 2147483647, "value": -9007199254740992}]},
		{"i": 2147483648, "h": 1, "d": 1, "f8": 1, "f": 1, "st": null, "l": [], "m": []},
		{"i": 1, "h": 0.5, "d": 1, "f8": 1, "f": 1, "st": null, "l": [], "m": []},
		{"i": 1, "h": 1, "d": 9007199254740993, "f8": 1, "f": 1, "st": null, "l": [], "m": []},
		{"i": 1, "h": 1, "d": 1, "f8": 1, "f": 16777217, "st": null, "l": [], "m": []},
		{"i": 1, "h": 1, "d": 1, "f8": 1, "f": 1, "st": {"x": 1.25}, "l": [], "m": []},
		{"i": 1, "h": 1, "d": 1, "f8": 1, "f": 1, "st": null, "l": [1, 1e19], "m": []},
		{"i": 1, "h": 1, "d": 1, "f8": 1, "f": 1, "st": null, "l": [], "m": [{"key": 2147483648, "value": 1}]},
		{"i": 1, "h": 1, "d": 1, "f8": 1, "f": 1, "st": null, "l": [], "m": [{"key": -0.5, "value": 1}]},
		{"i": 1.5, "h": 1, "d": 1, "f8": 1, "f": 1, "st": null, "l": [], "m": []},
		{"i": null, "h": null, "d": null, "f8": null, "f": null, "st": null, "l": null, "m": null}
	]`)
	defer rec.Release()
	// Arrow's JSON reader reads integers through float64: d by a builder.
	db := array.NewUint64Builder(mem)
	defer db.Release()
	for k := range int(rec.NumRows()) {
		switch k {
		case 3:
			db.Append(1<<53 + 1)
		case 10:
			db.AppendNull()
		default:
			db.Append(rec.Column(2).(*array.Uint64).Value(k))
		}
	}
	d := db.NewArray()
	defer d.Release()
	cols := slices.Clone(rec.Columns())
	cols[2] = d
	rec = array.NewRecordBatch(batch, cols, rec.NumRows())
	defer rec.Release()
	b := encodeOK(t, p, rec)
	defer b.Release()
	want := map[int]string{
		1: `column "i": float64 value 2147483648 is over the INT maximum 2147483647`,
		2: `column "h": float16 value 0.5 is not a whole number (the table's column is TINYINT`,
		3: `column "d": uint64 value 9007199254740993 is not exact as a DOUBLE (the nearest is 9007199254740992`,
		4: `column "f": int32 value 16777217 is not exact as a FLOAT (the nearest is 16777216`,
		5: `column "st.x": float32 value 1.25 is not a whole number (the table's column is BIGINT`,
		6: `column "l[1]": float64 value 10000000000000000000 is over the BIGINT maximum`,
		7: `column "m[0].key": float64 value 2147483648 is over the INT maximum`,
		8: `column "m[0].key": float64 value -0.5 is not a whole number`,
		9: `column "i": float64 value 1.5 is not a whole number (the table's column is INT`,
	}
	if len(b.Errors) != len(want) {
		t.Fatalf("row errors %v, want %v", b.Errors, want)
	}
	for _, e := range b.Errors {
		if !strings.Contains(e.Error(), want[e.Row]) || !errors.Is(e.Err, ErrOutOfRange) {
			t.Errorf("row %d: %v, want %q (ErrOutOfRange)", e.Row, e, want[e.Row])
		}
	}
	if len(b.Rows) != 2 || b.Rows[0] != 0 || b.Rows[1] != 10 {
		t.Fatalf("rows encoded %v, want [0 10]", b.Rows)
	}
	got := decode(t, md, b.Records[0])
	exp := parseText(t, md, `i: -2147483648 h: -128 d: 9007199254740992 f8: -128 f: 16777216 st {x: -1099511627776} l: [0, 3] m {key: 2147483647 value: -9007199254740992}`)
	if !equalMsg(got, exp) {
		t.Errorf("row 0 stored %v, want %v", got, exp)
	}
	if len(b.Records[1]) != 0 {
		t.Errorf("row 10 (all null): %x, want an empty record", b.Records[1])
	}
}

// The advice names a type that holds the value (review2 F-low-2): a uint64
// over BIGINT's maximum that a DOUBLE does not hold exactly is not told to
// go to BIGINT, nor a value over BIGINT's maximum to "a wider type".
func TestReasonsAdviseATypeThatHoldsTheValue(t *testing.T) {
	if got := IntToFloatReason(arrow.PrimitiveTypes.Uint64, uint64(math.MaxUint64), true); !strings.HasSuffix(got, "declare the table's column DECIMAL(20,0)") {
		t.Errorf("uint64 max into DOUBLE: %s", got)
	}
	if got := FloatToIntReason(arrow.PrimitiveTypes.Float64, 1<<63, Bigint); !strings.Contains(got, "DECIMAL(38,0)") || strings.Contains(got, "wider type") {
		t.Errorf("2^63 into BIGINT: %s", got)
	}
	if got := FloatToIntReason(arrow.PrimitiveTypes.Float64, 1<<31, Int); !strings.HasSuffix(got, "a wider type") {
		t.Errorf("2^31 into INT: %s", got)
	}
}

package convert

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

func TestIntFitsAtTheBoundaries(t *testing.T) {
	for _, tc := range []struct {
		t      TableInt
		in, no []int64
	}{
		{Tinyint, []int64{-128, 127, 0}, []int64{-129, 128, math.MinInt64, math.MaxInt64}},
		{Smallint, []int64{-32768, 32767}, []int64{-32769, 32768}},
		{Int, []int64{math.MinInt32, math.MaxInt32}, []int64{math.MinInt32 - 1, math.MaxInt32 + 1}},
		{Bigint, []int64{math.MinInt64, math.MaxInt64}, nil},
	} {
		for _, v := range tc.in {
			if !IntFits(tc.t, v) {
				t.Errorf("%d does not fit %s", v, tc.t.Name)
			}
		}
		for _, v := range tc.no {
			if IntFits(tc.t, v) {
				t.Errorf("%d fits %s", v, tc.t.Name)
			}
		}
	}
	if IntFits(Bigint, uint64(math.MaxInt64)+1) || !IntFits(Bigint, uint64(math.MaxInt64)) || IntFits(Int, uint32(math.MaxInt32)+1) || !IntFits(Tinyint, uint8(127)) || IntFits(Tinyint, uint8(128)) {
		t.Error("unsigned values against the boundaries")
	}
	if got := IntFitReason(arrow.PrimitiveTypes.Uint64, uint64(math.MaxUint64), Bigint); got != "uint64 value 18446744073709551615 is over the BIGINT maximum 9223372036854775807; filter or correct the row, or give the table's column a DECIMAL(38,0) type (BIGINT is the widest integer type)" {
		t.Errorf("reason %q", got)
	}
	for _, tc := range []struct {
		from arrow.DataType
		t    TableInt
		all  bool
	}{
		{arrow.PrimitiveTypes.Int8, Tinyint, true}, {arrow.PrimitiveTypes.Uint8, Tinyint, false}, {arrow.PrimitiveTypes.Uint8, Smallint, true},
		{arrow.PrimitiveTypes.Int32, Int, true}, {arrow.PrimitiveTypes.Uint32, Int, false}, {arrow.PrimitiveTypes.Uint32, Bigint, true},
		{arrow.PrimitiveTypes.Int64, Int, false}, {arrow.PrimitiveTypes.Uint64, Bigint, false}, {arrow.PrimitiveTypes.Float64, Bigint, false},
	} {
		if got := tc.t.HoldsAll(tc.from); got != tc.all {
			t.Errorf("%s holds all of %s: %v, want %v", tc.t.Name, tc.from, got, tc.all)
		}
	}
}

// IntBounds agrees with IntFits for every Arrow integer type and table
// integer type, at and around each bound.
func TestIntBoundsAgreeWithIntFits(t *testing.T) {
	for _, tt := range []TableInt{Tinyint, Smallint, Int, Bigint} {
		checkBounds[int8](t, tt)
		checkBounds[int16](t, tt)
		checkBounds[int32](t, tt)
		checkBounds[int64](t, tt)
		checkBounds[uint8](t, tt)
		checkBounds[uint16](t, tt)
		checkBounds[uint32](t, tt)
		checkBounds[uint64](t, tt)
	}
}

func checkBounds[T integer](t *testing.T, tt TableInt) {
	lo, hi := IntBounds[T](tt)
	var cands []T
	for _, c := range []T{lo, hi, lo - 1, hi + 1, lo + 1, hi - 1, 0, ^T(0), ^T(0) >> 1, ^(^T(0) >> 1)} {
		cands = append(cands, c)
	}
	for _, v := range []int64{tt.Min, tt.Max, tt.Min - 1, tt.Max + 1} {
		cands = append(cands, T(v))
	}
	for _, v := range cands {
		if got, want := lo <= v && v <= hi, IntFits(tt, v); got != want {
			t.Errorf("%T %d into %s: bounds [%d, %d] say %v, IntFits %v", v, v, tt.Name, lo, hi, got, want)
		}
	}
}

func TestToFloatRoundsAndRefusesOnlyFiniteOverflow(t *testing.T) {
	halfUlp := math.Ldexp(1, 127-24) // half the gap above the float32 maximum
	for _, tc := range []struct {
		v  float64
		f  float32
		ok bool
	}{
		{0.1, float32(0.1), true},
		{math.MaxFloat32, math.MaxFloat32, true},
		{-math.MaxFloat32, -math.MaxFloat32, true},
		{math.MaxFloat32 + halfUlp/2, math.MaxFloat32, true}, // rounds down to the maximum
		{math.MaxFloat32 + halfUlp, 0, false},                // rounds (to even) beyond it
		{1e39, 0, false},
		{-1e300, 0, false},
		{1e-50, 0, true}, // underflows to zero, as Spark's cast
		{math.Inf(1), float32(math.Inf(1)), true},
		{math.Inf(-1), float32(math.Inf(-1)), true},
	} {
		f, ok := ToFloat(tc.v)
		if ok != tc.ok || ok && f != tc.f {
			t.Errorf("ToFloat(%g) = %g, %v; want %g, %v", tc.v, f, ok, tc.f, tc.ok)
		}
	}
	if f, ok := ToFloat(math.NaN()); !ok || !math.IsNaN(float64(f)) {
		t.Errorf("NaN: %v %v", f, ok)
	}
}

// With the table's types (Options.TableType, as core gives them from the
// catalog), an int64 or uint32 column of a table INT, SMALLINT or TINYINT
// is an int32 field, a float64 of a table FLOAT a float field, also inside
// a STRUCT, an ARRAY and a MAP, and each value that does not fit fails its
// row with ErrOutOfRange; without them the descriptor follows the batch.
func TestTableTypesNarrowTheDescriptorAndCheckValues(t *testing.T) {
	mem := checkedMem(t)
	st := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	batch := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "t", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "st", Type: st, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64), Nullable: true},
	}, nil)
	table := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "u", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "t", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int16, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int8), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float32), Nullable: true},
	}, nil)
	plain, err := NewPlan(batch, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(batch, Options{TableType: TableTypes(table)})
	if err != nil {
		t.Fatal(err)
	}
	kind := func(p *Plan, path ...string) protoreflect.Kind {
		md := p.MessageDescriptor()
		var fd protoreflect.FieldDescriptor
		for k, name := range path {
			if k > 0 {
				if fd.IsMap() {
					md = fd.MapValue().Message()
					if name == "key" {
						return fd.MapKey().Kind()
					}
					if name == "value" {
						return fd.MapValue().Kind()
					}
				} else {
					md = fd.Message()
				}
			}
			fd = md.Fields().ByName(protoreflect.Name(name))
		}
		return fd.Kind()
	}
	for _, tc := range []struct {
		path        []string
		plain, narr protoreflect.Kind
	}{
		{[]string{"i"}, protoreflect.Int64Kind, protoreflect.Int32Kind},
		{[]string{"u"}, protoreflect.Int64Kind, protoreflect.Int32Kind},
		{[]string{"t"}, protoreflect.Int32Kind, protoreflect.Int32Kind},
		{[]string{"f"}, protoreflect.DoubleKind, protoreflect.FloatKind},
		{[]string{"b"}, protoreflect.Int32Kind, protoreflect.Int64Kind},
		{[]string{"st", "x"}, protoreflect.Int64Kind, protoreflect.Int32Kind},
		{[]string{"l"}, protoreflect.Int64Kind, protoreflect.Int32Kind},
		{[]string{"m", "key"}, protoreflect.Int64Kind, protoreflect.Int32Kind},
		{[]string{"m", "value"}, protoreflect.DoubleKind, protoreflect.FloatKind},
	} {
		if got := kind(plain, tc.path...); got != tc.plain {
			t.Errorf("%v without the table's types: %v, want %v", tc.path, got, tc.plain)
		}
		if got := kind(p, tc.path...); got != tc.narr {
			t.Errorf("%v with the table's types: %v, want %v", tc.path, got, tc.narr)
		}
	}
	if l := p.Descriptor().GetField()[6]; l.GetType() != descriptorpb.FieldDescriptorProto_TYPE_INT32 || l.GetLabel() != descriptorpb.FieldDescriptorProto_LABEL_REPEATED {
		t.Errorf("l: %v", l)
	}

	rec := recordFromJSON(t, mem, batch, `[
		{"i": -2147483648, "u": 2147483647, "t": -128, "f": 3.4028234663852886e+38, "b": -128, "st": {"x": 32767}, "l": [127, -128], "m": [{"key": 2147483647, "value": 1.5}]},
		{"i": 2147483648, "u": 1, "t": 1, "f": 1, "b": 1, "st": null, "l": [], "m": []},
		{"i": 1, "u": 2147483648, "t": 1, "f": 1, "b": 1, "st": null, "l": [], "m": []},
		{"i": 1, "u": 1, "t": 128, "f": 1, "b": 1, "st": null, "l": [], "m": []},
		{"i": 1, "u": 1, "t": 1, "f": -1e39, "b": 1, "st": null, "l": [], "m": []},
		{"i": 1, "u": 1, "t": 1, "f": 1, "b": 1, "st": {"x": -32769}, "l": [], "m": []},
		{"i": 1, "u": 1, "t": 1, "f": 1, "b": 1, "st": null, "l": [1, 128], "m": []},
		{"i": 1, "u": 1, "t": 1, "f": 1, "b": 1, "st": null, "l": [], "m": [{"key": 1, "value": 1e40}]},
		{"i": 1, "u": 1, "t": 1, "f": 1, "b": 1, "st": null, "l": [], "m": [{"key": 2147483648, "value": 1}]},
		{"i": null, "u": null, "t": null, "f": null, "b": null, "st": null, "l": null, "m": null}
	]`)
	defer rec.Release()
	b := encodeOK(t, p, rec)
	defer b.Release()
	want := map[int]string{
		1: `column "i": int64 value 2147483648 is over the INT maximum 2147483647`,
		2: `column "u": uint32 value 2147483648 is over the INT maximum 2147483647`,
		3: `column "t": int32 value 128 is over the TINYINT maximum 127`,
		4: `column "f": float64 value -1e+39 is outside the FLOAT range`,
		5: `column "st.x": int64 value -32769 is under the SMALLINT minimum -32768`,
		6: `column "l[1]": int64 value 128 is over the TINYINT maximum 127`,
		7: `column "m[0].value": float64 value 1e+40 is outside the FLOAT range`,
		8: `column "m[0].key": int64 value 2147483648 is over the INT maximum 2147483647`,
	}
	if len(b.Errors) != len(want) {
		t.Fatalf("row errors %v, want %v", b.Errors, want)
	}
	for _, e := range b.Errors {
		if !strings.Contains(e.Error(), want[e.Row]) || !errors.Is(e.Err, ErrOutOfRange) {
			t.Errorf("row %d: %v, want %q (ErrOutOfRange)", e.Row, e, want[e.Row])
		}
	}
	if len(b.Rows) != 2 || b.Rows[0] != 0 || b.Rows[1] != 9 {
		t.Fatalf("rows encoded %v, want [0 9]", b.Rows)
	}
	got := decode(t, p.MessageDescriptor(), b.Records[0])
	exp := parseText(t, p.MessageDescriptor(), `i: -2147483648 u: 2147483647 t: -128 f: 3.4028235e+38 b: -128 st {x: 32767} l: [127, -128] m {key: 2147483647 value: 1.5}`)
	if !equalMsg(got, exp) {
		t.Errorf("row 0 stored %v, want %v", got, exp)
	}
	if len(b.Records[1]) != 0 {
		t.Errorf("row 9 (all null): %x, want an empty record", b.Records[1])
	}
}

// recordFromJSON builds a record batch of schema s from a JSON array of rows.
func recordFromJSON(t testing.TB, mem memory.Allocator, s *arrow.Schema, js string) arrow.RecordBatch {
	t.Helper()
	rec, _, err := array.RecordFromJSON(mem, s, strings.NewReader(js), array.WithUseNumber())
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

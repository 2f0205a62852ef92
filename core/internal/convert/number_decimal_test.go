package convert

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestAppendFloatDecimalText: the shortest text of a float, plain in the
// everyday range, and what the DECIMAL rule then sends.
func TestAppendFloatDecimalText(t *testing.T) {
	for _, c := range []struct {
		v    float64
		bits int
		text string
	}{
		{0.1, 64, "0.1"}, {1.005, 64, "1.005"}, {2.675, 64, "2.675"}, {math.Copysign(0, -1), 64, "-0"},
		{1e20, 64, "100000000000000000000"}, {1e21, 64, "1e+21"}, {1e-7, 64, "1e-07"}, {1e-6, 64, "0.000001"},
		{float64(float32(0.1)), 32, "0.1"}, {float64(float32(0.1)), 64, "0.10000000149011612"},
		{math.SmallestNonzeroFloat64, 64, "5e-324"}, {-123.5, 64, "-123.5"},
	} {
		if got := string(AppendFloatDecimalText(nil, c.v, c.bits)); got != c.text {
			t.Errorf("%v (%d bits): %q, want %q", c.v, c.bits, got, c.text)
		}
	}
	if FloatDecimalReason(arrow.PrimitiveTypes.Float64, 1) != "" {
		t.Error("1 refused")
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if r := FloatDecimalReason(arrow.PrimitiveTypes.Float64, v); !strings.Contains(r, "is not a number a DECIMAL can hold; filter the row") {
			t.Errorf("%v: %q", v, r)
		}
	}
}

// TestNumbersIntoDecimal: integer and float columns (every width, a
// dictionary) into a table's DECIMAL(p,s) are sent as decimal text, each
// value checked; without the catalog's spec nothing changes.
func TestNumbersIntoDecimal(t *testing.T) {
	type c struct {
		name  string
		dt    arrow.DataType
		json  string
		spec  DecimalSpec
		sent  map[int]string
		fails map[int]string
	}
	tooBig := "does not fit the table's DECIMAL(5,2)"
	nan := "float64 value NaN is not a number a DECIMAL can hold"
	cases := []c{
		{"int64", arrow.PrimitiveTypes.Int64, `[123, 12345, null, -999, 1000, -9223372036854775808]`, DecimalSpec{5, 2},
			map[int]string{0: "123", 3: "-999"}, map[int]string{1: "12345 " + tooBig, 4: "1000 " + tooBig, 5: "-9223372036854775808 " + tooBig}},
		{"int8 fits", arrow.PrimitiveTypes.Int8, `[127, -128, null]`, DecimalSpec{5, 2}, map[int]string{0: "127", 1: "-128"}, nil},
		{"uint64", arrow.PrimitiveTypes.Uint64, `[18446744073709551615, 5, null]`, DecimalSpec{20, 0},
			map[int]string{0: "18446744073709551615", 1: "5"}, nil},
		{"uint16", arrow.PrimitiveTypes.Uint16, `[65535, 999, null]`, DecimalSpec{5, 2}, map[int]string{1: "999"}, map[int]string{0: "65535 " + tooBig}},
		{"float64", arrow.PrimitiveTypes.Float64, `[0.1, 1.005, null, 2.675, -0.0, 999.995, "NaN", "Inf", 999.994, 123]`, DecimalSpec{5, 2},
			map[int]string{0: "0.10", 1: "1.01", 3: "2.68", 4: "0.00", 8: "999.99", 9: "123.00"},
			map[int]string{5: "999.995 " + tooBig, 6: nan, 7: "float64 value +Inf is not a number a DECIMAL"}},
		{"float64 1e20", arrow.PrimitiveTypes.Float64, `[1e20, 1e38, 1e-300, null]`, DecimalSpec{38, 0},
			map[int]string{0: "100000000000000000000", 2: "0"}, map[int]string{1: "1e+38 does not fit"}},
		{"float32", arrow.PrimitiveTypes.Float32, `[0.1, 1.005, null, "-Inf"]`, DecimalSpec{5, 2},
			map[int]string{0: "0.10", 1: "1.01"}, map[int]string{3: "float32 value -Inf is not a number"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := checkedMem(t)
			v := fromJSON(t, mem, c.dt, c.json)
			defer v.Release()
			checkNumberDecimal(t, v, c.spec, c.sent, c.fails)
		})
	}
	t.Run("float16", func(t *testing.T) {
		mem := checkedMem(t)
		b := array.NewFloat16Builder(mem)
		defer b.Release()
		b.AppendValues([]float16.Num{float16.New(0.5), float16.New(1000)}, nil)
		b.AppendNull()
		v := b.NewArray()
		defer v.Release()
		checkNumberDecimal(t, v, DecimalSpec{5, 2}, map[int]string{0: "0.50"}, map[int]string{1: "1000 " + tooBig})
	})
	t.Run("dictionary", func(t *testing.T) {
		mem := checkedMem(t)
		dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.PrimitiveTypes.Float64}
		b := array.NewDictionaryBuilder(mem, dt).(*array.Float64DictionaryBuilder)
		defer b.Release()
		for _, x := range []float64{1.005, 1000, 1.005} {
			if err := b.Append(x); err != nil {
				t.Fatal(err)
			}
		}
		b.AppendNull()
		v := b.NewArray()
		defer v.Release()
		checkNumberDecimal(t, v, DecimalSpec{5, 2}, map[int]string{0: "1.01", 2: "1.01"}, map[int]string{1: "1000 " + tooBig})
	})
	t.Run("no catalog", func(t *testing.T) {
		schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
		p, err := NewPlan(schema, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if k := p.MessageDescriptor().Fields().ByName("v").Kind().String(); k != "int64" {
			t.Errorf("kind %s", k)
		}
	})
}

// checkNumberDecimal sends the single column v (its last row null) into a
// table's DECIMAL spec and compares what is sent and what fails.
func checkNumberDecimal(t *testing.T, v arrow.Array, spec DecimalSpec, sent, fails map[int]string) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: v.DataType(), Nullable: true}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{v}, int64(v.Len()))
	defer rec.Release()
	p, err := NewPlan(schema, Options{TableDecimal: map[string]DecimalSpec{"v": spec}})
	if err != nil {
		t.Fatal(err)
	}
	if k := p.MessageDescriptor().Fields().ByName("v").Kind().String(); k != "string" {
		t.Errorf("kind %s, want string", k)
	}
	b := encodeOK(t, p, rec)
	nullRow := -1
	for i := range v.Len() {
		if v.IsNull(i) {
			nullRow = i
		}
	}
	checkDecimalRows(t, p, b, sent, fails, "v", nullRow)
}

// TestNumbersIntoDecimalNested: STRUCT fields, ARRAY elements, MAP values
// and float MAP keys the table declares DECIMAL; a bool or timestamp into a
// DECIMAL is refused naming DECIMAL(p,s).
func TestNumbersIntoDecimalNested(t *testing.T) {
	i64, f64 := arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64
	str := arrow.BinaryTypes.String
	for _, c := range []struct {
		name   string
		dt     arrow.DataType
		path   string
		json   string
		column string // of the failing row 1
		sent   string // row 0's text
	}{
		{"struct field", arrow.StructOf(arrow.Field{Name: "x", Type: i64, Nullable: true}), "v.x", `[{"x": 7}, {"x": 100}]`, "v.x", "7"},
		{"array element", arrow.ListOf(f64), "v[]", `[[1.005], [2, "NaN"]]`, "v[1]", "1.01"},
		{"map value", arrow.MapOf(str, f64), "v.value", `[[{"key": "k", "value": 0.1}], [{"key": "k", "value": 99.995}]]`, "v[0].value", "0.10"},
		{"float map key", arrow.MapOf(f64, str), "v.key", `[[{"key": 1.5, "value": "k"}], [{"key": 1e9, "value": "k"}]]`, "v[0].key", "1.50"},
		{"int map key", arrow.MapOf(i64, str), "v.key", `[[{"key": 15, "value": "k"}], [{"key": 100, "value": "k"}]]`, "v[0].key", "15"},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := checkedMem(t)
			v := fromJSON(t, mem, c.dt, c.json)
			defer v.Release()
			schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: c.dt, Nullable: true}}, nil)
			rec := array.NewRecordBatch(schema, []arrow.Array{v}, int64(v.Len()))
			defer rec.Release()
			p, err := NewPlan(schema, Options{TableDecimal: map[string]DecimalSpec{c.path: {4, 2}}})
			if err != nil {
				t.Fatal(err)
			}
			b := encodeOK(t, p, rec)
			if len(b.Errors) != 1 || b.Errors[0].Row != 1 || b.Errors[0].Column != c.column {
				t.Fatalf("row errors %v, want row 1 column %q", b.Errors, c.column)
			}
			if len(b.Records) != 1 {
				t.Fatalf("%d records", len(b.Records))
			}
			js, _ := protojson.Marshal(decode(t, p.MessageDescriptor(), b.Records[0]))
			if !strings.Contains(string(js), fmt.Sprintf("%q", c.sent)) {
				t.Errorf("sent %s, want %q", js, c.sent)
			}
		})
	}
	for _, dt := range []arrow.DataType{arrow.FixedWidthTypes.Boolean, arrow.FixedWidthTypes.Timestamp_us, arrow.FixedWidthTypes.Date32} {
		schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: dt, Nullable: true}}, nil)
		_, err := NewPlan(schema, Options{TableDecimal: map[string]DecimalSpec{"v": {10, 2}}})
		if err == nil || !strings.Contains(err.Error(), "the table's column is DECIMAL(10,2)") {
			t.Errorf("%s: %v", dt, err)
		}
	}
}

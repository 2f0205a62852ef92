package flightstream

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// TestNumbersIntoDecimal: integer and float columns (every width, a
// dictionary) into a table DECIMAL(p,s): integers sent as their digits,
// floats by their shortest text rounded half-up; values too large, NaN and
// ±Inf leave their row out with the protobuf path's reason (the same rows
// as convert.TestNumbersIntoDecimal).
func TestNumbersIntoDecimal(t *testing.T) {
	tooBig := "does not fit the table's DECIMAL(5,2)"
	for _, c := range []struct {
		name string
		dt   arrow.DataType
		json string
		p, s int
		sent []string
		left map[int]string
	}{
		{"int64", arrow.PrimitiveTypes.Int64, `[123, 12345, null, -999, 1000, -9223372036854775808]`, 5, 2,
			[]string{"123", "(null)", "-999"}, map[int]string{1: "12345 " + tooBig, 4: "1000 " + tooBig, 5: "-9223372036854775808 " + tooBig}},
		{"int8", arrow.PrimitiveTypes.Int8, `[127, -128, null]`, 5, 2, []string{"127", "-128", "(null)"}, nil},
		{"uint16", arrow.PrimitiveTypes.Uint16, `[65535, 999, null]`, 5, 2, []string{"999", "(null)"}, map[int]string{0: "65535 " + tooBig}},
		{"float64", arrow.PrimitiveTypes.Float64, `[0.1, 1.005, null, 2.675, -0.0, 999.995, "NaN", "Inf", 999.994, 123]`, 5, 2,
			[]string{"0.10", "1.01", "(null)", "2.68", "0.00", "999.99", "123.00"},
			map[int]string{5: "999.995 " + tooBig, 6: "float64 value NaN is not a number a DECIMAL can hold", 7: "float64 value +Inf is not a number a DECIMAL"}},
		{"float64 1e20", arrow.PrimitiveTypes.Float64, `[1e20, 1e38, 1e-300, null]`, 38, 0,
			[]string{"100000000000000000000", "0", "(null)"}, map[int]string{1: "1e+38 does not fit"}},
		{"float32", arrow.PrimitiveTypes.Float32, `[0.1, 1.005, null, "-Inf"]`, 5, 2,
			[]string{"0.10", "1.01", "(null)"}, map[int]string{3: "float32 value -Inf is not a number"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			v, _, err := array.FromJSON(mem, c.dt, strings.NewReader(c.json))
			if err != nil {
				t.Fatal(err)
			}
			checkNumberDecimal(t, mem, v, c.p, c.s, c.sent, c.left)
		})
	}
	t.Run("uint64", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		b := array.NewUint64Builder(mem)
		b.AppendValues([]uint64{math.MaxUint64, 5}, nil)
		b.AppendNull()
		v := b.NewArray()
		b.Release()
		checkNumberDecimal(t, mem, v, 20, 0, []string{"18446744073709551615", "5", "(null)"}, nil)
	})
	t.Run("float16", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		b := array.NewFloat16Builder(mem)
		b.AppendValues([]float16.Num{float16.New(0.5), float16.New(1000)}, nil)
		b.AppendNull()
		v := b.NewArray()
		b.Release()
		checkNumberDecimal(t, mem, v, 5, 2, []string{"0.50", "(null)"}, map[int]string{1: "1000 " + tooBig})
	})
	t.Run("dictionary", func(t *testing.T) {
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		defer mem.AssertSize(t, 0)
		dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.PrimitiveTypes.Float64}
		b := array.NewDictionaryBuilder(mem, dt).(*array.Float64DictionaryBuilder)
		for _, x := range []float64{1.005, 1000, 1.005} {
			if err := b.Append(x); err != nil {
				t.Fatal(err)
			}
		}
		b.AppendNull()
		v := b.NewArray()
		b.Release()
		checkNumberDecimal(t, mem, v, 5, 2, []string{"1.01", "1.01", "(null)"}, map[int]string{1: "1000 " + tooBig})
	})
}

func checkNumberDecimal(t *testing.T, mem memory.Allocator, v arrow.Array, p, s int, sent []string, left map[int]string) {
	t.Helper()
	rec := batchOf(t, []arrow.Field{{Name: "v", Type: v.DataType(), Nullable: true}}, v)
	defer rec.Release()
	to := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.BinaryTypes.LargeString, Nullable: true, Metadata: convert.DecimalMeta(p, s)}}, nil)
	c, err := PlanCast("t", rec.Schema(), to)
	if err != nil {
		t.Fatal(err)
	}
	out, nulls, _, err := c.ApplyWith(context.Background(), mem, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	var got []string
	col := out.Column(0).(*array.LargeString)
	for i := range col.Len() {
		if col.IsNull(i) {
			got = append(got, "(null)")
		} else {
			got = append(got, col.Value(i))
		}
	}
	if strings.Join(got, " ") != strings.Join(sent, " ") {
		t.Errorf("sent %q, want %q", got, sent)
	}
	if len(nulls) != len(left) {
		t.Fatalf("left out %v, want rows %v", nulls, left)
	}
	for _, n := range nulls {
		if want, ok := left[n.Row]; !ok || n.Column != "v" || !strings.Contains(n.Reason, want) {
			t.Errorf("left out %+v, want row %d %q", n, n.Row, want)
		}
	}
}

// TestNumbersIntoDecimalNested: STRUCT fields, ARRAY elements, MAP keys and
// values the table declares DECIMAL(4,2), given as numbers; a bool or a
// timestamp into a DECIMAL is refused naming DECIMAL(p,s), at the top level
// and inside a STRUCT; a number into a plain STRING column stays refused.
func TestNumbersIntoDecimalNested(t *testing.T) {
	dec := func(name string, nullable bool) arrow.Field {
		return arrow.Field{Name: name, Type: arrow.BinaryTypes.LargeString, Nullable: nullable, Metadata: convert.DecimalMeta(4, 2)}
	}
	ls := arrow.BinaryTypes.LargeString
	str := arrow.BinaryTypes.String
	i64, f64 := arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64
	for _, c := range []struct {
		name   string
		from   arrow.DataType
		to     arrow.DataType
		json   string
		column string // of the failing row 1
		sent   string // column 0 as sent
	}{
		{"struct field", arrow.StructOf(arrow.Field{Name: "x", Type: i64, Nullable: true}), arrow.StructOf(dec("x", true)),
			`[{"x": 7}, {"x": 100}, null]`, "v.x", `{["7" (null)]}`},
		{"array element", arrow.ListOf(f64), arrow.ListOfField(dec("element", true)),
			`[[1.005, 0.25], [2, "NaN"], null]`, "v[1]", `[["1.01" "0.25"] (null)]`},
		{"map value", arrow.MapOf(str, f64), arrow.MapOfFields(arrow.Field{Name: "key", Type: ls}, dec("value", true)),
			`[[{"key": "k", "value": 0.1}], [{"key": "k", "value": 99.995}], null]`, "v[0].value", `[{["k"] ["0.10"]} (null)]`},
		{"float map key", arrow.MapOf(f64, str), arrow.MapOfFields(dec("key", false), arrow.Field{Name: "value", Type: ls, Nullable: true}),
			`[[{"key": 1.5, "value": "k"}], [{"key": 1e9, "value": "k"}], null]`, "v[0].key", `[{["1.50"] ["k"]} (null)]`},
		{"int map key", arrow.MapOf(i64, str), arrow.MapOfFields(dec("key", false), arrow.Field{Name: "value", Type: ls, Nullable: true}),
			`[[{"key": 15, "value": "k"}], [{"key": 100, "value": "k"}], null]`, "v[0].key", `[{["15"] ["k"]} (null)]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			v, _, err := array.FromJSON(mem, c.from, strings.NewReader(c.json))
			if err != nil {
				t.Fatal(err)
			}
			rec := batchOf(t, []arrow.Field{{Name: "v", Type: c.from, Nullable: true}}, v)
			defer rec.Release()
			cst, err := PlanCast("t", rec.Schema(), arrow.NewSchema([]arrow.Field{{Name: "v", Type: c.to, Nullable: true}}, nil))
			if err != nil {
				t.Fatal(err)
			}
			out, nulls, _, err := cst.ApplyWith(context.Background(), mem, rec)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			if len(nulls) != 1 || nulls[0].Row != 1 || nulls[0].Column != c.column {
				t.Fatalf("left out %+v, want row 1 column %q", nulls, c.column)
			}
			if got := out.Column(0).String(); got != c.sent {
				t.Errorf("sent %s, want %s", got, c.sent)
			}
		})
	}
	for _, c := range []struct {
		from, to arrow.DataType
		meta     arrow.Metadata
		want     string
	}{
		{arrow.FixedWidthTypes.Boolean, ls, convert.DecimalMeta(10, 2), `column "v" is bool in the batch and DECIMAL(10,2) in the table: the table's column is DECIMAL(10,2), which takes integer, float`},
		{arrow.FixedWidthTypes.Timestamp_us, ls, convert.DecimalMeta(10, 2), `DECIMAL(10,2) in the table: the table's column is DECIMAL(10,2)`},
		{arrow.StructOf(arrow.Field{Name: "x", Type: arrow.FixedWidthTypes.Boolean}), arrow.StructOf(dec("x", true)), arrow.Metadata{}, `field "x": the table's column is DECIMAL(4,2)`},
		{i64, ls, arrow.Metadata{}, "STRING in the table: no safe cast; cast the batch's column to large_utf8, or change the table's column"},
		{f64, ls, arrow.Metadata{}, "STRING in the table: no safe cast; cast the batch's column to large_utf8, or change the table's column"},
	} {
		from := arrow.NewSchema([]arrow.Field{{Name: "v", Type: c.from, Nullable: true}}, nil)
		to := arrow.NewSchema([]arrow.Field{{Name: "v", Type: c.to, Nullable: true, Metadata: c.meta}}, nil)
		if _, err := PlanCast("t", from, to); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.from, err, c.want)
		}
	}
}

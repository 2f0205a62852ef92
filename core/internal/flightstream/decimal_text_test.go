package flightstream

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// TestDecimalGivenAsStrings: caller strings (every string layout, a
// dictionary of strings) into a table DECIMAL(4,2) are checked by the
// protobuf path's rule; rows that cannot be stored are left out with its
// reason, plain text is sent as given and other decimal text rounded.
func TestDecimalGivenAsStrings(t *testing.T) {
	vals := `["1.235", "99.995", "abc", null, "99.99", "-99.994", "1e1", " +7 ", "", "1.5e2"]`
	sent := []string{"1.235", "(null)", "99.99", "-99.994", "10.00", "7.00"}
	left := map[int]string{
		1: "99.995 does not fit the table's DECIMAL(4,2)",
		2: `"abc" is not a number for the table's DECIMAL(4,2)`,
		8: `"" is not a number`,
		9: "1.5e2 does not fit",
	}
	to := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.BinaryTypes.LargeString, Nullable: true, Metadata: convert.DecimalMeta(4, 2)}}, nil)
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	for _, dt := range []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.StringView, dict} {
		t.Run(dt.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			var v arrow.Array
			if dt == dict {
				b := array.NewDictionaryBuilder(mem, dict).(*array.BinaryDictionaryBuilder)
				for _, s := range []string{"1.235", "99.995", "abc", "", "99.99", "-99.994", "1e1", " +7 ", "", "1.5e2"} {
					if s == "" && b.Len() == 3 {
						b.AppendNull()
					} else if err := b.AppendString(s); err != nil {
						t.Fatal(err)
					}
				}
				v = b.NewArray()
				b.Release()
			} else {
				var err error
				v, _, err = array.FromJSON(mem, dt, strings.NewReader(vals))
				if err != nil {
					t.Fatal(err)
				}
			}
			rec := batchOf(t, []arrow.Field{{Name: "v", Type: dt, Nullable: true}}, v)
			defer rec.Release()
			checkDecimalRows(t, mem, rec, to, sent, left, "v")
		})
	}
}

// checkDecimalRows applies the cast of rec to the table to and compares
// the rows sent (column 0 as text) and left out.
func checkDecimalRows(t *testing.T, mem memory.Allocator, rec arrow.RecordBatch, to *arrow.Schema, sent []string, left map[int]string, column string) {
	t.Helper()
	c, err := PlanCast("t", rec.Schema(), to)
	if err != nil {
		t.Fatal(err)
	}
	out, nulls, _, err := c.ApplyWith(context.Background(), mem, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if got := out.Column(0).String(); got != `["`+strings.ReplaceAll(strings.Join(sent, `" "`), `"(null)"`, "(null)")+`"]` {
		t.Errorf("sent %s, want %q", got, sent)
	}
	if len(nulls) != len(left) {
		t.Fatalf("left out %v, want rows %v", nulls, left)
	}
	for _, n := range nulls {
		if want, ok := left[n.Row]; !ok || n.Column != column || !strings.Contains(n.Reason, want) {
			t.Errorf("left out %+v, want row %d %q", n, n.Row, want)
		}
	}
}

// TestDecimalStringsNested: STRUCT fields, ARRAY elements, MAP keys and MAP
// values the table declares DECIMAL(4,2), given as strings (and decimal
// MAP keys).
func TestDecimalStringsNested(t *testing.T) {
	dec := func(name string, nullable bool) arrow.Field {
		return arrow.Field{Name: name, Type: arrow.BinaryTypes.LargeString, Nullable: nullable, Metadata: convert.DecimalMeta(4, 2)}
	}
	ls := arrow.BinaryTypes.LargeString
	str := arrow.BinaryTypes.String
	for _, c := range []struct {
		name   string
		from   arrow.DataType
		to     arrow.DataType
		json   string
		column string // of the failing row 1
		sent   string // column 0 as sent
	}{
		{"struct field", arrow.StructOf(arrow.Field{Name: "x", Type: str, Nullable: true}), arrow.StructOf(dec("x", true)),
			`[{"x": "1e0"}, {"x": "100"}, null]`, "v.x", `{["1.00" (null)]}`},
		{"struct field as large_utf8", arrow.StructOf(arrow.Field{Name: "x", Type: ls, Nullable: true}), arrow.StructOf(dec("x", true)),
			`[{"x": "1.5"}, {"x": "x"}, {"x": null}]`, "v.x", `{["1.5" (null)]}`},
		{"array element", arrow.ListOf(str), arrow.ListOfField(dec("element", true)),
			`[["1.5", ".25"], ["2", "x"], null]`, "v[1]", `[["1.5" "0.25"] (null)]`},
		{"map value", arrow.MapOf(str, str), arrow.MapOfFields(arrow.Field{Name: "key", Type: ls}, dec("value", true)),
			`[[{"key": "k", "value": "1.5"}], [{"key": "k", "value": "99.995"}], null]`, "v[0].value", `[{["k"] ["1.5"]} (null)]`},
		{"map key", arrow.MapOf(str, str), arrow.MapOfFields(dec("key", false), arrow.Field{Name: "value", Type: ls, Nullable: true}),
			`[[{"key": "+1.5", "value": "k"}], [{"key": "1e9", "value": "k"}], null]`, "v[0].key", `[{["1.50"] ["k"]} (null)]`},
		{"decimal map key", arrow.MapOf(&arrow.Decimal128Type{Precision: 6, Scale: 3}, str), arrow.MapOfFields(dec("key", false), arrow.Field{Name: "value", Type: ls, Nullable: true}),
			`[[{"key": "1.500", "value": "k"}], [{"key": "100.000", "value": "k"}], null]`, "v[0].key", `[{["1.500"] ["k"]} (null)]`},
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
}

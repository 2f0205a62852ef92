package convert

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/encoding/protojson"
)

// TestDecimalGivenAsStrings: a string column (every string layout, and a
// dictionary of strings) into a table's DECIMAL(4,2) is checked value by
// value; plain text is sent as given, other decimal text rounded, and text
// that is not a number or too large fails its row.
func TestDecimalGivenAsStrings(t *testing.T) {
	vals := `["1.235", "99.995", "abc", null, "99.99", "-99.994", "1e1", " +7 ", "", "1.5e2"]`
	sent := map[int]string{0: "1.235", 4: "99.99", 5: "-99.994", 6: "10.00", 7: "7.00"}
	fails := map[int]string{
		1: "99.995 does not fit the table's DECIMAL(4,2)",
		2: `"abc" is not a number for the table's DECIMAL(4,2)`,
		8: `"" is not a number`,
		9: "1.5e2 does not fit",
	}
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	for _, dt := range []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.StringView, dict} {
		t.Run(dt.String(), func(t *testing.T) {
			mem := checkedMem(t)
			var v arrow.Array
			if dt == dict {
				plain := fromJSON(t, mem, arrow.BinaryTypes.String, vals)
				defer plain.Release()
				b := array.NewDictionaryBuilder(mem, dict).(*array.BinaryDictionaryBuilder)
				defer b.Release()
				s := plain.(*array.String)
				for i := range s.Len() {
					if s.IsNull(i) {
						b.AppendNull()
					} else if err := b.AppendString(s.Value(i)); err != nil {
						t.Fatal(err)
					}
				}
				v = b.NewArray()
			} else {
				v = fromJSON(t, mem, dt, vals)
			}
			defer v.Release()
			schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: dt, Nullable: true}}, nil)
			rec := array.NewRecordBatch(schema, []arrow.Array{v}, int64(v.Len()))
			defer rec.Release()
			p, err := NewPlan(schema, Options{TableDecimal: map[string]DecimalSpec{"v": {4, 2}}})
			if err != nil {
				t.Fatal(err)
			}
			b := encodeOK(t, p, rec)
			checkDecimalRows(t, p, b, sent, fails, "v", 3)
		})
	}
}

// checkDecimalRows compares a batch's records (field v's text) and row
// errors with the rows expected to be sent and to fail; nullRow is sent
// without the field.
func checkDecimalRows(t *testing.T, p *Plan, b *Batch, sent, fails map[int]string, column string, nullRow int) {
	t.Helper()
	got := map[int]string{}
	for k, r := range b.Rows {
		js, err := protojson.Marshal(decode(t, p.MessageDescriptor(), b.Records[k]))
		if err != nil {
			t.Fatal(err)
		}
		got[r] = string(js)
	}
	for r, want := range sent {
		if !strings.Contains(got[r], fmt.Sprintf("%q", want)) {
			t.Errorf("row %d sent %s, want %q", r, got[r], want)
		}
	}
	if nullRow >= 0 && got[nullRow] != "{}" {
		t.Errorf("null row %d sent %q", nullRow, got[nullRow])
	}
	if len(got) != len(sent)+1 {
		t.Errorf("rows sent %v", got)
	}
	if len(b.Errors) != len(fails) {
		t.Fatalf("row errors %v, want rows %v", b.Errors, fails)
	}
	for _, e := range b.Errors {
		want, ok := fails[e.Row]
		if !ok || e.Column != column || !strings.Contains(e.Reason, want) {
			t.Errorf("row error %v, want row %d %q", e, e.Row, want)
		}
		wantErr := ErrOutOfRange
		if strings.Contains(want, "is not a number") {
			wantErr = ErrInvalidDecimal
		}
		if !errors.Is(e, wantErr) {
			t.Errorf("row %d: %v is not %v", e.Row, e.Err, wantErr)
		}
	}
}

// TestDecimalStringsNested: STRUCT fields, ARRAY elements, MAP keys and MAP
// values the table declares DECIMAL, given as strings or decimals.
func TestDecimalStringsNested(t *testing.T) {
	str := arrow.BinaryTypes.String
	dec := &arrow.Decimal128Type{Precision: 6, Scale: 3}
	for _, c := range []struct {
		name   string
		dt     arrow.DataType
		path   string
		json   string
		column string // of the failing row 1
		sent   string // row 0's text
	}{
		{"struct field", arrow.StructOf(arrow.Field{Name: "x", Type: str, Nullable: true}), "v.x", `[{"x": "1e0"}, {"x": "100"}]`, "v.x", "1.00"},
		{"array element", arrow.ListOf(str), "v[]", `[["1.5"], ["2", "x"]]`, "v[1]", "1.5"},
		{"map value", arrow.MapOf(str, str), "v.value", `[[{"key": "k", "value": "1.5"}], [{"key": "k", "value": "99.995"}]]`, "v[0].value", "1.5"},
		{"map key", arrow.MapOf(str, str), "v.key", `[[{"key": "1.5", "value": "k"}], [{"key": "1e9", "value": "k"}]]`, "v[0].key", "1.5"},
		{"decimal map key", arrow.MapOf(dec, str), "v.key", `[[{"key": "1.500", "value": "k"}], [{"key": "100.000", "value": "k"}]]`, "v[0].key", "1.500"},
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
	// TableDecimals names MAP keys.
	s := arrow.NewSchema([]arrow.Field{{Name: "m", Type: arrow.MapOfFields(
		arrow.Field{Name: "key", Type: arrow.BinaryTypes.LargeString, Metadata: DecimalMeta(4, 2)},
		arrow.Field{Name: "value", Type: arrow.BinaryTypes.LargeString, Nullable: true, Metadata: DecimalMeta(5, 1)})}}, nil)
	if got := TableDecimals(s); len(got) != 2 || got["m.key"] != (DecimalSpec{4, 2}) || got["m.value"] != (DecimalSpec{5, 1}) {
		t.Errorf("TableDecimals: %v", got)
	}
}

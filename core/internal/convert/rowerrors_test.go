package convert

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

// twoColumns builds a batch {id int64 non-null, v <dt>} from JSON arrays;
// an empty ids means 0, 1, 2, ...
func twoColumns(t *testing.T, mem memory.Allocator, ids string, vField arrow.Field, vJSON string) arrow.RecordBatch {
	t.Helper()
	v := fromJSON(t, mem, vField.Type, vJSON)
	defer v.Release()
	if ids == "" {
		ids = idsJSON(v.Len())
	}
	id := fromJSON(t, mem, arrow.PrimitiveTypes.Int64, ids)
	defer id.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, vField}, nil)
	return array.NewRecordBatch(schema, []arrow.Array{id, v}, int64(id.Len()))
}

func TestRowErrors(t *testing.T) {
	utf8 := arrow.BinaryTypes.String
	for _, tc := range []struct {
		name    string
		field   arrow.Field
		json    string
		opts    Options
		wantErr []RowError // Reason is matched as a substring
		okRows  []int
	}{
		{name: "null in required column",
			field: arrow.Field{Name: "v", Type: utf8}, json: `["a", null, "c"]`,
			wantErr: []RowError{{Row: 1, Column: "v", Reason: "null in a required field", Err: ErrNullValue}}, okRows: []int{0, 2}},
		{name: "TableDecimal: too many integer digits after rounding half-up fail the row",
			field: arrow.Field{Name: "v", Type: &arrow.Decimal128Type{Precision: 20, Scale: 3}, Nullable: true}, json: `["1.230", "1.234", "123456789012.500", null, "-99999999.990", "-99999999.995"]`,
			opts: Options{TableDecimal: map[string]DecimalSpec{"v": {10, 2}}},
			wantErr: []RowError{{Row: 2, Column: "v", Reason: "123456789012.500 does not fit the table's DECIMAL(10,2), which holds at most 8 digits before the point (values are rounded half-up to 2 places first); correct or filter the row, or give the column a larger precision", Err: ErrOutOfRange},
				{Row: 5, Column: "v", Reason: "-99999999.995 does not fit the table's DECIMAL(10,2)", Err: ErrOutOfRange}},
			okRows: []int{0, 1, 3, 4}},
		{name: "TableDecimal in an ARRAY's elements",
			field: arrow.Field{Name: "v", Type: arrow.ListOf(&arrow.Decimal128Type{Precision: 9, Scale: 1}), Nullable: true}, json: `[["1.0"], ["2.0", "123.4"]]`,
			opts:    Options{TableDecimal: map[string]DecimalSpec{"v[]": {3, 1}}},
			wantErr: []RowError{{Row: 1, Column: "v[1]", Reason: "123.4 does not fit the table's DECIMAL(3,1)", Err: ErrOutOfRange}},
			okRows:  []int{0}},
		{name: "TableType: a null-type column is the table's type, NOT NULL fails each row",
			field: arrow.Field{Name: "v", Type: arrow.Null, Nullable: true}, json: `[null, null]`,
			opts:    Options{TableType: map[string]arrow.DataType{"v": arrow.PrimitiveTypes.Int64}, TableNullable: map[string]bool{"v": false}},
			wantErr: []RowError{{Row: 0, Column: "v", Reason: "the table declares NOT NULL", Err: ErrNullValue}, {Row: 1, Column: "v", Reason: "the table declares NOT NULL", Err: ErrNullValue}}},
		{name: "TableType: a null-type column of a nullable column is omitted",
			field: arrow.Field{Name: "v", Type: arrow.Null, Nullable: true}, json: `[null, null]`,
			opts:   Options{TableType: map[string]arrow.DataType{"v": arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true})}},
			okRows: []int{0, 1}},
		{name: "AllOptional omits the null",
			field: arrow.Field{Name: "v", Type: utf8}, json: `["a", null, "c"]`, opts: Options{AllOptional: true},
			okRows: []int{0, 1, 2}},
		{name: "TableNullable NOT NULL fails the null, even with AllOptional",
			field: arrow.Field{Name: "v", Type: utf8, Nullable: true}, json: `["a", null, "c"]`,
			opts:    Options{AllOptional: true, TableNullable: map[string]bool{"v": false}},
			wantErr: []RowError{{Row: 1, Column: "v", Reason: "the table declares NOT NULL", Err: ErrNullValue}}, okRows: []int{0, 2}},
		{name: "TableNullable nullable omits the null of a non-nullable field",
			field: arrow.Field{Name: "v", Type: utf8}, json: `["a", null, "c"]`, opts: Options{TableNullable: map[string]bool{"v": true}},
			okRows: []int{0, 1, 2}},
		{name: "TableNullable NOT NULL STRUCT field fails the null, a null STRUCT is fine",
			field:   arrow.Field{Name: "v", Type: arrow.StructOf(arrow.Field{Name: "zip", Type: utf8, Nullable: true}, arrow.Field{Name: "city", Type: utf8, Nullable: true}), Nullable: true},
			json:    `[{"zip": "1"}, {"zip": null, "city": "x"}, null, {"zip": "2", "city": null}]`,
			opts:    Options{TableNullable: map[string]bool{"v": true, "v.zip": false, "v.city": true}},
			wantErr: []RowError{{Row: 1, Column: "v.zip", Reason: "the table declares NOT NULL", Err: ErrNullValue}},
			okRows:  []int{0, 2, 3}},
		{name: "TableNullable NOT NULL field of an ARRAY's STRUCT elements",
			field:   arrow.Field{Name: "v", Type: arrow.ListOf(arrow.StructOf(arrow.Field{Name: "sku", Type: utf8, Nullable: true})), Nullable: true},
			json:    `[[{"sku": "a"}], [{"sku": "a"}, {"sku": null}], null, []]`,
			opts:    Options{AllOptional: true, TableNullable: map[string]bool{"v[].sku": false}},
			wantErr: []RowError{{Row: 1, Column: "v[1].sku", Reason: "NOT NULL", Err: ErrNullValue}},
			okRows:  []int{0, 2, 3}},
		{name: "TableNullable NOT NULL field of a MAP's STRUCT values",
			field:   arrow.Field{Name: "v", Type: arrow.MapOf(utf8, arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true})), Nullable: true},
			json:    `[[{"key": "k", "value": {"x": 1}}], [{"key": "k", "value": {"x": 1}}, {"key": "q", "value": {"x": null}}]]`,
			opts:    Options{TableNullable: map[string]bool{"v.value.x": false}},
			wantErr: []RowError{{Row: 1, Column: "v[1].value.x", Reason: "NOT NULL", Err: ErrNullValue}},
			okRows:  []int{0}},
		{name: "TableNullable nullable STRUCT field omits the null of a non-nullable one",
			field:  arrow.Field{Name: "v", Type: arrow.StructOf(arrow.Field{Name: "zip", Type: utf8}), Nullable: true},
			json:   `[{"zip": "1"}, {"zip": null}]`,
			opts:   Options{TableNullable: map[string]bool{"v.zip": true}},
			okRows: []int{0, 1}},
		{name: "uint64 over int64",
			field: arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Uint64, Nullable: true}, json: `[1, 18446744073709551615, 2]`,
			wantErr: []RowError{{Row: 1, Column: "v", Reason: "over the int64 maximum", Err: ErrOutOfRange}}, okRows: []int{0, 2}},
		{name: "timestamp seconds overflow",
			field: arrow.Field{Name: "v", Type: arrow.FixedWidthTypes.Timestamp_s, Nullable: true}, json: `[-9223372036855, 0, 9223372036854]`,
			wantErr: []RowError{{Row: 0, Column: "v", Reason: "overflows int64 microseconds", Err: ErrOutOfRange}}, okRows: []int{1, 2}},
		{name: "null list element",
			field: arrow.Field{Name: "v", Type: arrow.ListOf(utf8), Nullable: true}, json: `[["a"], ["b", "c", null], null]`,
			wantErr: []RowError{{Row: 1, Column: "v[2]", Reason: "null list element", Err: ErrNullValue}}, okRows: []int{0, 2}},
		{name: "null in non-nullable struct child",
			field:   arrow.Field{Name: "v", Type: arrow.StructOf(arrow.Field{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "zip", Type: utf8})}), Nullable: true},
			json:    `[{"s": {"zip": "1"}}, {"s": {"zip": null}}, {"s": null}]`,
			wantErr: []RowError{{Row: 1, Column: "v.s.zip", Reason: "null in a required field", Err: ErrNullValue}, {Row: 2, Column: "v.s", Reason: "required", Err: ErrNullValue}},
			okRows:  []int{0}},
		{name: "null map value",
			field: arrow.Field{Name: "v", Type: arrow.MapOf(utf8, utf8), Nullable: true}, json: `[[{"key": "k", "value": "x"}, {"key": "q", "value": null}], []]`,
			wantErr: []RowError{{Row: 0, Column: "v[1].value", Reason: "null map value", Err: ErrNullValue}}, okRows: []int{1}},
		{name: "record too large names the biggest column",
			field: arrow.Field{Name: "v", Type: utf8, Nullable: true}, json: `["small", "` + strings.Repeat("x", 100) + `", null]`,
			opts:    Options{MaxRecordBytes: 64},
			wantErr: []RowError{{Row: 1, Column: "v", Reason: "over the 64-byte limit", Err: ErrRecordTooLarge}}, okRows: []int{0, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			rec := twoColumns(t, mem, "", tc.field, tc.json)
			defer rec.Release()
			p, err := NewPlan(rec.Schema(), tc.opts)
			if err != nil {
				t.Fatalf("NewPlan: %v", err)
			}
			b := encodeOK(t, p, rec)
			if len(b.Errors)+len(b.Records) != int(rec.NumRows()) {
				t.Fatalf("%d errors + %d records != %d rows", len(b.Errors), len(b.Records), rec.NumRows())
			}
			if diff := cmp.Diff(tc.okRows, b.Rows); diff != "" && !(len(tc.okRows) == 0 && len(b.Rows) == 0) {
				t.Errorf("encoded rows (-want +got):\n%s", diff)
			}
			if len(b.Errors) != len(tc.wantErr) {
				t.Fatalf("got %d row errors %v, want %d", len(b.Errors), b.Errors, len(tc.wantErr))
			}
			for i, got := range b.Errors {
				want := tc.wantErr[i]
				if got.Row != want.Row || got.Column != want.Column || !strings.Contains(got.Reason, want.Reason) || !errors.Is(got, want.Err) {
					t.Errorf("error %d = %+v, want row %d column %q reason containing %q and errors.Is %v", i, got, want.Row, want.Column, want.Reason, want.Err)
				}
				wantPrefix := "row " + itoa(want.Row) + `, column "` + want.Column + `": `
				if !strings.HasPrefix(got.Error(), wantPrefix) {
					t.Errorf("Error() = %q, want prefix %q", got.Error(), wantPrefix)
				}
			}
			// The surviving rows decode with the right id.
			for k, r := range b.Records {
				m := decode(t, p.MessageDescriptor(), r)
				if id := m.Get(p.MessageDescriptor().Fields().ByName("id")).Int(); id != int64(b.Rows[k]) {
					t.Errorf("record %d has id %d, want %d", k, id, b.Rows[k])
				}
			}
		})
	}
}

func idsJSON(n int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(itoa(i))
	}
	b.WriteByte(']')
	return b.String()
}

func TestRecordSizeLimitBoundary(t *testing.T) {
	mem := checkedMem(t)
	// id=0 is 2 bytes (tag, varint); v is 1 tag + 1 length + n bytes.
	rec := twoColumns(t, mem, `[0, 0]`, arrow.Field{Name: "v", Type: arrow.BinaryTypes.String}, `["`+strings.Repeat("a", 60)+`", "`+strings.Repeat("a", 61)+`"]`)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{MaxRecordBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	b := encodeOK(t, p, rec)
	if len(b.Records) != 1 || len(b.Records[0]) != 64 || len(b.Errors) != 1 || b.Errors[0].Row != 1 {
		t.Fatalf("got records %d (len %v) errors %v; want row 0 at exactly 64 bytes ok, row 1 (65 bytes) too large", len(b.Records), lens(b.Records), b.Errors)
	}
	if DefaultMaxRecordBytes != 4*1024*1024-19 {
		t.Errorf("DefaultMaxRecordBytes = %d", DefaultMaxRecordBytes)
	}
}

func lens(rs [][]byte) []int {
	var out []int
	for _, r := range rs {
		out = append(out, len(r))
	}
	return out
}

// Long nested values need multi-byte length prefixes, which endLen makes
// room for by moving the body.
func TestLongNestedLengths(t *testing.T) {
	for _, n := range []int{126, 127, 128, 300, 16383, 16384, 70000} {
		mem := checkedMem(t)
		dt := arrow.StructOf(arrow.Field{Name: "s", Type: arrow.BinaryTypes.String}, arrow.Field{Name: "i", Type: arrow.PrimitiveTypes.Int32})
		long := strings.Repeat("é", n/2) + strings.Repeat("z", n%2)
		arr := fromJSON(t, mem, dt, `[{"s": "`+long+`", "i": 7}, {"s": "", "i": 1}]`)
		rec := oneColumn(arr, false)
		arr.Release()
		checkRoundTrip(t, rec, []string{`v: {s: "` + long + `" i: 7}`, `v: {s: "" i: 1}`}, map[int]string{})
		rec.Release()
	}
}

func TestEncodeSchemaMismatch(t *testing.T) {
	mem := checkedMem(t)
	rec := ReferenceBatch(mem, 3)
	defer rec.Release()
	other := twoColumns(t, mem, `[1]`, arrow.Field{Name: "v", Type: arrow.BinaryTypes.String}, `["x"]`)
	defer other.Release()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Encode(other); !errors.Is(err, ErrSchemaMismatch) {
		t.Errorf("Encode(other schema) error = %v, want ErrSchemaMismatch", err)
	}
	if _, err := p.Encode(nil); !errors.Is(err, ErrSchemaMismatch) {
		t.Errorf("Encode(nil) error = %v, want ErrSchemaMismatch", err)
	}
	// Same names and types but different nullability and metadata: accepted.
	fields := append([]arrow.Field(nil), rec.Schema().Fields()...)
	fields[0].Nullable = true
	md := arrow.NewMetadata([]string{"k"}, []string{"v"})
	same := array.NewRecordBatch(arrow.NewSchema(fields, &md), rec.Columns(), rec.NumRows())
	defer same.Release()
	b, err := p.Encode(same)
	if err != nil || len(b.Records) != 3 {
		t.Fatalf("Encode(equivalent schema) = %d records, %v", len(b.Records), err)
	}
	// Empty batch.
	empty := rec.NewSlice(0, 0)
	defer empty.Release()
	if b, err := p.Encode(empty); err != nil || len(b.Records) != 0 || b.Bytes != 0 {
		t.Errorf("Encode(empty) = %+v, %v", b, err)
	}
}

// Sliced record batches (non-zero offsets in every column, including the
// struct and list children) encode the same rows as the unsliced batch.
func TestSlicedReferenceBatch(t *testing.T) {
	mem := checkedMem(t)
	rec := ReferenceBatch(mem, 300)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	full := encodeOK(t, p, rec)
	s := rec.NewSlice(97, 211)
	defer s.Release()
	part := encodeOK(t, p, s)
	if len(part.Records) != 114 {
		t.Fatalf("sliced batch gave %d records, want 114", len(part.Records))
	}
	ref := (&refEncoder{md: p.MessageDescriptor()}).encode(s, false)
	for k, r := range part.Records {
		if string(r) != string(full.Records[97+k]) {
			t.Fatalf("sliced row %d bytes differ from unsliced row %d", k, 97+k)
		}
		if diff := cmp.Diff(ref[k].msg, decode(t, p.MessageDescriptor(), r), protocmp.Transform()); diff != "" {
			t.Fatalf("row %d differs from reference (-ref +got):\n%s", k, diff)
		}
	}
}

// TestTableNullableLabels: Options.TableNullable decides the label of the
// top-level columns it names, over the Arrow nullability and AllOptional;
// the other columns follow them, STRUCT fields stay optional (also NOT NULL
// ones: the service wants them optional).
func TestTableNullableLabels(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64},
		{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "c", Type: arrow.PrimitiveTypes.Int32},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)},
	}, nil)
	table := map[string]bool{"a": true, "b": false, "s": false, "s.x": false, "l": true, "absent": false}
	for _, allOptional := range []bool{false, true} {
		p, err := NewPlan(schema, Options{AllOptional: allOptional, TableNullable: table})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, f := range p.Descriptor().GetField() {
			got[f.GetName()] = f.GetLabel().String()
		}
		for _, m := range p.Descriptor().GetNestedType() {
			for _, f := range m.GetField() {
				got[m.GetName()+"."+f.GetName()] = f.GetLabel().String()
			}
		}
		c := "LABEL_REQUIRED"
		if allOptional {
			c = "LABEL_OPTIONAL"
		}
		want := map[string]string{"a": "LABEL_OPTIONAL", "b": "LABEL_REQUIRED", "c": c, "s": "LABEL_REQUIRED", "S.x": "LABEL_OPTIONAL", "l": "LABEL_REPEATED"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("all optional %v: labels (-want +got):\n%s", allOptional, diff)
		}
	}
}

// TestTableNullability: every column and STRUCT field of a table's schema,
// also inside ARRAY elements and MAP values, by the path NewPlan names it.
func TestTableNullability(t *testing.T) {
	str := arrow.BinaryTypes.LargeString
	s := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "addr", Type: arrow.StructOf(arrow.Field{Name: "zip", Type: str}, arrow.Field{Name: "geo", Type: arrow.StructOf(arrow.Field{Name: "lat", Type: arrow.PrimitiveTypes.Float64, Nullable: true})}), Nullable: true},
		{Name: "items", Type: arrow.ListOf(arrow.StructOf(arrow.Field{Name: "sku", Type: str})), Nullable: true},
		{Name: "m", Type: arrow.MapOf(str, arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32})), Nullable: true},
		{Name: "tags", Type: arrow.ListOf(str), Nullable: true},
	}, nil)
	want := map[string]bool{"id": false, "addr": true, "addr.zip": false, "addr.geo": false, "addr.geo.lat": true,
		"items": true, "items[].sku": false, "m": true, "m.value.x": false, "tags": true}
	if diff := cmp.Diff(want, TableNullability(s)); diff != "" {
		t.Errorf("TableNullability (-want +got):\n%s", diff)
	}
}

package zerobuslocal

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/variant"
	"google.golang.org/protobuf/encoding/protojson"
)

// nestedVariantDDL has a VARIANT at each nesting a table allows: a STRUCT
// field, an ARRAY element (inside an array of structs too) and a MAP value.
const nestedVariantDDL = "id BIGINT NOT NULL, payload STRUCT<v: VARIANT, items: ARRAY<STRUCT<v: VARIANT>>>, " +
	"vs ARRAY<VARIANT>, m MAP<STRING, VARIANT>"

func nestedVariantTable(t testing.TB) *table {
	t.Helper()
	cols, err := ParseColumns(nestedVariantDDL)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := newTable("main.test.nested_variant", cols, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// nestedVariantBatch builds one row of the table per element of vals, each
// VARIANT of the row holding (meta, value) of that element; a nil element
// puts nulls in every nullable place instead.
func nestedVariantBatch(tb *table, vals [][2][]byte) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, tb.arrow)
	defer b.Release()
	putVariant := func(vb array.Builder, v [2][]byte) {
		sb := vb.(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.BinaryBuilder).Append(v[0])
		sb.FieldBuilder(1).(*array.BinaryBuilder).Append(v[1])
	}
	for i, v := range vals {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		pb := b.Field(1).(*array.StructBuilder)
		lb := b.Field(2).(*array.ListBuilder)
		mb := b.Field(3).(*array.MapBuilder)
		if v[0] == nil {
			pb.AppendNull()
			lb.AppendNull()
			mb.AppendNull()
			continue
		}
		pb.Append(true)
		putVariant(pb.FieldBuilder(0), v)
		ib := pb.FieldBuilder(1).(*array.ListBuilder)
		ib.Append(true)
		isb := ib.ValueBuilder().(*array.StructBuilder)
		isb.Append(true)
		isb.FieldBuilder(0).AppendNull()
		isb.Append(true)
		putVariant(isb.FieldBuilder(0), v)
		lb.Append(true)
		putVariant(lb.ValueBuilder(), v)
		putVariant(lb.ValueBuilder(), v)
		mb.Append(true)
		mb.KeyBuilder().(*array.LargeStringBuilder).Append("k")
		putVariant(mb.ItemBuilder(), v)
	}
	return b.NewRecordBatch()
}

// Nested VARIANTs arrive over Flight as struct{metadata, value} inside the
// STRUCT, ARRAY and MAP; the server stores each as the JSON text a PROTO
// stream sends in that string field.
func TestNestedVariantsStoredAsJSONText(t *testing.T) {
	tb := nestedVariantTable(t)
	docs := []string{`{"a":[1,{"b":null}],"c":"é"}`, `[]`, `-12.5`, ``}
	var vals [][2][]byte
	for _, d := range docs {
		if d == "" {
			vals = append(vals, [2][]byte{})
			continue
		}
		v, err := variant.ParseJSON(d, false)
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, [2][]byte{v.Metadata().Bytes(), v.Bytes()})
	}
	rec := nestedVariantBatch(tb, vals)
	defer rec.Release()
	buf, spans, err := encodeArrowRows(rec, tb.md, tb.arrow, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, sp := range spans {
		msg, err := tb.validator.Decode(buf[sp.start:sp.end])
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		js, _ := protojson.Marshal(msg)
		var got map[string]any
		if err := json.Unmarshal(js, &got); err != nil {
			t.Fatal(err)
		}
		if docs[i] == "" {
			if len(got) != 1 { // the id only: null struct, empty list and map
				t.Fatalf("row %d stored %s", i, js)
			}
			continue
		}
		d := docs[i]
		must := func(s string) any {
			var x any
			if err := json.Unmarshal([]byte(s), &x); err != nil {
				t.Fatal(err)
			}
			return x
		}
		want := must(`{"id":"` + string(rune('0'+i)) + `","payload":{"v":` + quote(d) + `,"items":[{},{"v":` + quote(d) + `}]},` +
			`"vs":[` + quote(d) + `,` + quote(d) + `],"m":{"k":` + quote(d) + `}}`).(map[string]any)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("row %d stored\n%s\nwant\n%v", i, js, want)
		}
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// malformedNested are VARIANT values whose outer array is well formed and
// whose element is not, with the error each must give.
var malformedNested = [][3][]byte{
	// An object naming key 7 of a one-key dictionary.
	{{1, 1, 0, 1, 'a'}, {0x03, 1, 0, 6, 0x02, 1, 7, 0, 1, 0x00}, []byte("names key 7, the dictionary has 1")},
	// An object whose field starts past its values.
	{{1, 1, 0, 1, 'a'}, {0x03, 1, 0, 6, 0x02, 1, 0, 5, 1, 0x00}, []byte("starts past the object's end")},
	// An array whose element offsets run backwards.
	{{1, 0, 0}, {0x03, 1, 0, 6, 0x03, 2, 1, 0, 1, 0x00}, []byte("has offsets 1..0")},
}

// Each malformed nested value fails the batch naming the row, the column
// and the path inside it, at each nesting.
func TestMalformedNestedVariantsRefused(t *testing.T) {
	tb := nestedVariantTable(t)
	for _, m := range malformedNested {
		rec := nestedVariantBatch(tb, [][2][]byte{{m[0], m[1]}})
		_, _, err := encodeArrowRows(rec, tb.md, tb.arrow, 0)
		rec.Release()
		if err == nil || !strings.Contains(err.Error(), `row 0, column "payload": field "v": VARIANT value is malformed`) ||
			!strings.Contains(err.Error(), string(m[2])) {
			t.Fatalf("%x: %v, want the row, column and %q", m[1], err, m[2])
		}
	}
	// The same value as an array element and a map value (the struct is null).
	for c, want := range map[string]string{"vs": `row 0, column "vs": element 0: VARIANT value is malformed`, "m": `row 0, column "m": value of key k: VARIANT value is malformed`} {
		rec := nestedVariantBatch(tb, [][2][]byte{{malformedNested[0][0], malformedNested[0][1]}})
		cols := slices.Clone(rec.Columns())
		for i, name := range []string{"payload", "vs", "m"} {
			if name != c {
				null := array.MakeArrayOfNull(memory.DefaultAllocator, cols[i+1].DataType(), 1)
				defer null.Release()
				cols[i+1] = null
			}
		}
		one := array.NewRecordBatch(rec.Schema(), cols, 1)
		rec.Release()
		_, _, err := encodeArrowRows(one, tb.md, tb.arrow, 0)
		one.Release()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v, want %q", c, err, want)
		}
	}
}

// FuzzNestedVariantRows: malformed VARIANT bytes inside a STRUCT, an ARRAY
// and a MAP fail the batch with an error naming the row and the path, never
// a panic (encodeArrowRows would report one as an internal error); what is
// stored validates and holds JSON text.
func FuzzNestedVariantRows(f *testing.F) {
	for _, doc := range []string{`{"a":[1,"x",{"b":null}]}`, `[[[]]]`, `"s"`} {
		v, err := variant.ParseJSON(doc, false)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v.Metadata().Bytes(), v.Bytes())
	}
	for _, b := range malformedNested {
		f.Add(b[0], b[1])
	}
	tb := nestedVariantTable(f)
	f.Fuzz(func(t *testing.T, meta, value []byte) {
		rec := nestedVariantBatch(tb, [][2][]byte{{meta, value}})
		defer rec.Release()
		buf, spans, err := encodeArrowRows(rec, tb.md, tb.arrow, 0)
		if err != nil {
			if strings.Contains(err.Error(), "internal error") || !strings.Contains(err.Error(), `row 0, column "payload"`) {
				t.Fatalf("error %v", err)
			}
			return
		}
		msg, err := tb.validator.Decode(buf[spans[0].start:spans[0].end])
		if err != nil {
			t.Fatalf("stored record does not validate: %v", err)
		}
		vs := msg.ProtoReflect()
		l := vs.Get(vs.Descriptor().Fields().ByName("vs")).List()
		if l.Len() != 2 || !json.Valid([]byte(l.Get(0).String())) {
			t.Fatalf("stored %v", msg)
		}
	})
}

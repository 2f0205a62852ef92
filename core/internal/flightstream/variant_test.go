package flightstream

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/variant"
)

// encodeVariants turns JSON text into VARIANT values that decode to the
// same JSON, keeps nulls null and names each row it cannot encode.
func TestEncodeVariants(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := array.NewLargeStringBuilder(mem)
	defer b.Release()
	docs := []string{`{"b": [1, 2.5], "a": "x"}`, ``, `{"k": 1, "k": 2}`, `[1,`, `true`}
	b.AppendValues(docs, []bool{true, false, true, true, true})
	in := b.NewArray()
	defer in.Release()
	out, bad, err := encodeVariants(mem, in, variantType())
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if len(bad) != 2 || !strings.Contains(bad[2], "VARIANT") || !strings.Contains(bad[3], "not valid JSON") {
		t.Fatalf("bad rows %v, want rows 2 (duplicate key) and 3 (not JSON)", bad)
	}
	st := out.(*array.Struct)
	if !st.IsNull(1) || !isVariant(st.DataType()) {
		t.Fatalf("row 1 should be null; type %s", st.DataType())
	}
	for _, r := range []int{0, 4} {
		meta := st.Field(0).(*array.LargeBinary).Value(r)
		val := st.Field(1).(*array.LargeBinary).Value(r)
		v, err := variant.New(meta, val)
		if err != nil {
			t.Fatalf("row %d: %v", r, err)
		}
		got, _ := json.Marshal(v)
		var a, b any
		_ = json.Unmarshal(got, &a)
		_ = json.Unmarshal([]byte(docs[r]), &b)
		if ga, _ := json.Marshal(a); string(ga) != mustJSON(t, b) {
			t.Fatalf("row %d decodes to %s, want %s", r, got, docs[r])
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A VARIANT column takes string columns, at the top level and nested.
func TestVariantCastability(t *testing.T) {
	for _, from := range []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.StringView,
		&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}} {
		if !isJSONText(from) {
			t.Fatalf("%s should be JSON text", from)
		}
	}
	if why := castable(arrow.PrimitiveTypes.Int64, variantType()); !strings.Contains(why, "JSON text") {
		t.Fatalf("int64 → VARIANT: %q", why)
	}
	nested := arrow.StructOf(arrow.Field{Name: "v", Type: variantType(), Nullable: true})
	if why := castable(arrow.StructOf(arrow.Field{Name: "v", Type: arrow.BinaryTypes.String}), nested); why != "" {
		t.Fatalf("JSON text for a VARIANT inside a struct: %q", why)
	}
}

// FuzzParseVariant: any text is either refused with an error or encoded;
// valid JSON without repeated keys is always encoded.
func FuzzParseVariant(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `[1,[2,{"b":null}]]`, `"x"`, `1e400`, `{"a":1,"a":2}`, `{`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseVariant(s)
		if err != nil {
			return
		}
		if !json.Valid([]byte(s)) {
			t.Fatalf("%q encoded but is not JSON", s)
		}
		if len(v.Bytes()) == 0 {
			t.Fatalf("%q encoded to no bytes", s)
		}
	})
}

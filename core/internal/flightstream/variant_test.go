package flightstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/variant"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
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
		v, err := protoarrow.ParseVariantJSON(s)
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

// FuzzNestedVariantText: any text given for a VARIANT inside an ARRAY and a
// MAP either leaves its row out, named by path, or is sent as a value that
// decodes to the same JSON; the other row is always sent.
func FuzzNestedVariantText(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":null}]}`, `[]`, `"\u00e9"`, `1e400`, `{"a":1,"a":2}`, `[1,`, "\xff", ``, `{"":[{"":0}]}`, wideObject(130)} {
		f.Add(s)
	}
	vs := arrow.ListOf(arrow.BinaryTypes.String)
	m := arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String)
	target := arrow.NewSchema([]arrow.Field{
		{Name: "vs", Type: arrow.ListOf(variantType()), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, variantType()), Nullable: true},
	}, nil)
	f.Fuzz(func(t *testing.T, s string) {
		mem := memory.DefaultAllocator
		lb := array.NewListBuilder(mem, arrow.BinaryTypes.String)
		defer lb.Release()
		mb := array.NewMapBuilder(mem, arrow.BinaryTypes.String, arrow.BinaryTypes.String, false)
		defer mb.Release()
		for _, doc := range []string{`{"ok":true}`, s} {
			lb.Append(true)
			lb.ValueBuilder().(*array.StringBuilder).AppendValues([]string{`0`, doc}, nil)
			mb.Append(true)
			mb.KeyBuilder().(*array.StringBuilder).Append("k")
			mb.ItemBuilder().(*array.StringBuilder).Append(doc)
		}
		rec := batchOf(t, []arrow.Field{{Name: "vs", Type: vs, Nullable: true}, {Name: "m", Type: m, Nullable: true}}, lb.NewArray(), mb.NewArray())
		defer rec.Release()
		out, bad, keep := applyCast(t, rec, target)
		defer out.Release()
		pv, perr := protoarrow.ParseVariantJSON(s)
		if perr != nil {
			if len(bad) != 1 || bad[0].Row != 1 || bad[0].Column != "vs[1]" || len(keep) != 1 || keep[0] != 0 {
				t.Fatalf("%q: left out %v, keep %v", s, bad, keep)
			}
			return
		}
		if len(bad) != 0 || out.NumRows() != 2 {
			t.Fatalf("%q: left out %v", s, bad)
		}
		l := out.Column(0).(*array.List)
		lo, _ := l.ValueOffsets(1)
		vals := l.ListValues().(*array.Struct)
		meta, val := vals.Field(0).(*array.LargeBinary).Value(int(lo)+1), vals.Field(1).(*array.LargeBinary).Value(int(lo)+1)
		if !bytes.Equal(meta, pv.Metadata().Bytes()) || !bytes.Equal(val, pv.Bytes()) {
			t.Fatalf("%q sent as %x %x, ParseVariantJSON encodes %x %x", s, meta, val, pv.Metadata().Bytes(), pv.Bytes())
		}
		var a, b any
		if json.Unmarshal([]byte(s), &b) != nil {
			return // a number past float64 (a DOUBLE ±Infinity): neither Go's JSON nor the oracle reads it
		}
		got, err := arrowGoVariantJSON(meta, val)
		if errors.Is(err, errArrowGoPanic) {
			// arrow-go v18.5.2's reader panics on some valid values: an
			// object key "" (Metadata.KeyAt indexes key[0], fixed by
			// apache/arrow-go#985) and a key dictionary whose offsets
			// cross byte 255 (loadDictionary's uint8 cursor,
			// apache/arrow-go#1291). Read those with the local server's
			// decoder, which writes an empty array as [].
			if got, err = protoarrow.VariantJSON(meta, val); err != nil || json.Unmarshal(got, &a) != nil || !reflect.DeepEqual(a, b) {
				t.Fatalf("%q sent as %s (%v)", s, got, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if json.Unmarshal(got, &a) != nil || !reflect.DeepEqual(a, emptyArraysNil(b)) {
			t.Fatalf("%q sent as %s", s, got)
		}
	})
}

var errArrowGoPanic = errors.New("arrow-go's variant reader panicked")

// arrowGoVariantJSON is the JSON arrow-go's variant reader (the oracle)
// gives for a value; errArrowGoPanic when it panics.
func arrowGoVariantJSON(meta, val []byte) (out []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%w: %v", errArrowGoPanic, p)
		}
	}()
	v, err := variant.New(meta, val)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// wideObject is an object of n keys "key_0000"...: from 126 its key
// dictionary's offsets take two bytes and cross byte 255.
func wideObject(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"key_%04d":%d`, i, i)
	}
	return b.String() + "}"
}

// emptyArraysNil is x with every empty array replaced by nil: arrow-go's
// VARIANT MarshalJSON (the oracle here) writes an empty array as null.
func emptyArraysNil(x any) any {
	switch v := x.(type) {
	case []any:
		if len(v) == 0 {
			return nil
		}
		for i := range v {
			v[i] = emptyArraysNil(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = emptyArraysNil(v[k])
		}
	}
	return x
}

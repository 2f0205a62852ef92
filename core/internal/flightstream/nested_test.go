package flightstream

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/variant"
)

// fromJSON builds an array of type dt from Arrow's JSON form.
func fromJSON(t *testing.T, mem memory.Allocator, dt arrow.DataType, js string) arrow.Array {
	t.Helper()
	a, _, err := array.FromJSON(mem, dt, strings.NewReader(js))
	if err != nil {
		t.Fatalf("%s: %v", dt, err)
	}
	return a
}

// variantText decodes one VARIANT value of a struct{metadata, value} array
// back into a Go value ("<null>" for a null).
func variantText(t *testing.T, a arrow.Array, i int) any {
	t.Helper()
	st := a.(*array.Struct)
	if st.IsNull(i) {
		return "<null>"
	}
	v, err := variant.New(st.Field(0).(*array.LargeBinary).Value(i), st.Field(1).(*array.LargeBinary).Value(i))
	if err != nil {
		t.Fatalf("element %d: %v", i, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	return x
}

func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var x any
	if err := json.Unmarshal([]byte(s), &x); err != nil {
		t.Fatal(err)
	}
	return x
}

// JSON text for a VARIANT inside a STRUCT, an ARRAY and a MAP is encoded
// in place; a value that does not parse leaves its row out, named by the
// path the protobuf path uses; nulls at every level stay null, and values
// under a null parent are not looked at.
func TestNestedVariantFromJSONText(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	item := arrow.StructOf(arrow.Field{Name: "v", Type: arrow.BinaryTypes.String, Nullable: true})
	payload := arrow.StructOf(
		arrow.Field{Name: "v", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "items", Type: arrow.ListOf(item), Nullable: true},
	)
	vs := arrow.ListOf(arrow.BinaryTypes.String)
	m := arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String)
	rows := []struct{ payload, vs, m string }{
		{`{"v": "{\"a\": [1, 2.5]}", "items": [{"v": "1"}, {"v": "\"x\""}]}`, `["{}", "[true]"]`, `[{"key": "k", "value": "{\"z\": null}"}]`},
		{`null`, `null`, `null`},
		{`{"v": null, "items": null}`, `[]`, `[]`},
		{`{"v": "2", "items": [{"v": null}, {"v": "not json"}]}`, `["3"]`, `[{"key": "k", "value": "4"}]`}, // payload.items[1].v
		{`{"v": "5", "items": []}`, `["6", "{\"k\":1,\"k\":2}"]`, `[]`},                                    // vs[1]
		{`{"v": "7", "items": []}`, `[]`, `[{"key": "a", "value": "8"}, {"key": "b", "value": "[1,"}]`},    // m[1].value
	}
	var pj, vj, mj []string
	for _, r := range rows {
		pj, vj, mj = append(pj, r.payload), append(vj, r.vs), append(mj, r.m)
	}
	fields := []arrow.Field{
		{Name: "payload", Type: payload, Nullable: true},
		{Name: "vs", Type: vs, Nullable: true},
		{Name: "m", Type: m, Nullable: true},
	}
	// A value under a null struct is not looked at: row 1's payload is null
	// over a child holding bad text.
	pa := fromJSON(t, mem, payload, "["+strings.Join(pj, ",")+"]")
	rec := batchOf(t, fields, pa, fromJSON(t, mem, vs, "["+strings.Join(vj, ",")+"]"), fromJSON(t, mem, m, "["+strings.Join(mj, ",")+"]"))
	defer rec.Release()

	vItem := arrow.StructOf(arrow.Field{Name: "v", Type: variantType(), Nullable: true})
	target := arrow.NewSchema([]arrow.Field{
		{Name: "payload", Type: arrow.StructOf(
			arrow.Field{Name: "v", Type: variantType(), Nullable: true},
			arrow.Field{Name: "items", Type: arrow.ListOf(vItem), Nullable: true},
		), Nullable: true},
		{Name: "vs", Type: arrow.ListOf(variantType()), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, variantType()), Nullable: true},
	}, nil)
	out, bad, keep := applyCast(t, rec, target)
	defer out.Release()
	want := []NullRow{{Row: 3, Column: "payload.items[1].v"}, {Row: 4, Column: "vs[1]"}, {Row: 5, Column: "m[1].value"}}
	if len(bad) != len(want) {
		t.Fatalf("left out %v, want %v", bad, want)
	}
	for k, b := range bad {
		if b.Row != want[k].Row || b.Column != want[k].Column || !strings.Contains(b.Reason, "VARIANT") {
			t.Fatalf("left out %v, want %v (with a VARIANT reason)", bad, want)
		}
	}
	if !reflect.DeepEqual(keep, []int{0, 1, 2}) || !out.Schema().Equal(target) {
		t.Fatalf("keep %v, schema %s", keep, out.Schema())
	}
	p := out.Column(0).(*array.Struct)
	items := p.Field(1).(*array.List)
	ivals := items.ListValues().(*array.Struct).Field(0)
	lv := out.Column(1).(*array.List)
	ma := out.Column(2).(*array.Map)
	check := func(what string, got any, js string) {
		t.Helper()
		var w any = "<null>"
		if js != "" {
			w = jsonValue(t, js)
		}
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("%s = %#v, want %s", what, got, js)
		}
	}
	check("payload.v row 0", variantText(t, p.Field(0), 0), `{"a": [1, 2.5]}`)
	lo, hi := items.ValueOffsets(0)
	if hi-lo != 2 {
		t.Fatalf("row 0 items: %d", hi-lo)
	}
	check("payload.items[0].v", variantText(t, ivals, int(lo)), `1`)
	check("payload.items[1].v", variantText(t, ivals, int(lo)+1), `"x"`)
	lo, _ = lv.ValueOffsets(0)
	check("vs[0]", variantText(t, lv.ListValues(), int(lo)), `{}`)
	check("vs[1]", variantText(t, lv.ListValues(), int(lo)+1), `[true]`)
	lo, _ = ma.ValueOffsets(0)
	if k := ma.Keys().(*array.LargeString).Value(int(lo)); k != "k" {
		t.Fatalf("m key %q", k)
	}
	check("m[0].value", variantText(t, ma.Items(), int(lo)), `{"z": null}`)
	// Row 1: every column null; row 2: null fields, empty list and map.
	if !p.IsNull(1) || !lv.IsNull(1) || !ma.IsNull(1) {
		t.Fatal("row 1 should be null in every column")
	}
	check("payload.v row 2", variantText(t, p.Field(0), 2), "")
	if !p.Field(1).IsNull(2) || lv.IsNull(2) || ma.IsNull(2) {
		t.Fatal("row 2: items should be null, vs and m empty")
	}
	if lo, hi := lv.ValueOffsets(2); lo != hi {
		t.Fatal("row 2: vs should be empty")
	}
}

// Nulls a protobuf record cannot hold (an array element, a map value, a
// NOT NULL struct field) fail their row only, named by path; null lists,
// maps and structs, and nulls under a null struct, do not.
func TestNestedNullsLeaveTheirRowOut(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	st := arrow.StructOf(arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64}, arrow.Field{Name: "o", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	xs := arrow.ListOf(arrow.PrimitiveTypes.Int64)
	m := arrow.MapOf(arrow.BinaryTypes.LargeString, arrow.PrimitiveTypes.Int64)
	fields := []arrow.Field{{Name: "s", Type: st, Nullable: true}, {Name: "xs", Type: xs, Nullable: true}, {Name: "m", Type: m, Nullable: true}}
	rec := batchOf(t, fields,
		fromJSON(t, mem, st, `[{"n": 1, "o": null}, {"n": null, "o": 2}, null, {"n": 3, "o": 4}, {"n": 5, "o": 6}, {"n": 7, "o": 8}]`),
		fromJSON(t, mem, xs, `[[1], [2], [3], [4, null], null, []]`),
		fromJSON(t, mem, m, `[[], [], [{"key": "a", "value": 1}], null, [], [{"key": "a", "value": 1}, {"key": "b", "value": null}]]`),
	)
	defer rec.Release()
	// The struct's NOT NULL field under a null struct (row 2) holds a null
	// in Arrow's child array; it is not looked at.
	out, bad, keep := applyCast(t, rec, nil)
	defer out.Release()
	want := []NullRow{{1, "s.n", NullInField}, {3, "xs[1]", NullElement}, {5, "m[1].value", NullMapValue}}
	if !reflect.DeepEqual(bad, want) || !reflect.DeepEqual(keep, []int{0, 2, 4}) {
		t.Fatalf("left out %v keep %v, want %v", bad, keep, want)
	}
	if got := out.Column(0).(*array.Struct).Field(1).String(); got != "[(null) (null) 6]" {
		t.Fatalf("s.o kept: %s", got)
	}
}

// Leaves inside nested columns get the conversions of top-level columns:
// views, fixed-size lists, decimals, TIME, dictionaries.
func TestNestedLeavesCastLikeColumns(t *testing.T) {
	mem := memory.DefaultAllocator
	dec := &arrow.Decimal128Type{Precision: 10, Scale: 2}
	st := arrow.StructOf(
		arrow.Field{Name: "d", Type: dec, Nullable: true},
		arrow.Field{Name: "t", Type: arrow.FixedWidthTypes.Time32ms, Nullable: true},
		arrow.Field{Name: "fs", Type: arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int16), Nullable: true},
		arrow.Field{Name: "sv", Type: arrow.ListOf(arrow.BinaryTypes.StringView), Nullable: true},
	)
	sa := fromJSON(t, mem, st, `[{"d": "123.45", "t": 1500, "fs": [1, 2], "sv": ["a", "bé"]}, null, {"d": null, "t": null, "fs": null, "sv": null}]`)
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	lb := array.NewListBuilderWithField(mem, arrow.Field{Name: "item", Type: dt, Nullable: true})
	db := lb.ValueBuilder().(*array.BinaryDictionaryBuilder)
	for _, row := range [][]string{{"x", "y"}, {}, {"x"}} {
		lb.Append(true)
		for _, s := range row {
			if err := db.AppendString(s); err != nil {
				t.Fatal(err)
			}
		}
	}
	la := lb.NewArray()
	lb.Release()
	fields := []arrow.Field{{Name: "s", Type: st, Nullable: true}, {Name: "tags", Type: la.DataType(), Nullable: true}}
	rec := batchOf(t, fields, sa, la)
	defer rec.Release()
	_, target, out := castCanonical(t, rec)
	defer out.Release()
	if !out.Schema().Equal(target) {
		t.Fatalf("schema %s, want %s", out.Schema(), target)
	}
	if got := out.Column(0).String(); got != `{["123.45" (null) (null)] [1500000 (null) (null)] [[1 2] (null) (null)] [["a" "bé"] (null) (null)]}` {
		t.Fatalf("cast: %s", got)
	}
	if got := out.Column(1).String(); got != `[["x" "y"] [] ["x"]]` {
		t.Fatalf("dictionary elements: %s", got)
	}
}

// A slice of a larger batch (offsets inside the nested arrays) casts only
// its own rows and names its own row indices.
func TestNestedVariantSliced(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	vs := arrow.ListOf(arrow.BinaryTypes.String)
	var docs []string
	for i := range 100 {
		d := `"[` + strings.Repeat("1,", i%3) + `0]"`
		if i%10 == 7 {
			d = `"{"` // not JSON
		}
		docs = append(docs, "["+d+", \"2\"]")
	}
	whole := batchOf(t, []arrow.Field{{Name: "vs", Type: vs, Nullable: true}}, fromJSON(t, mem, vs, "["+strings.Join(docs, ",")+"]"))
	defer whole.Release()
	target := arrow.NewSchema([]arrow.Field{{Name: "vs", Type: arrow.ListOf(variantType()), Nullable: true}}, nil)
	c, err := PlanCast("t", whole.Schema(), target)
	if err != nil {
		t.Fatal(err)
	}
	part := whole.NewSlice(30, 60)
	defer part.Release()
	out, bad, keep, err := c.Apply(context.Background(), part)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if len(bad) != 3 || bad[0].Row != 7 || bad[1].Row != 17 || bad[2].Row != 27 || bad[0].Column != "vs[0]" || len(keep) != 27 {
		t.Fatalf("left out %v, keep %d", bad, len(keep))
	}
	l := out.Column(0).(*array.List)
	for k, r := range keep {
		lo, hi := l.ValueOffsets(k)
		if hi-lo != 2 {
			t.Fatalf("row %d: %d elements", r, hi-lo)
		}
		if got := variantText(t, l.ListValues(), int(lo)).([]any); len(got) != (30+r)%3+1 {
			t.Fatalf("row %d: %v", r, got)
		}
	}
}

// Strings that are not UTF-8 are found value by value, also when the run of
// all values is UTF-8 (a character split across two values) and after a
// slice; nulls are not looked at.
func TestInvalidUTF8Values(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := array.NewLargeStringBuilder(mem)
	defer b.Release()
	b.AppendValues([]string{"ok", "\xc3", "\xa9", "é✓", "bad\xff", "x"}, []bool{true, true, true, true, false, true})
	a := b.NewArray()
	defer a.Release()
	got := invalidUTF8(a)
	if len(got) != 2 || got[0].i != 1 || got[1].i != 2 || !strings.Contains(got[0].reason, "byte 0 of 1 is 0xc3") {
		t.Fatalf("invalid %v, want values 1 and 2", got)
	}
	sl := array.NewSlice(a, 2, 6)
	defer sl.Release()
	if got := invalidUTF8(sl); len(got) != 1 || got[0].i != 0 {
		t.Fatalf("slice: invalid %v, want value 0", got)
	}
	// "ok", "\xc3", "\xa9": the run "ok\xc3\xa9" is UTF-8, its values are not.
	sl3 := array.NewSlice(a, 0, 3)
	defer sl3.Release()
	if got := invalidUTF8(sl3); len(got) != 2 || got[0].i != 1 || got[1].i != 2 {
		t.Fatalf("split character: invalid %v, want values 1 and 2", got)
	}
	sl2 := array.NewSlice(a, 3, 4)
	defer sl2.Release()
	if got := invalidUTF8(sl2); got != nil {
		t.Fatalf("valid slice: %v", got)
	}
}

// A map cast in a slice of a larger batch sends the slice's own entries,
// from offset 0.
func TestSlicedMapKeepsItsEntries(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	m32 := arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32)
	whole := batchOf(t, []arrow.Field{{Name: "m", Type: m32, Nullable: true}},
		fromJSON(t, mem, m32, `[[{"key": "a", "value": 1}], [{"key": "b", "value": 2}, {"key": "c", "value": 3}], [{"key": "d", "value": 4}]]`))
	defer whole.Release()
	target := arrow.NewSchema([]arrow.Field{{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, arrow.PrimitiveTypes.Int64), Nullable: true}}, nil)
	c, err := PlanCast("t", whole.Schema(), target)
	if err != nil {
		t.Fatal(err)
	}
	part := whole.NewSlice(1, 3)
	defer part.Release()
	out, _, _, err := c.Apply(context.Background(), part)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	m := out.Column(0).(*array.Map)
	if got := m.String(); got != `[{["b" "c"] [2 3]} {["d"] [4]}]` || m.Data().Offset() != 0 || m.ListValues().Data().Offset() != 0 {
		t.Fatalf("sliced map sent %s (offsets %d, %d)", got, m.Data().Offset(), m.ListValues().Data().Offset())
	}
}

// A VARIANT given as struct{metadata, value} with one part null fails its
// row only (the server refuses such a value); a null VARIANT is sent.
func TestVariantPartsNull(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	v, err := variant.ParseJSON(`{"a":1}`, false)
	if err != nil {
		t.Fatal(err)
	}
	vt := variantType().(*arrow.StructType)
	lt := arrow.ListOf(vt)
	lb := array.NewListBuilder(mem, vt)
	defer lb.Release()
	sb := lb.ValueBuilder().(*array.StructBuilder)
	for r := range 3 {
		lb.Append(true)
		sb.Append(true)
		meta, val := sb.FieldBuilder(0).(*array.BinaryBuilder), sb.FieldBuilder(1).(*array.BinaryBuilder)
		meta.Append(v.Metadata().Bytes())
		if r == 1 {
			val.AppendNull()
		} else {
			val.Append(v.Bytes())
		}
	}
	lb.AppendNull()
	rec := batchOf(t, []arrow.Field{{Name: "vs", Type: lt, Nullable: true}, {Name: "top", Type: vt, Nullable: true}}, lb.NewArray(), array.MakeArrayOfNull(mem, vt, 4))
	defer rec.Release()
	out, bad, keep := applyCast(t, rec, nil)
	defer out.Release()
	if len(bad) != 1 || bad[0].Row != 1 || bad[0].Column != "vs[0]" || !strings.Contains(bad[0].Reason, "without metadata or value") || !reflect.DeepEqual(keep, []int{0, 2, 3}) {
		t.Fatalf("left out %v, keep %v", bad, keep)
	}
}

// A list view whose rows reorder and share elements is sent as a list of
// each row's own elements, and a slice of a run-end encoded column as its
// values (tests_go covers an extension column).
func TestViewsAndRunsDecoded(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	vals := fromJSON(t, mem, arrow.PrimitiveTypes.Int32, `[10, 11, 12, 13]`)
	defer vals.Release()
	i32 := func(v ...int32) *memory.Buffer { return memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(v)) }
	lvType := arrow.ListViewOf(arrow.PrimitiveTypes.Int32)
	// rows: [12 13], [10 11], null, [11 12]
	lvd := array.NewData(lvType, 4, []*memory.Buffer{memory.NewBufferBytes([]byte{0b1011}), i32(2, 0, 0, 1), i32(2, 2, 0, 2)},
		[]arrow.ArrayData{vals.Data()}, 1, 0)
	lv := array.MakeFromData(lvd)
	lvd.Release()
	reeType := arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int16, arrow.BinaryTypes.String)
	ends := fromJSON(t, mem, arrow.PrimitiveTypes.Int16, `[2, 5, 6]`)
	rv := fromJSON(t, mem, arrow.BinaryTypes.String, `["a", null, "c"]`)
	reeWhole := array.NewRunEndEncodedArray(ends, rv, 6, 0)
	ends.Release()
	rv.Release()
	ree := array.NewSlice(reeWhole, 1, 5) // a, null, null, null
	reeWhole.Release()
	rec := batchOf(t, []arrow.Field{{Name: "lv", Type: lvType, Nullable: true}, {Name: "ree", Type: reeType, Nullable: true}}, lv, ree)
	defer rec.Release()
	_, target, out := castCanonical(t, rec)
	defer out.Release()
	if !out.Schema().Equal(target) || target.Field(0).Type.ID() != arrow.LIST || target.Field(1).Type.ID() != arrow.LARGE_STRING {
		t.Fatalf("schema %s", out.Schema())
	}
	if got := out.Column(0).String() + " " + out.Column(1).String(); got != `[[12 13] [10 11] (null) [11 12]] ["a" (null) (null) (null)]` {
		t.Fatalf("decoded %s", got)
	}
}

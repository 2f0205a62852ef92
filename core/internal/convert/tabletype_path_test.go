package convert

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

func TestTableTypeAt(t *testing.T) {
	i64, str := arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.LargeString
	inner := arrow.StructOf(arrow.Field{Name: "sku", Type: i64})
	types := map[string]arrow.DataType{
		"s":     arrow.StructOf(arrow.Field{Name: "x", Type: i64}, arrow.Field{Name: "t", Type: inner}),
		"items": arrow.ListOf(inner),
		"m":     arrow.MapOf(str, inner),
		"n.x":   str, // named directly: wins
		"n":     arrow.StructOf(arrow.Field{Name: "x", Type: i64}),
	}
	for path, want := range map[string]arrow.DataType{
		"s": types["s"], "s.x": i64, "s.t": inner, "s.t.sku": i64, "items[]": inner, "items[].sku": i64,
		"m.key": str, "m.value": inner, "m.value.sku": i64, "n.x": str,
		"s.y": nil, "s[]": nil, "items.sku": nil, "m.other": nil, "s.x.y": nil, "q.x": nil, "s.x[]": nil,
	} {
		got, ok := tableTypeAt(types, path)
		if ok != (want != nil) || (ok && !arrow.TypeEqual(got, want)) {
			t.Errorf("%s: %v %v, want %v", path, got, ok, want)
		}
	}
}

// A STRUCT field of the null type is all nulls of the table's type: a
// nullable one omitted, a NOT NULL one failing each row whose STRUCT is
// not null; MAP values of the null type fail the rows with an entry; a MAP
// key of the null type is refused.
func TestNullTypeStructField(t *testing.T) {
	mem := checkedMem(t)
	st := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.Null, Nullable: true}, arrow.Field{Name: "y", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	mt := arrow.MapOf(arrow.BinaryTypes.String, arrow.Null)
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: st, Nullable: true}, {Name: "m", Type: mt, Nullable: true}}, nil)
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[{"s": {"y": 1}, "m": []}, {"s": null}, {"s": {"y": 2}, "m": [{"key": "k", "value": null}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	tableS := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
		arrow.Field{Name: "y", Type: arrow.PrimitiveTypes.Int32, Nullable: true})
	types := map[string]arrow.DataType{"s": tableS, "m": arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64)}
	if _, err := NewPlan(schema, Options{}); err == nil || !strings.Contains(err.Error(), `"s.x"`) {
		t.Fatalf("without the table's types: %v", err)
	}
	for _, notNull := range []bool{false, true} {
		p, err := NewPlan(schema, Options{TableType: types, TableNullable: map[string]bool{"s.x": !notNull}})
		if err != nil {
			t.Fatal(err)
		}
		b := encodeOK(t, p, rec)
		var got []string
		for _, e := range b.Errors {
			got = append(got, e.Error())
		}
		want := []string{`row 2, column "m[0].value": ` + NullMapValue}
		if notNull {
			want = []string{`row 0, column "s.x": ` + NullInNotNull, `row 2, column "s.x": ` + NullInNotNull}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("NOT NULL %v: row errors\n%s\nwant\n%s", notNull, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if !notNull {
			if len(b.Records) != 2 {
				t.Fatalf("%d records", len(b.Records))
			}
			if m := decode(t, p.MessageDescriptor(), b.Records[0]); m.Get(m.Descriptor().Fields().ByName("s")).Message().Has(m.Descriptor().Fields().ByName("s").Message().Fields().ByName("x")) {
				t.Errorf("row 0 s.x is present")
			}
		}
	}
	keys := arrow.NewSchema([]arrow.Field{{Name: "m", Type: arrow.MapOf(arrow.Null, arrow.BinaryTypes.String), Nullable: true}}, nil)
	if _, err := NewPlan(keys, Options{TableType: map[string]arrow.DataType{"m": arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String)}}); err == nil || !strings.Contains(err.Error(), `"m.key"`) {
		t.Errorf("a null-type MAP key: %v", err)
	}
}

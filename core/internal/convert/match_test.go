package convert

import (
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/encoding/prototext"
)

func TestMatchFields(t *testing.T) {
	f := func(names ...string) []arrow.Field {
		var out []arrow.Field
		for _, n := range names {
			out = append(out, arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Int32})
		}
		return out
	}
	cases := []struct {
		batch, table []string
		src, extra   []int
	}{
		{[]string{"a", "b"}, []string{"a", "b"}, []int{0, 1}, nil},
		{[]string{"b", "a"}, []string{"a", "b"}, []int{1, 0}, nil},
		{[]string{"ID", "x"}, []string{"x", "id"}, []int{1, 0}, nil},
		{[]string{"Id", "id"}, []string{"id"}, []int{1}, []int{0}},        // exact first
		{[]string{"a", "zz"}, []string{"b", "a"}, []int{-1, 0}, []int{1}}, // missing b, extra zz
		{[]string{"X", "x"}, []string{"x", "y"}, []int{1, -1}, []int{0}},
		{[]string{"Ab", "aB"}, []string{"ab"}, []int{-1}, []int{0, 1}}, // two candidates: none
	}
	for _, c := range cases {
		src, extra := MatchFields(f(c.batch...), f(c.table...))
		if !slices.Equal(src, c.src) || !slices.Equal(extra, c.extra) {
			t.Errorf("MatchFields(%v, %v) = %v, %v; want %v, %v", c.batch, c.table, src, extra, c.src, c.extra)
		}
	}
}

// matchTable is the table of the matching tests: a column order, a STRUCT
// (also as ARRAY elements and MAP values) whose field order and spelling
// differ from the batch's (matchBatch).
func matchTable() *arrow.Schema {
	str := arrow.BinaryTypes.String
	s := arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b", Type: str, Nullable: true},
		arrow.Field{Name: "gone", Type: arrow.PrimitiveTypes.Int32, Nullable: true}, // the batch lacks it
	)
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: s, Nullable: true},
		{Name: "items", Type: arrow.ListOf(s), Nullable: true},
		{Name: "m", Type: arrow.MapOf(str, s), Nullable: true},
		{Name: "note", Type: str, Nullable: true},
	}, nil)
}

func matchBatch(t *testing.T) arrow.RecordBatch {
	str := arrow.BinaryTypes.String
	s := arrow.StructOf(
		arrow.Field{Name: "B", Type: str, Nullable: true},
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "note", Type: str, Nullable: true},
		{Name: "m", Type: arrow.MapOf(str, s), Nullable: true},
		{Name: "items", Type: arrow.ListOf(s), Nullable: true},
		{Name: "s", Type: s, Nullable: true},
		{Name: "ID", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	rec, _, err := array.RecordFromJSON(checkedMem(t), schema, strings.NewReader(`[
		{"note": "n0", "m": [{"key": "k", "value": {"B": "mb", "a": 7}}], "items": [{"B": "ib", "a": 5}, {"B": null, "a": 6}], "s": {"B": "sb", "a": 3}, "ID": 1},
		{"note": null, "m": null, "items": null, "s": null, "ID": 2}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// With the table's fields (Options.TableFields), columns and STRUCT fields
// are matched by name: the descriptor lists them in the table's order and
// spelling, a nullable STRUCT field the batch lacks is listed and never
// set, and each value is read from its matched batch field.
func TestPlanMatchesTheTablesOrderAndSpelling(t *testing.T) {
	rec := matchBatch(t)
	defer rec.Release()
	table := matchTable()
	p, err := NewPlan(rec.Schema(), Options{TableFields: TableLevels(table), TableNullable: TableNullability(table)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range p.Descriptor().GetField() {
		names = append(names, f.GetName())
	}
	if want := []string{"id", "s", "items", "m", "note"}; !slices.Equal(names, want) {
		t.Fatalf("descriptor columns %v, want %v", names, want)
	}
	for _, m := range p.Descriptor().GetNestedType() {
		if m.GetOptions().GetMapEntry() {
			continue
		}
		var fs []string
		for _, f := range m.GetField() {
			fs = append(fs, f.GetName())
		}
		if want := []string{"a", "b", "gone"}; !slices.Equal(fs, want) {
			t.Errorf("message %s has fields %v, want %v", m.GetName(), fs, want)
		}
	}
	b := encodeOK(t, p, rec)
	defer b.Release()
	if len(b.Errors) != 0 || len(b.Records) != 2 {
		t.Fatalf("errors %v, %d records", b.Errors, len(b.Records))
	}
	want := []string{
		`id: 1 s {a: 3 b: "sb"} items {a: 5 b: "ib"} items {a: 6} m {key: "k" value {a: 7 b: "mb"}} note: "n0"`,
		`id: 2`,
	}
	for i, w := range want {
		got := decode(t, p.MessageDescriptor(), b.Records[i])
		if exp := parseText(t, p.MessageDescriptor(), w); !equalMsg(got, exp) {
			t.Errorf("row %d: %s, want %s", i, prototext.Format(got), w)
		}
	}

	// Without the table's fields the descriptor follows the batch.
	p2, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := p2.Descriptor().GetField()[0].GetName(); got != "note" {
		t.Errorf("without the table: first field %q, want the batch's first, note", got)
	}
}

// A batch field the table lacks stays in the descriptor (after the table's
// fields) for the service to refuse by name; a NOT NULL table field the
// batch lacks is left out, as without matching.
func TestPlanMatchLeavesExtrasAndMissingNotNull(t *testing.T) {
	str := arrow.BinaryTypes.String
	table := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "k", Type: str}, arrow.Field{Name: "v", Type: str, Nullable: true}), Nullable: true},
	}, nil)
	batch := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: str, Nullable: true}, arrow.Field{Name: "v", Type: str, Nullable: true}), Nullable: true},
		{Name: "extra", Type: str, Nullable: true},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	p, err := NewPlan(batch, Options{TableFields: TableLevels(table)})
	if err != nil {
		t.Fatal(err)
	}
	var sub []string
	for _, f := range p.Descriptor().GetNestedType()[0].GetField() {
		sub = append(sub, f.GetName())
	}
	if want := []string{"v", "x"}; !slices.Equal(sub, want) {
		t.Errorf("STRUCT fields %v, want %v (the NOT NULL k the batch lacks left out, x the table lacks last)", sub, want)
	}
	var names []string
	for _, f := range p.Descriptor().GetField() {
		names = append(names, f.GetName())
	}
	if want := []string{"id", "s", "extra"}; !slices.Equal(names, want) {
		t.Errorf("columns %v, want %v", names, want)
	}
}

// A batch already in the table's order and spelling gets the plan it gets
// without the table's fields: no indirection at any level (the per-batch
// path is the one without matching), the same descriptor.
func TestPlanInTableOrderHasNoIndirection(t *testing.T) {
	rec := ReferenceBatch(checkedMem(t), 10)
	defer rec.Release()
	s := rec.Schema()
	p, err := NewPlan(s, Options{TableFields: TableLevels(s)})
	if err != nil {
		t.Fatal(err)
	}
	if p.from != nil {
		t.Fatalf("plan reads columns through %v", p.from)
	}
	var walk func(n *node)
	walk = func(n *node) {
		if n == nil {
			return
		}
		if n.from != nil {
			t.Errorf("node %q reads fields through %v", n.name, n.from)
		}
		walk(n.inner)
		walk(n.elem)
		walk(n.key)
		walk(n.val)
		for _, c := range n.fields {
			walk(c)
		}
	}
	for _, n := range p.cols {
		walk(n)
	}
	plain, err := NewPlan(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := prototext.Format(p.Descriptor()), prototext.Format(plain.Descriptor()); got != want {
		t.Errorf("descriptor with the table's fields\n%s\nwithout\n%s", got, want)
	}
}

// MatchStruct gives nil (nothing to remap) for a STRUCT in the table's
// order and spelling, MatchFields' answer otherwise.
func TestMatchStruct(t *testing.T) {
	i := arrow.PrimitiveTypes.Int32
	ab := arrow.StructOf(arrow.Field{Name: "a", Type: i}, arrow.Field{Name: "b", Type: i})
	if src, extra := MatchStruct(ab, ab); src != nil || extra != nil {
		t.Errorf("same STRUCT: %v, %v; want nil, nil", src, extra)
	}
	bA := arrow.StructOf(arrow.Field{Name: "b", Type: i}, arrow.Field{Name: "A", Type: i}, arrow.Field{Name: "z", Type: i})
	if src, extra := MatchStruct(bA, ab); !slices.Equal(src, []int{1, 0}) || !slices.Equal(extra, []int{2}) {
		t.Errorf("reordered STRUCT: %v, %v; want [1 0], [2]", src, extra)
	}
}

// A nullable STRUCT field the batch lacks whose table type holds a VARIANT
// is described as the protobuf path sends a VARIANT: a string.
func TestPlanMissingFieldWithVariantIsText(t *testing.T) {
	i64 := arrow.PrimitiveTypes.Int64
	variant := arrow.StructOf(
		arrow.Field{Name: "metadata", Type: arrow.BinaryTypes.LargeBinary},
		arrow.Field{Name: "value", Type: arrow.BinaryTypes.LargeBinary},
	)
	table := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.StructOf(
			arrow.Field{Name: "a", Type: i64, Nullable: true},
			arrow.Field{Name: "inner", Type: arrow.StructOf(arrow.Field{Name: "v", Type: variant, Nullable: true}), Nullable: true},
			arrow.Field{Name: "vs", Type: arrow.ListOf(variant), Nullable: true},
		), Nullable: true},
	}, nil)
	batch := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "a", Type: i64, Nullable: true}), Nullable: true}}, nil)
	p, err := NewPlan(batch, Options{TableFields: TableLevels(table)})
	if err != nil {
		t.Fatal(err)
	}
	md := p.MessageDescriptor()
	s := md.Fields().ByName("s").Message()
	if k := s.Fields().ByName("inner").Message().Fields().ByName("v").Kind().String(); k != "string" {
		t.Errorf("s.inner.v is %s, want string", k)
	}
	if k := s.Fields().ByName("vs").Kind().String(); k != "string" || !s.Fields().ByName("vs").IsList() {
		t.Errorf("s.vs is %s, want repeated string", k)
	}
}

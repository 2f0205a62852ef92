package flightstream

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The cast matches columns and STRUCT fields (also of ARRAY elements and
// MAP values) to the table's by name, exact first, else by case: the
// batch sent has the table's order and spelling, a nullable STRUCT field
// the batch lacks is all nulls.
func TestCastMatchesStructFieldsByName(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	str := arrow.BinaryTypes.LargeString
	ts := arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b", Type: str, Nullable: true},
		arrow.Field{Name: "gone", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	)
	table := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: ts, Nullable: true},
		{Name: "items", Type: arrow.ListOf(ts), Nullable: true},
		{Name: "m", Type: arrow.MapOf(str, ts), Nullable: true},
		{Name: "note", Type: str, Nullable: true},
	}, nil)
	bs := arrow.StructOf(
		arrow.Field{Name: "B", Type: str, Nullable: true},
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	)
	batch := arrow.NewSchema([]arrow.Field{
		{Name: "note", Type: str, Nullable: true},
		{Name: "m", Type: arrow.MapOf(str, bs), Nullable: true},
		{Name: "items", Type: arrow.ListOf(bs), Nullable: true},
		{Name: "s", Type: bs, Nullable: true},
		{Name: "ID", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, batch, strings.NewReader(`[
		{"note": "n0", "m": [{"key": "k", "value": {"B": "mb", "a": 7}}], "items": [{"B": "ib", "a": 5}, {"B": null, "a": 6}], "s": {"B": "sb", "a": 3}, "ID": 1},
		{"note": null, "m": null, "items": null, "s": null, "ID": 2}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	c, err := PlanCast("t", batch, table)
	if err != nil {
		t.Fatal(err)
	}
	out, nulls, _, err := c.ApplyWith(context.Background(), mem, rec)
	if err != nil || len(nulls) != 0 {
		t.Fatalf("Apply: %v, %v", err, nulls)
	}
	defer out.Release()
	if !out.Schema().Equal(table) {
		t.Fatalf("sent schema %s, want the table's %s", out.Schema(), table)
	}
	want, _, err := array.RecordFromJSON(mem, table, strings.NewReader(`[
		{"id": 1, "s": {"a": 3, "b": "sb", "gone": null}, "items": [{"a": 5, "b": "ib", "gone": null}, {"a": 6, "b": null, "gone": null}], "m": [{"key": "k", "value": {"a": 7, "b": "mb", "gone": null}}], "note": "n0"},
		{"id": 2, "s": null, "items": null, "m": null, "note": null}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	defer want.Release()
	if !array.RecordEqual(out, want) {
		t.Fatalf("sent\n%v\nwant\n%v", out, want)
	}
}

// A STRUCT field the table lacks is refused naming it, and so is a NOT NULL
// table field the batch lacks; a column the table lacks is named too.
func TestCastRefusesUnmatchedStructFields(t *testing.T) {
	i64 := arrow.PrimitiveTypes.Int64
	table := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: i64},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "k", Type: i64}, arrow.Field{Name: "v", Type: i64, Nullable: true}), Nullable: true},
	}, nil)
	cases := []struct {
		batch []arrow.Field
		want  string
	}{
		{[]arrow.Field{{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "v", Type: i64}, arrow.Field{Name: "k", Type: i64}, arrow.Field{Name: "zz", Type: i64}), Nullable: true}, {Name: "id", Type: i64}},
			`field "zz" is not in the table's STRUCT`},
		{[]arrow.Field{{Name: "id", Type: i64}, {Name: "s", Type: arrow.StructOf(arrow.Field{Name: "v", Type: i64}), Nullable: true}},
			`field "k" (NOT NULL in the table) is missing from the batch's STRUCT`},
		{[]arrow.Field{{Name: "Extra", Type: i64}, {Name: "ID", Type: i64}},
			`column "Extra" (int64 in the batch) is not in the table`},
	}
	for _, tc := range cases {
		_, err := PlanCast("t", arrow.NewSchema(tc.batch, nil), table)
		var me *MismatchError
		if !errors.As(err, &me) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PlanCast(%v): %v, want a MismatchError saying %q", tc.batch, err, tc.want)
		}
	}
}

// A batch already in the table's order and spelling is sent as it is; one
// that differs only in a column's case is not (the table's name is sent).
func TestCastSameOnlyForTheTablesSpelling(t *testing.T) {
	i64 := arrow.PrimitiveTypes.Int64
	table := arrow.NewSchema([]arrow.Field{{Name: "id", Type: i64}}, nil)
	c, err := PlanCast("t", table, table)
	if err != nil || !c.same {
		t.Fatalf("same schema: %v, same %v", err, c != nil && c.same)
	}
	upper := arrow.NewSchema([]arrow.Field{{Name: "ID", Type: i64}}, nil)
	c, err = PlanCast("t", upper, table)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.AppendValues([]int64{1, 2}, nil)
	rec := batchOf(t, upper.Fields(), b.NewArray())
	b.Release()
	defer rec.Release()
	out, _, _, err := c.Apply(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if got := out.Schema().Field(0).Name; got != "id" {
		t.Fatalf("sent column %q, want the table's spelling id", got)
	}
}

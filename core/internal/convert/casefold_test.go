package convert

import (
	"errors"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestCaseClashes(t *testing.T) {
	i64, utf8 := arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String
	kv := arrow.StructOf(arrow.Field{Name: "k", Type: utf8}, arrow.Field{Name: "K", Type: utf8})
	s := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: i64},
		{Name: "Id", Type: i64},
		{Name: "ID", Type: i64},
		{Name: "name", Type: utf8},
		{Name: "name", Type: utf8}, // equal: a duplicate, not a case clash
		{Name: "m", Type: arrow.MapOf(utf8, kv)},
		{Name: "l", Type: arrow.LargeListOf(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: utf8})},
		{Name: "s", Type: arrow.StructOf(
			arrow.Field{Name: "inner", Type: arrow.ListOf(kv)},
			arrow.Field{Name: "ok", Type: i64},
		)},
		{Name: "S", Type: arrow.StructOf(arrow.Field{Name: "x", Type: i64})},
	}, nil)
	want := []CaseClash{
		{Path: "Id", Other: "id"},
		{Path: "ID", Other: "id"},
		{Path: "S", Other: "s"},
		{Path: "m.value.K", Other: "m.value.k"},
		{Path: "s.inner[].K", Other: "s.inner[].k"},
	}
	got := CaseClashes(s)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("CaseClashes = %v, want %v", got, want)
	}
	if r := got[0].Reason(); r != `"id" and "Id" differ only in case; Delta and Unity Catalog names are case-insensitive, so a table cannot hold both: rename one of them` {
		t.Errorf("Reason = %q", r)
	}
	if c := CaseClashes(arrow.NewSchema([]arrow.Field{{Name: "a", Type: i64}, {Name: "b", Type: kv.Field(0).Type}}, nil)); c != nil {
		t.Errorf("CaseClashes of distinct names = %v, want nil", c)
	}
}

// Both plan forms refuse a batch whose names differ only in case, with a
// Problem per clash, even when a caller-supplied descriptor has both names.
func TestPlanRefusesCaseClashes(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "ID", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	desc := parseDescriptor(t, `name: "R"
field { name: "id" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 }
field { name: "ID" number: 2 label: LABEL_OPTIONAL type: TYPE_INT64 }`)
	for name, build := range map[string]func() (*Plan, error){
		"NewPlan":              func() (*Plan, error) { return NewPlan(s, Options{}) },
		"NewPlanForDescriptor": func() (*Plan, error) { return NewPlanForDescriptor(s, desc, Options{}) },
	} {
		_, err := build()
		var se *SchemaError
		if !errors.As(err, &se) || len(se.Problems) != 1 || se.Problems[0].Column != "ID" ||
			se.Problems[0].Reason != (CaseClash{Path: "ID", Other: "id"}).Reason() {
			t.Errorf("%s: %v, want one Problem naming ID and id", name, err)
		}
	}
}

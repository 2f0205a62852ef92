package flightstream

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// Non-plain DECIMAL text (" +7 ", "1e1", ".5") in a STRUCT field is sent as its rounded plain text whether the
// batch's STRUCT has the table's fields in its order, reordered, in another case or without a nullable field
// (the rounding paired fields by position: reordered, the text went as given; review1 F-med-2).
func TestNestedDecimalTextRoundedWhateverTheFieldOrder(t *testing.T) {
	dec := convert.DecimalMeta(4, 2)
	tableSt := arrow.StructOf(
		arrow.Field{Name: "d", Type: arrow.BinaryTypes.LargeString, Nullable: true, Metadata: dec},
		arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	)
	to := arrow.NewSchema([]arrow.Field{{Name: "s", Type: tableSt, Nullable: true}}, nil)
	js := `[{"s":{"d":" +7 ","x":1}},{"s":{"d":"1e1","x":2}},{"s":{"d":".5","x":3}}]`
	for _, tc := range []struct {
		name string
		st   *arrow.StructType
		js   string
	}{
		{"table order", arrow.StructOf(arrow.Field{Name: "d", Type: arrow.BinaryTypes.String, Nullable: true}, arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), js},
		{"reordered", arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, arrow.Field{Name: "d", Type: arrow.BinaryTypes.String, Nullable: true}), js},
		{"case", arrow.StructOf(arrow.Field{Name: "D", Type: arrow.BinaryTypes.String, Nullable: true}, arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), strings.ReplaceAll(js, `"d"`, `"D"`)},
		{"missing x", arrow.StructOf(arrow.Field{Name: "d", Type: arrow.BinaryTypes.String, Nullable: true}), js},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			from := arrow.NewSchema([]arrow.Field{{Name: "s", Type: tc.st, Nullable: true}}, nil)
			rec, _, err := array.RecordFromJSON(mem, from, strings.NewReader(tc.js))
			if err != nil {
				t.Fatal(err)
			}
			defer rec.Release()
			c, err := PlanCast("t", from, to)
			if err != nil {
				t.Fatal(err)
			}
			out, _, _, err := c.ApplyWith(context.Background(), mem, rec)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			got := out.Column(0).(*array.Struct).Field(0).String()
			if got != `["7.00" "10.00" "0.50"]` {
				t.Errorf("s.d sent as %s, want the rounded plain text [\"7.00\" \"10.00\" \"0.50\"] (as in table order)", got)
			}
		})
	}
}

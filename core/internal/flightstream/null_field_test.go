package flightstream

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A STRUCT field or ARRAY elements of the null type are all nulls of the
// table's type; a NOT NULL field fails each row whose STRUCT is not null; a
// MAP key of the null type is refused.
func TestNullTypeStructField(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	from := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.Null, Nullable: true}, arrow.Field{Name: "y", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.Null), Nullable: true},
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, from, strings.NewReader(`[{"s": {"y": 1}, "l": []}, {"s": null}, {"s": {"y": 2}, "l": [null]}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	for _, notNull := range []bool{false, true} {
		to := arrow.NewSchema([]arrow.Field{
			{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: !notNull}, arrow.Field{Name: "y", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
			{Name: "l", Type: arrow.ListOf(arrow.BinaryTypes.LargeString), Nullable: true},
		}, nil)
		c, err := PlanCast("t", from, to)
		if err != nil {
			t.Fatal(err)
		}
		out, nulls, _, err := c.ApplyWith(context.Background(), mem, rec)
		if err != nil {
			t.Fatal(err)
		}
		want := []NullRow{{Row: 2, Column: "l[0]", Reason: NullElement}}
		if notNull {
			want = []NullRow{{Row: 0, Column: "s.x", Reason: NullInField}, {Row: 2, Column: "s.x", Reason: NullInField}}
		}
		if len(nulls) != len(want) || (len(nulls) > 0 && (nulls[0] != want[0] || nulls[len(nulls)-1] != want[len(want)-1])) {
			t.Errorf("NOT NULL %v: left out %+v, want %+v", notNull, nulls, want)
		}
		if !notNull {
			if got := out.Column(0).String(); got != `{[(null) (null)] [1 (null)]}` {
				t.Errorf("s: %s", got)
			}
		}
		out.Release()
	}
	keys := arrow.NewSchema([]arrow.Field{{Name: "m", Type: arrow.MapOf(arrow.Null, arrow.BinaryTypes.String), Nullable: true}}, nil)
	table := arrow.NewSchema([]arrow.Field{{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, arrow.BinaryTypes.LargeString), Nullable: true}}, nil)
	if _, err := PlanCast("t", keys, table); err == nil || !strings.Contains(err.Error(), "a MAP key cannot be null") {
		t.Errorf("a null-type MAP key: %v", err)
	}
}

package flightstream

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// s22 review realinputs L1: an interval (or union) column is refused over
// Flight with the protobuf plan's reason, not with advice to cast it to the
// table's type, which pyarrow cannot do ("Unsupported cast from
// month_day_nano_interval to large_utf8").
func TestS22IntervalRefusedWithTheProtobufReason(t *testing.T) {
	i64 := arrow.PrimitiveTypes.Int64
	union := arrow.SparseUnionOf([]arrow.Field{{Name: "a", Type: i64, Nullable: true}}, []arrow.UnionTypeCode{0})
	cases := []struct {
		from arrow.DataType
		want string
	}{
		{arrow.FixedWidthTypes.MonthDayNanoInterval, convert.IntervalReason},
		{arrow.FixedWidthTypes.MonthInterval, convert.IntervalReason},
		{arrow.FixedWidthTypes.DayTimeInterval, convert.IntervalReason},
		{union, convert.UnionReason},
	}
	for _, tc := range cases {
		for _, to := range []arrow.DataType{arrow.BinaryTypes.LargeString, i64} {
			table := arrow.NewSchema([]arrow.Field{{Name: "v", Type: to, Nullable: true}}, nil)
			_, err := PlanCast("t", arrow.NewSchema([]arrow.Field{{Name: "v", Type: tc.from, Nullable: true}}, nil), table)
			var me *MismatchError
			if !errors.As(err, &me) || len(me.Columns) != 1 {
				t.Fatalf("%s into %s: %v, want one mismatch", tc.from, to, err)
			}
			if got := me.Columns[0].Reason; got != tc.want {
				t.Errorf("%s into %s: reason %q, want %q", tc.from, to, got, tc.want)
			}
			if strings.Contains(err.Error(), "cast the batch's column to") {
				t.Errorf("%s into %s: %q still advises a cast", tc.from, to, err)
			}
		}
		// the protobuf plan gives the same reason
		_, err := convert.NewPlan(arrow.NewSchema([]arrow.Field{{Name: "v", Type: tc.from, Nullable: true}}, nil), convert.Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewPlan(%s): %v, want %q", tc.from, err, tc.want)
		}
	}
}

// s22 review realinputs L2: a batch column the table lacks is named with
// what to do about it (drop it, or add it to the table), as the
// missing-column and case-clash messages end with advice.
func TestS22ExtraColumnSaysWhatToDo(t *testing.T) {
	i64 := arrow.PrimitiveTypes.Int64
	table := arrow.NewSchema([]arrow.Field{{Name: "id", Type: i64}}, nil)
	batch := arrow.NewSchema([]arrow.Field{{Name: "id", Type: i64}, {Name: "extra", Type: i64}}, nil)
	_, err := PlanCast("t", batch, table)
	var me *MismatchError
	if !errors.As(err, &me) || len(me.Columns) != 1 {
		t.Fatalf("PlanCast: %v, want one mismatch", err)
	}
	c := me.Columns[0]
	if c.Column != "extra" || c.CallerType != "int64" || c.TableType != "" {
		t.Errorf("mismatch %+v, want column extra (int64) the table lacks", c)
	}
	want := `column "extra" (int64 in the batch) is not in the table: drop it from the batch (pandas: df.drop(columns=["extra"]); polars: df.drop("extra"); pyarrow: table.drop_columns(["extra"])), or add the column to the table`
	if !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q\nwant it to end with %q", err, want)
	}
}

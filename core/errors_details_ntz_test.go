package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestDetailsReasonZonedIntoNTZ: a timestamp in a zone other than UTC for a
// table's TIMESTAMP_NTZ column (top level and in a STRUCT field) is refused
// by the schema check on both transports with Reason
// "ZONED_TIMESTAMP_INTO_NTZ" and the columns named, so that programs (the
// Spark data source) decide on data, not on the message; another refusal
// mixed in leaves Reason empty, and a UTC zone passes.
func TestDetailsReasonZonedIntoNTZ(t *testing.T) {
	ntz := &arrow.TimestampType{Unit: arrow.Microsecond}
	zoned := func(tz string) *arrow.TimestampType {
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: tz}
	}
	table := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "ts", Type: ntz, Nullable: true},
		{Name: "ev", Type: arrow.StructOf(arrow.Field{Name: "at", Type: ntz, Nullable: true}), Nullable: true},
	}, nil)
	batch := func(tz string, id arrow.DataType) *arrow.Schema {
		return arrow.NewSchema([]arrow.Field{
			{Name: "id", Type: id, Nullable: true},
			{Name: "ts", Type: zoned(tz), Nullable: true},
			{Name: "ev", Type: arrow.StructOf(arrow.Field{Name: "at", Type: zoned(tz), Nullable: true}), Nullable: true},
		}, nil)
	}
	for _, tr := range []struct {
		transport string
		columns   string // a nested field is named by its path in the protobuf plan, by its column over Flight
	}{
		{core.TransportProtobuf, "ts,ev.at"},
		{core.TransportArrowFlight, "ts,ev"},
	} {
		t.Run(tr.transport, func(t *testing.T) {
			cfg, srv := detailsServer(t, "main.d.ntz")
			if err := srv.CreateTableFromArrow("main.d.ntz", table); err != nil {
				t.Fatal(err)
			}
			cfg.Transport = tr.transport
			ctx := context.Background()
			w, err := core.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close(ctx)
			if err := w.CheckSchema(ctx, batch("UTC", arrow.PrimitiveTypes.Int64)); err != nil {
				t.Fatalf("UTC: %v", err)
			}
			d := core.DetailsOf(w.CheckSchema(ctx, batch("Etc/GMT-14", arrow.PrimitiveTypes.Int64)))
			if d.Kind != core.KindConversion || d.Reason != "ZONED_TIMESTAMP_INTO_NTZ" || strings.Join(d.Columns, ",") != tr.columns {
				t.Errorf("kind %q reason %q columns %v; want conversion, ZONED_TIMESTAMP_INTO_NTZ, %s (%s)", d.Kind, d.Reason, d.Columns, tr.columns, d.Message)
			}
			mixed := core.DetailsOf(w.CheckSchema(ctx, batch("Etc/GMT-14", arrow.ListOf(arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)))))
			if mixed.Kind != core.KindConversion || mixed.Reason != "" || len(mixed.Columns) == 0 || !strings.HasPrefix(mixed.Columns[0], "id") {
				t.Errorf("mixed: kind %q reason %q columns %v; want conversion, no reason, id named first (%s)", mixed.Kind, mixed.Reason, mixed.Columns, mixed.Message)
			}
		})
	}
}

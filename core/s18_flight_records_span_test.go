package core_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// s18 otelreal L10: on arrow_flight the zerobus.transmit span counted the
// rows that failed their cast (3 for 2 sent); zerobus.records is the rows
// put on the wire, as on protobuf.
func TestS18FlightTransmitSpanCountsSentRows(t *testing.T) {
	for _, transport := range []string{"protobuf", "arrow_flight"} {
		t.Run(transport, func(t *testing.T) {
			table := "main.default.s18_records_" + transport
			cfg, srv := s18Server(t, table, "id BIGINT NOT NULL, n INT")
			dir := t.TempDir()
			cfg.Transport = transport
			cfg.ObservabilityEnabled, cfg.ObservabilityOutputDir, cfg.ObservabilityInterval = true, dir, time.Hour
			ctx := context.Background()
			w, err := core.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
			b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
			b.Field(1).(*array.Int64Builder).AppendValues([]int64{5, 98765432101, 6}, nil)
			rec := b.NewRecordBatch()
			b.Release()
			res, _ := w.SendBatch(ctx, rec)
			rec.Release()
			if err := w.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if res.FailedCount != 1 || srv.RecordCount(table) != 2 {
				t.Fatalf("%d failed, %d stored; want 1 and 2", res.FailedCount, srv.RecordCount(table))
			}
			var got []string
			for _, line := range s18Lines(t, filepath.Join(dir, "traces.jsonl")) {
				for _, rs := range line["resourceSpans"].([]any) {
					for _, ss := range s18Get(rs, "scopeSpans").([]any) {
						for _, sp := range s18Get(ss, "spans").([]any) {
							if s18Get(sp, "name") == "zerobus.transmit" {
								got = append(got, s18Attrs(s18Get(sp, "attributes"))["zerobus.records"])
							}
						}
					}
				}
			}
			if len(got) != 1 || got[0] != "2" {
				t.Fatalf("zerobus.transmit zerobus.records = %v, want [2]", got)
			}
		})
	}
}

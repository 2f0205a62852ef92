package tests_go

import (
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Nanosecond durations (pandas' timedelta64[ns]) are stored as BIGINT
// microseconds rounded down, as timestamps are, on both transports (the
// documented rounding: 1 ns is 0 µs, -1 ns is -1 µs).
func TestSubMicrosecondDurationsRoundDownLikeTimestamps(t *testing.T) {
	ns := []int64{1, -1, 999, 1_000, 1_999, -1_001}
	want := []int64{0, -1, 0, 1, 1, -2}
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.dur_" + transport
			schema := arrow.NewSchema([]arrow.Field{
				{Name: "id", Type: arrow.PrimitiveTypes.Int64},
				{Name: "d", Type: arrow.FixedWidthTypes.Duration_ns},
				{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}},
			}, nil)
			b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			defer b.Release()
			for i, v := range ns {
				b.Field(0).(*array.Int64Builder).Append(int64(i))
				b.Field(1).(*array.DurationBuilder).Append(arrow.Duration(v))
				b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(v))
			}
			rec := b.NewRecordBatch()
			defer rec.Release()
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			w := newWrapper(t, cfg)
			if res, err := w.SendBatch(testCtx(t), rec); err != nil {
				t.Fatalf("SendBatch: %v (%v)", err, res)
			}
			gotD, gotTS := make([]int64, len(ns)), make([]int64, len(ns))
			rows := srv.Rows(table)
			if len(rows) != len(ns) {
				t.Fatalf("stored %d rows, want %d", len(rows), len(ns))
			}
			for _, r := range rows {
				id, _ := field(r.Message, "id")
				d, _ := field(r.Message, "d")
				ts, _ := field(r.Message, "ts")
				gotD[id.Int()], gotTS[id.Int()] = d.Int(), ts.Int()
			}
			if !reflect.DeepEqual(gotD, want) || !reflect.DeepEqual(gotTS, want) {
				t.Fatalf("stored durations %v µs and timestamps %v µs from %v ns, want %v for both", gotD, gotTS, ns, want)
			}
		})
	}
}

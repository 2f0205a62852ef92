package core_test

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	grpccodes "google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// pointAttrs returns the attribute sets of every data point of metric name.
func pointAttrs(rm metricdata.ResourceMetrics, name string) []attribute.Set {
	m, _ := findMetric(rm, name)
	var out []attribute.Set
	switch d := m.Data.(type) {
	case metricdata.Sum[int64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Sum[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	case metricdata.Histogram[float64]:
		for _, p := range d.DataPoints {
			out = append(out, p.Attributes)
		}
	}
	return out
}

// Every transport-level metric says which transport it measured, on both
// transports alike (the protobuf path left zerobus.transport unset).
func TestTransportMetricsNameTheTransport(t *testing.T) {
	for _, tr := range []string{"protobuf", "arrow_flight"} {
		t.Run(tr, func(t *testing.T) {
			h := newHarness(t)
			srv := localServer(t)
			table := "main.default.tel_transport_" + tr
			cfg := localConfig(srv, table)
			cfg.Transport = tr
			cfg.MaxMessageBytes, cfg.MaxRecordBytes = 1024, 1024 // several requests per batch
			w := h.wrapper(t, cfg)
			// The first RPC never acks and fails after two requests: the
			// batch's requests are pending then and re-sent by a recovery.
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks})
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: grpccodes.Unavailable, AfterMessages: 2})
			rec := telBatch(memory.DefaultAllocator, 400)
			res, err := w.SendBatch(context.Background(), rec)
			rec.Release()
			if err != nil || res.SuccessfulCount != 400 {
				t.Fatalf("SendBatch = %v, %v", res, err)
			}
			rec = telBatch(memory.DefaultAllocator, 10, 3) // row 3 fails
			res, _ = w.SendBatch(context.Background(), rec)
			rec.Release()
			if res.FailedCount != 1 || res.SuccessfulCount != 9 {
				t.Fatalf("SendBatch with a null in a NOT NULL column = %+v", res)
			}
			closeWrapper(t, w)
			rm := h.collect(t)
			want := telemetry.KeyTransport.String(tr)
			for _, name := range []string{
				"zerobus.ack.duration", "zerobus.conversion.duration", "zerobus.inflight.requests",
				"zerobus.inflight.bytes", "zerobus.stream.creations", "zerobus.stream.recoveries", "zerobus.retries", "zerobus.batches.sent",
				"zerobus.rows.sent", "zerobus.rows.failed", "zerobus.bytes.sent",
			} {
				sets := pointAttrs(rm, name)
				if len(sets) == 0 {
					t.Errorf("%s: no data point", name)
				}
				for _, set := range sets {
					if !hasAttrs(set, []attribute.KeyValue{want}) {
						t.Errorf("%s: a point without %s=%s: %v", name, want.Key, tr, set.ToSlice())
					}
				}
			}
			// The spans under SendBatch say it too (the protobuf path's
			// left it to zerobus.SendBatch).
			spans := h.spans.GetSpans()
			for _, name := range []string{"zerobus.SendBatch", "zerobus.convert", "zerobus.transmit", "zerobus.wait_acks", "zerobus.stream.create", "zerobus.stream.recover"} {
				ss := spansNamed(spans, name)
				if len(ss) == 0 {
					t.Errorf("no %s span", name)
				}
				for _, sp := range ss {
					if v, ok := spanAttr(sp, telemetry.KeyTransport); !ok || v.AsString() != tr {
						t.Errorf("a %s span with %s = %q (set %v), want %q", name, telemetry.KeyTransport, v.AsString(), ok, tr)
					}
				}
			}
		})
	}
}

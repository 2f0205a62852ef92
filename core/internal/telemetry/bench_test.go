package telemetry

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// BenchmarkCorrelatingHandler measures one JSON log record with and without
// the correlating wrapper, with and without a span in the context.
func BenchmarkCorrelatingHandler(b *testing.B) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	spanCtx, span := tp.Tracer("bench").Start(context.Background(), "op")
	defer span.End()
	plain := slog.New(slog.NewJSONHandler(io.Discard, nil))
	correlating := slog.New(CorrelatingHandler(slog.NewJSONHandler(io.Discard, nil)))
	cases := []struct {
		name string
		l    *slog.Logger
		ctx  context.Context
	}{
		{"plain", plain, spanCtx},
		{"correlating/no-span", correlating, context.Background()},
		{"correlating/span", correlating, spanCtx},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.l.InfoContext(c.ctx, "zerobus: stream created", "table", "main.default.t", "stream_id", "abc")
			}
		})
	}
}

// BenchmarkBatchTelemetry measures the telemetry a SendBatch of one request
// records (5 spans, about 10 measurements) with no-op and SDK providers.
func BenchmarkBatchTelemetry(b *testing.B) {
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(discardProcessor{}))
	defer tp.Shutdown(context.Background())
	cases := []struct {
		name string
		tel  *Telemetry
	}{
		{"nop", Nop()},
		{"sdk", New(mp, tp, nil)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			tel := c.tel
			table := metric.WithAttributes(KeyTable.String("main.default.t"))
			ok := metric.WithAttributes(KeyTable.String("main.default.t"), KeyOutcome.String("success"))
			for b.Loop() {
				ctx, root := tel.Start(context.Background(), "zerobus.SendBatch", KeyTable.String("main.default.t"))
				_, s := tel.Start(ctx, "zerobus.convert")
				tel.ConvertDuration.Record(ctx, 0.001, table)
				End(s, nil)
				_, s = tel.Start(ctx, "zerobus.transmit")
				tel.InflightRequests.Add(ctx, 1, table)
				tel.InflightBytes.Add(ctx, 1000, table)
				End(s, nil)
				_, s = tel.Start(ctx, "zerobus.wait_acks")
				tel.AckDuration.Record(ctx, 0.002, table)
				tel.InflightRequests.Add(ctx, -1, table)
				tel.InflightBytes.Add(ctx, -1000, table)
				End(s, nil)
				tel.BatchesSent.Add(ctx, 1, ok)
				tel.SendDuration.Record(ctx, 0.003, ok)
				tel.RowsSent.Add(ctx, 100, table)
				tel.BytesSent.Add(ctx, 1000, table)
				End(root, nil)
			}
		})
	}
}

// discardProcessor ends spans without exporting them.
type discardProcessor struct{}

func (discardProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (discardProcessor) OnEnd(sdktrace.ReadOnlySpan)                     {}
func (discardProcessor) Shutdown(context.Context) error                  { return nil }
func (discardProcessor) ForceFlush(context.Context) error                { return nil }

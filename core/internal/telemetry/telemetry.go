// Package telemetry owns every OpenTelemetry instrument, attribute key and
// log handle the library uses, so metric names and units live in one place;
// span names are literals at the Start call sites. It uses only
// the OpenTelemetry API: the caller injects the providers (defaulting to the
// globals) and nothing is registered at init.
package telemetry

import (
	"context"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of every meter and tracer.
const ScopeName = "github.com/zerobus-wrapper/zerobus-wrapper/core"

// ScopeVersion is the version of the instrumentation scope of every meter
// and tracer: the library's version, set by package core (which owns it)
// before any Telemetry is built.
var ScopeVersion string

// DescribeError gives End what a span records of an error: its type
// (exception.type; the public error kind) and a message free of row data
// (the span's status description and exception.message). Package core,
// which owns the error kinds, sets it; the default is the Go type and the
// error's text.
var DescribeError = func(err error) (typ, msg string) { return fmt.Sprintf("%T", err), err.Error() }

// Attribute keys shared by metrics and spans.
const (
	KeyTable     = attribute.Key("zerobus.table")
	KeyOutcome   = attribute.Key("zerobus.outcome") // "success", "partial", "failure"
	KeyErrorKind = attribute.Key("zerobus.error.kind")
	KeyRefresh   = attribute.Key("zerobus.token.refresh")
	KeyKind      = attribute.Key("zerobus.debug.kind") // "arrow" or "proto"
	KeyTransport = attribute.Key("zerobus.transport")  // "protobuf" or "arrow_flight"
	KeyRowState  = attribute.Key("zerobus.row.state")  // on rows.failed: "not_written" or "unknown" (may have been stored)
)

// DurationBuckets are the bucket bounds, in seconds, of the duration
// histograms: from 100 µs (a small batch's conversion) to 2 minutes (a send
// riding out retries). The SDK's default bounds (0, 5, 10 … 10000) are
// meant for milliseconds and put every send under 5 s in one bucket.
var DurationBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// Telemetry holds the instruments. A nil *Telemetry is not valid; use Nop.
// All instruments are safe for concurrent use.
type Telemetry struct {
	tracer trace.Tracer
	logger *slog.Logger

	BatchesSent      metric.Int64Counter       // zerobus.batches.sent {batch}
	RowsSent         metric.Int64Counter       // zerobus.rows.sent {row}: rows durably acknowledged
	RowsFailed       metric.Int64Counter       // zerobus.rows.failed {row}
	RowsResent       metric.Int64Counter       // zerobus.rows.resent {row}: rows written again after a stream recovery
	BytesSent        metric.Int64Counter       // zerobus.bytes.sent By: record payload bytes
	SendDuration     metric.Float64Histogram   // zerobus.send.duration s: SendBatch start to last ack
	ConvertDuration  metric.Float64Histogram   // zerobus.conversion.duration s
	AckDuration      metric.Float64Histogram   // zerobus.ack.duration s: request sent to acked
	InflightRequests metric.Int64UpDownCounter // zerobus.inflight.requests {request}
	InflightBytes    metric.Int64UpDownCounter // zerobus.inflight.bytes By
	Retries          metric.Int64Counter       // zerobus.retries {retry}
	StreamCreations  metric.Int64Counter       // zerobus.stream.creations {stream}
	StreamRecoveries metric.Int64Counter       // zerobus.stream.recoveries {recovery}
	TokenFetches     metric.Int64Counter       // zerobus.token.fetches {fetch}: outcome, refresh
	DebugWrites      metric.Int64Counter       // zerobus.debug.writes {write}: kind
	DebugBytes       metric.Int64Counter       // zerobus.debug.bytes By: kind
	DebugRotations   metric.Int64Counter       // zerobus.debug.rotations {rotation}: kind
	DebugFailures    metric.Int64Counter       // zerobus.debug.failures {failure}: kind
	DebugDropped     metric.Int64Counter       // zerobus.debug.dropped {write}: kind
}

// New builds the instruments from the given providers; nil providers mean
// the otel globals, a nil logger means a silent one. The logger's handler is
// wrapped with CorrelatingHandler so records logged with a span's context
// carry trace_id and span_id.
func New(mp metric.MeterProvider, tp trace.TracerProvider, logger *slog.Logger) *Telemetry {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	if logger == nil {
		logger = slog.New(discardHandler{})
	} else {
		logger = slog.New(CorrelatingHandler(logger.Handler()))
	}
	m := mp.Meter(ScopeName, metric.WithInstrumentationVersion(ScopeVersion))
	t := &Telemetry{tracer: tp.Tracer(ScopeName, trace.WithInstrumentationVersion(ScopeVersion)), logger: logger}
	// Instrument constructors only fail on invalid names, which are constants
	// here; the API then hands back a working no-op instrument.
	t.BatchesSent, _ = m.Int64Counter("zerobus.batches.sent", metric.WithUnit("{batch}"), metric.WithDescription("Batches handed to SendBatch, by outcome."))
	t.RowsSent, _ = m.Int64Counter("zerobus.rows.sent", metric.WithUnit("{row}"), metric.WithDescription("Rows durably acknowledged by the server."))
	t.RowsFailed, _ = m.Int64Counter("zerobus.rows.failed", metric.WithUnit("{row}"), metric.WithDescription("Rows not acknowledged, by error kind and row state (not_written, or unknown: may have been stored)."))
	t.RowsResent, _ = m.Int64Counter("zerobus.rows.resent", metric.WithUnit("{row}"), metric.WithDescription("Rows written again after a stream recovery before they were acknowledged: an upper bound of the rows stored twice."))
	t.BytesSent, _ = m.Int64Counter("zerobus.bytes.sent", metric.WithUnit("By"), metric.WithDescription("Encoded record bytes acknowledged by the server."))
	buckets := metric.WithExplicitBucketBoundaries(DurationBuckets...)
	t.SendDuration, _ = m.Float64Histogram("zerobus.send.duration", metric.WithUnit("s"), buckets, metric.WithDescription("Time from SendBatch to the last row acknowledged or failed."))
	t.ConvertDuration, _ = m.Float64Histogram("zerobus.conversion.duration", metric.WithUnit("s"), buckets, metric.WithDescription("Time to convert an Arrow batch to protobuf records."))
	t.AckDuration, _ = m.Float64Histogram("zerobus.ack.duration", metric.WithUnit("s"), buckets, metric.WithDescription("Time from a request written to the stream to its acknowledgement."))
	t.InflightRequests, _ = m.Int64UpDownCounter("zerobus.inflight.requests", metric.WithUnit("{request}"), metric.WithDescription("Requests sent and not yet acknowledged."))
	t.InflightBytes, _ = m.Int64UpDownCounter("zerobus.inflight.bytes", metric.WithUnit("By"), metric.WithDescription("Record bytes sent and not yet acknowledged."))
	t.Retries, _ = m.Int64Counter("zerobus.retries", metric.WithUnit("{retry}"), metric.WithDescription("Retried attempts (stream creation or recovery), by error kind."))
	t.StreamCreations, _ = m.Int64Counter("zerobus.stream.creations", metric.WithUnit("{stream}"), metric.WithDescription("Stream creation attempts, by outcome."))
	t.StreamRecoveries, _ = m.Int64Counter("zerobus.stream.recoveries", metric.WithUnit("{recovery}"), metric.WithDescription("Streams moved to a new RPC after a failure or close signal."))
	t.TokenFetches, _ = m.Int64Counter("zerobus.token.fetches", metric.WithUnit("{fetch}"), metric.WithDescription("OAuth token fetches, by outcome and whether it was a refresh."))
	t.DebugWrites, _ = m.Int64Counter("zerobus.debug.writes", metric.WithUnit("{write}"), metric.WithDescription("Debug file writes, by kind."))
	t.DebugBytes, _ = m.Int64Counter("zerobus.debug.bytes", metric.WithUnit("By"), metric.WithDescription("Bytes written to debug files, by kind."))
	t.DebugRotations, _ = m.Int64Counter("zerobus.debug.rotations", metric.WithUnit("{rotation}"), metric.WithDescription("Debug file rotations, by kind."))
	t.DebugFailures, _ = m.Int64Counter("zerobus.debug.failures", metric.WithUnit("{failure}"), metric.WithDescription("Debug file write failures, by kind."))
	t.DebugDropped, _ = m.Int64Counter("zerobus.debug.dropped", metric.WithUnit("{write}"), metric.WithDescription("Debug writes dropped (queue full or file failed), by kind."))
	return t
}

// Nop returns telemetry that records nothing.
func Nop() *Telemetry {
	return New(metricnoop.NewMeterProvider(), tracenoop.NewTracerProvider(), nil)
}

// Logger returns the library logger (silent unless the caller set one).
func (t *Telemetry) Logger() *slog.Logger { return t.logger }

// Start opens a span named name (e.g. "zerobus.SendBatch").
func (t *Telemetry) Start(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// End records err (if any) on span and ends it: an "exception" event and
// the Error status, both as DescribeError says (no row values: telemetry
// backends are often readable by more people than the table).
func End(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		typ, msg := DescribeError(err)
		span.AddEvent("exception", trace.WithAttributes(
			attribute.String("exception.type", typ),
			attribute.String("exception.message", msg)))
		span.SetStatus(codes.Error, msg)
	}
	span.End()
}

type discardHandler struct{}

func (discardHandler) Enabled(context.Context, slog.Level) bool  { return false }
func (discardHandler) Handle(context.Context, slog.Record) error { return nil }
func (h discardHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h discardHandler) WithGroup(string) slog.Handler           { return h }

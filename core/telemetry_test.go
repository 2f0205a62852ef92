package core_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	grpccodes "google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry/otlptest"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/syncbuf"
)

// otelHarness collects what a Wrapper records: metrics through a manual
// reader, spans through an in-memory exporter, logs as JSON lines.
type otelHarness struct {
	reader *sdkmetric.ManualReader
	mp     *sdkmetric.MeterProvider
	spans  *tracetest.InMemoryExporter
	tp     *sdktrace.TracerProvider
	logs   *syncBuffer
}

func newHarness(t *testing.T) *otelHarness {
	t.Helper()
	h := &otelHarness{reader: sdkmetric.NewManualReader(), spans: tracetest.NewInMemoryExporter(), logs: &syncBuffer{}}
	h.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	h.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(h.spans))
	t.Cleanup(func() {
		_ = h.tp.Shutdown(context.Background())
		_ = h.mp.Shutdown(context.Background())
	})
	return h
}

func (h *otelHarness) options() []core.Option {
	return []core.Option{
		core.WithMeterProvider(h.mp),
		core.WithTracerProvider(h.tp),
		core.WithLogger(slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		core.WithRetryBackoff(func(int, time.Duration, time.Duration) time.Duration { return time.Millisecond }),
	}
}

// wrapper is core.New of cfg with h's options; the test fails if New does.
func (h *otelHarness) wrapper(t *testing.T, cfg core.Config) *core.Wrapper {
	t.Helper()
	w, err := core.New(context.Background(), cfg, h.options()...)
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	return w
}

func (h *otelHarness) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("collecting metrics: %v", err)
	}
	return rm
}

// syncBuffer is a log output safe for concurrent writers and readers.
type syncBuffer struct{ syncbuf.Buffer }

func (s *syncBuffer) messages(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, r := range s.records(t) {
		out = append(out, r.Msg)
	}
	return out
}

// hasAttrs reports whether set contains every kv.
func hasAttrs(set attribute.Set, kvs []attribute.KeyValue) bool {
	for _, kv := range kvs {
		v, ok := set.Value(kv.Key)
		if !ok || v != kv.Value {
			return false
		}
	}
	return true
}

func findMetric(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// sumInt adds the data points of the int counter name whose attributes
// include kvs.
func sumInt(rm metricdata.ResourceMetrics, name string, kvs ...attribute.KeyValue) int64 {
	m, _ := findMetric(rm, name) // not found: m.Data is nil, so s has no points
	s, _ := m.Data.(metricdata.Sum[int64])
	return addMatching(s.DataPoints, kvs, func(dp metricdata.DataPoint[int64]) (attribute.Set, int64) {
		return dp.Attributes, dp.Value
	})
}

// histCount adds the counts of the histogram name's points whose attributes
// include kvs.
func histCount(rm metricdata.ResourceMetrics, name string, kvs ...attribute.KeyValue) uint64 {
	m, _ := findMetric(rm, name) // not found: m.Data is nil, so h has no points
	h, _ := m.Data.(metricdata.Histogram[float64])
	return addMatching(h.DataPoints, kvs, func(dp metricdata.HistogramDataPoint[float64]) (attribute.Set, uint64) {
		return dp.Attributes, dp.Count
	})
}

// addMatching adds the values of the points whose attributes include kvs;
// attrsValue returns a point's attributes and value.
func addMatching[P any, N int64 | uint64](points []P, kvs []attribute.KeyValue, attrsValue func(P) (attribute.Set, N)) N {
	var n N
	for _, p := range points {
		if set, v := attrsValue(p); hasAttrs(set, kvs) {
			n += v
		}
	}
	return n
}

func spanAttr(s tracetest.SpanStub, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func spansNamed(ss tracetest.SpanStubs, name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range ss {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

var telSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String}, // NOT NULL: a null fails its row
}, nil)

// telBatch builds n rows; rows listed in nullRows get a null name, which
// fails their conversion.
func telBatch(mem memory.Allocator, n int, nullRows ...int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, telSchema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if slices.Contains(nullRows, i) {
			b.Field(1).(*array.StringBuilder).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("telemetry row %04d", i))
		}
	}
	return b.NewRecordBatch()
}

func localServer(t *testing.T) *zerobuslocal.Server {
	t.Helper()
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{})
	if err != nil {
		t.Fatalf("zerobuslocal.Start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func localConfig(srv *zerobuslocal.Server, table string) core.Config {
	cfg := core.DefaultConfig()
	cfg.Endpoint = srv.Endpoint()
	cfg.UnityCatalogURL = srv.WorkspaceURL()
	cfg.ClientID = srv.ClientID()
	cfg.ClientSecret = srv.ClientSecret()
	cfg.TableName = table
	cfg.RetryBaseDelay = time.Millisecond
	cfg.RetryMaxDelay = 10 * time.Millisecond
	cfg.AckTimeout = 5 * time.Second
	return cfg
}

func closeWrapper(t *testing.T, w *core.Wrapper) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestTelemetryOperations checks, for each kind of SendBatch outcome, the
// metrics (values and attributes) and spans (names, parentage, attributes,
// errors) a Wrapper records, using the local server's fault injection.
func TestTelemetryOperations(t *testing.T) {
	const table = "main.default.tel"
	tableAttr := telemetry.KeyTable.String(table)
	success := telemetry.KeyOutcome.String("success")
	failure := telemetry.KeyOutcome.String("failure")

	tests := []struct {
		name     string
		rows     int
		nullRows []int
		config   func(t *testing.T, cfg *core.Config)
		faults   []zerobuslocal.Fault
		// wantOutcome is the zerobus.batches.sent outcome attribute.
		wantOutcome string
		// check makes the scenario's own assertions.
		check func(t *testing.T, rm metricdata.ResourceMetrics, spans tracetest.SpanStubs, res *core.TransmissionResult, logs []string)
	}{
		{
			name: "success", rows: 50, wantOutcome: "success",
			check: func(t *testing.T, rm metricdata.ResourceMetrics, spans tracetest.SpanStubs, res *core.TransmissionResult, _ []string) {
				wantCounts(t, rm, []counterWant{
					{"zerobus.stream.creations", []attribute.KeyValue{tableAttr, success}, 1},
					{"zerobus.stream.creations", []attribute.KeyValue{failure}, 0},
					{"zerobus.token.fetches", []attribute.KeyValue{tableAttr, success, telemetry.KeyRefresh.Bool(false)}, 1},
					{"zerobus.retries", nil, 0},
					{"zerobus.stream.recoveries", nil, 0},
					{"zerobus.inflight.requests", []attribute.KeyValue{tableAttr}, 0},
					{"zerobus.inflight.bytes", []attribute.KeyValue{tableAttr}, 0},
				})
				if got := histCount(rm, "zerobus.ack.duration", tableAttr); got < 1 {
					t.Errorf("zerobus.ack.duration count = %d, want >= 1", got)
				}
				for _, name := range []string{"zerobus.transmit", "zerobus.wait_acks"} {
					checkChildren(t, spans, name, 1)
				}
				create := oneSpan(t, spans, "zerobus.stream.create")
				if v, _ := spanAttr(create, telemetry.KeyTable); v.AsString() != table {
					t.Errorf("zerobus.stream.create %s = %q, want %q", telemetry.KeyTable, v.AsString(), table)
				}
				// The stream is opened for this batch: its creation is part
				// of the batch's trace, though it outlives the call.
				root := oneSpan(t, spans, "zerobus.SendBatch")
				if create.Parent.SpanID() != root.SpanContext.SpanID() || create.SpanContext.TraceID() != root.SpanContext.TraceID() {
					t.Errorf("zerobus.stream.create parent = %s/%s, want SendBatch %s/%s", create.Parent.TraceID(), create.Parent.SpanID(),
						root.SpanContext.TraceID(), root.SpanContext.SpanID())
				}
				// The token is fetched for the Unity Catalog read of the
				// table's columns (their optionality), before the stream.
				fetch := oneSpan(t, spans, "zerobus.token.fetch")
				if fetch.Parent.SpanID() != root.SpanContext.SpanID() || fetch.SpanContext.TraceID() != root.SpanContext.TraceID() {
					t.Errorf("zerobus.token.fetch parent = %s/%s, want SendBatch %s/%s", fetch.Parent.TraceID(), fetch.Parent.SpanID(),
						root.SpanContext.TraceID(), root.SpanContext.SpanID())
				}
				if v, _ := spanAttr(fetch, telemetry.KeyTable); v.AsString() != table {
					t.Errorf("zerobus.token.fetch %s = %q, want %q", telemetry.KeyTable, v.AsString(), table)
				}
				if v, ok := spanAttr(fetch, telemetry.KeyRefresh); !ok || v.AsBool() {
					t.Errorf("zerobus.token.fetch %s = %v (set %v), want false", telemetry.KeyRefresh, v.AsBool(), ok)
				}
			},
		},
		{
			name: "partial failure", rows: 40, nullRows: []int{3, 17, 39}, wantOutcome: "partial",
			check: func(t *testing.T, rm metricdata.ResourceMetrics, spans tracetest.SpanStubs, res *core.TransmissionResult, _ []string) {
				if got := sumInt(rm, "zerobus.rows.failed", tableAttr, telemetry.KeyErrorKind.String(string(core.KindConversion))); got != 3 {
					t.Errorf("zerobus.rows.failed{kind=conversion} = %d, want 3", got)
				}
				var failedInSpans int64
				for _, s := range spansNamed(spans, "zerobus.convert") {
					v, _ := spanAttr(s, "zerobus.rows.failed")
					failedInSpans += v.AsInt64()
				}
				if failedInSpans != 3 {
					t.Errorf("zerobus.convert spans report %d failed rows, want 3", failedInSpans)
				}
				root := oneSpan(t, spans, "zerobus.SendBatch")
				if root.Status.Code != codes.Error {
					t.Errorf("SendBatch status = %v, want Error for a partial failure", root.Status)
				}
			},
		},
		{
			name: "retry at creation", rows: 20, wantOutcome: "success",
			faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, Code: grpccodes.Unavailable}},
			check: func(t *testing.T, rm metricdata.ResourceMetrics, spans tracetest.SpanStubs, res *core.TransmissionResult, logs []string) {
				wantCounts(t, rm, []counterWant{
					{"zerobus.stream.creations", []attribute.KeyValue{tableAttr, failure}, 1},
					{"zerobus.stream.creations", []attribute.KeyValue{tableAttr, success}, 1},
					// The stream client labels UNAVAILABLE as a connection failure.
					{"zerobus.retries", []attribute.KeyValue{tableAttr, telemetry.KeyErrorKind.String("connection")}, 1},
				})
				create := oneSpan(t, spans, "zerobus.stream.create")
				if create.Status.Code != codes.Unset {
					t.Errorf("stream.create status = %v, want unset (the retry succeeded)", create.Status)
				}
				if !slices.Contains(logs, "zerobus: stream creation failed; retrying") {
					t.Errorf("logs %q lack the retry warning", logs)
				}
			},
		},
		{
			name: "recovery mid-batch", rows: 400, wantOutcome: "success",
			config: func(t *testing.T, cfg *core.Config) { cfg.MaxMessageBytes, cfg.MaxRecordBytes = 1024, 1024 },
			// The first RPC never acks and fails after two requests, so the
			// batch's requests are pending at the failure and re-sent by a
			// recovery. (With acks, the client may have had every sent
			// request acknowledged and nothing queued yet when the RPC
			// failed: a lazy reconnect, no retry, one attempt per request.)
			faults: []zerobuslocal.Fault{
				{Kind: zerobuslocal.FaultStallAcks},
				{Kind: zerobuslocal.FaultError, Code: grpccodes.Unavailable, AfterMessages: 2},
			},
			check: func(t *testing.T, rm metricdata.ResourceMetrics, spans tracetest.SpanStubs, res *core.TransmissionResult, _ []string) {
				recovers := spansNamed(spans, "zerobus.stream.recover")
				if len(recovers) < 1 {
					t.Fatalf("no zerobus.stream.recover span")
				}
				if got, want := sumInt(rm, "zerobus.stream.recoveries", tableAttr), int64(len(recovers)); got != want {
					t.Errorf("zerobus.stream.recoveries = %d, want %d (one per recover span)", got, want)
				}
				if got := sumInt(rm, "zerobus.retries", tableAttr, telemetry.KeyErrorKind.String("connection")); got < 1 {
					t.Errorf("zerobus.retries{connection} = %d, want >= 1", got)
				}
				if res.Attempts < 2 {
					t.Errorf("result Attempts = %d, want >= 2 after a recovery", res.Attempts)
				}
				wantCounts(t, rm, []counterWant{
					{"zerobus.inflight.requests", []attribute.KeyValue{tableAttr}, 0},
					{"zerobus.inflight.bytes", []attribute.KeyValue{tableAttr}, 0},
				})
			},
		},
		{
			name: "token failure", rows: 10, wantOutcome: "failure",
			faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 401, Persistent: true}},
			check: func(t *testing.T, rm metricdata.ResourceMetrics, spans tracetest.SpanStubs, res *core.TransmissionResult, _ []string) {
				if got := sumInt(rm, "zerobus.token.fetches", tableAttr, failure); got < 1 {
					t.Errorf("zerobus.token.fetches{failure} = %d, want >= 1", got)
				}
				if got := sumInt(rm, "zerobus.token.fetches", success); got != 0 {
					t.Errorf("zerobus.token.fetches{success} = %d, want 0", got)
				}
				if got := sumInt(rm, "zerobus.rows.failed", tableAttr, telemetry.KeyErrorKind.String(string(core.KindOf(res.Err)))); got != 10 {
					t.Errorf("zerobus.rows.failed{kind=%s} = %d, want 10", core.KindOf(res.Err), got)
				}
				for _, name := range []string{"zerobus.token.fetch", "zerobus.stream.create", "zerobus.SendBatch"} {
					for _, s := range spansNamed(spans, name) {
						if s.Status.Code != codes.Error || len(s.Events) == 0 || s.Events[0].Name != "exception" {
							t.Errorf("%s status %v events %v, want Error with an exception event", name, s.Status, s.Events)
						}
					}
				}
				if len(spansNamed(spans, "zerobus.token.fetch")) == 0 {
					t.Errorf("no zerobus.token.fetch span")
				}
			},
		},
		{
			name: "writer disabled", rows: 30, wantOutcome: "success",
			config: func(t *testing.T, cfg *core.Config) {
				cfg.WriterDisabled = true
				cfg.Endpoint, cfg.ClientID, cfg.ClientSecret, cfg.UnityCatalogURL = "", "", "", ""
			},
			check: func(t *testing.T, rm metricdata.ResourceMetrics, spans tracetest.SpanStubs, res *core.TransmissionResult, _ []string) {
				for _, name := range []string{"zerobus.rows.sent", "zerobus.bytes.sent", "zerobus.stream.creations", "zerobus.token.fetches", "zerobus.inflight.requests"} {
					if _, ok := findMetric(rm, name); ok {
						t.Errorf("metric %s recorded with the writer disabled", name)
					}
				}
				for _, name := range []string{"zerobus.transmit", "zerobus.wait_acks", "zerobus.stream.create", "zerobus.token.fetch"} {
					if n := len(spansNamed(spans, name)); n != 0 {
						t.Errorf("%d %s spans with the writer disabled, want 0", n, name)
					}
				}
				root := oneSpan(t, spans, "zerobus.SendBatch")
				if v, ok := spanAttr(root, "zerobus.writer_disabled"); !ok || !v.AsBool() {
					t.Errorf("SendBatch zerobus.writer_disabled = %v (set %v), want true", v.AsBool(), ok)
				}
			},
		},
		{
			name: "debug files", rows: 25, wantOutcome: "success",
			config: func(t *testing.T, cfg *core.Config) {
				cfg.DebugArrowEnabled, cfg.DebugProtobufEnabled = true, true
				cfg.DebugOutputDir = t.TempDir()
			},
			check: func(t *testing.T, rm metricdata.ResourceMetrics, spans tracetest.SpanStubs, res *core.TransmissionResult, _ []string) {
				for _, kind := range []string{"arrow", "proto"} {
					k := telemetry.KeyKind.String(kind)
					if got := sumInt(rm, "zerobus.debug.writes", k); got < 1 {
						t.Errorf("zerobus.debug.writes{%s} = %d, want >= 1", kind, got)
					}
					if got := sumInt(rm, "zerobus.debug.bytes", k); got < 1 {
						t.Errorf("zerobus.debug.bytes{%s} = %d, want > 0", kind, got)
					}
					if got := sumInt(rm, "zerobus.debug.failures", k); got != 0 {
						t.Errorf("zerobus.debug.failures{%s} = %d, want 0", kind, got)
					}
				}
				root := oneSpan(t, spans, "zerobus.SendBatch")
				var kinds []string
				for _, s := range spansNamed(spans, "zerobus.debug.write") {
					if s.Parent.SpanID() != root.SpanContext.SpanID() {
						t.Errorf("zerobus.debug.write parent = %s, want SendBatch %s", s.Parent.SpanID(), root.SpanContext.SpanID())
					}
					v, _ := spanAttr(s, telemetry.KeyKind)
					kinds = append(kinds, v.AsString())
				}
				slices.Sort(kinds)
				if diff := cmp.Diff([]string{"arrow", "proto"}, slices.Compact(kinds)); diff != "" {
					t.Errorf("zerobus.debug.write kinds (-want +got):\n%s", diff)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			srv := localServer(t)
			for _, f := range tt.faults {
				srv.InjectFault(table, f)
			}
			cfg := localConfig(srv, table)
			if tt.config != nil {
				tt.config(t, &cfg)
			}
			// The caller's span must become SendBatch's parent.
			res, caller, sendErr := sendInCallerSpan(t, h, cfg, tt.rows, tt.nullRows...)
			if (sendErr == nil) != (tt.wantOutcome == "success") {
				t.Fatalf("SendBatch error = %v, want outcome %s", sendErr, tt.wantOutcome)
			}

			rm := h.collect(t)
			spans := h.spans.GetSpans()
			outcome := telemetry.KeyOutcome.String(tt.wantOutcome)

			// Common to every operation.
			wantCounts(t, rm, []counterWant{
				{"zerobus.batches.sent", []attribute.KeyValue{tableAttr, outcome}, 1},
				{"zerobus.batches.sent", nil, 1},
				{"zerobus.rows.failed", []attribute.KeyValue{tableAttr}, int64(res.FailedCount)},
			})
			if !res.WriterDisabled {
				wantCounts(t, rm, []counterWant{
					{"zerobus.rows.sent", []attribute.KeyValue{tableAttr}, int64(res.SuccessfulCount)},
					{"zerobus.bytes.sent", []attribute.KeyValue{tableAttr}, int64(res.BatchSizeBytes)},
				})
			}
			if got := histCount(rm, "zerobus.send.duration", tableAttr, outcome); got != 1 {
				t.Errorf("zerobus.send.duration{%s} count = %d, want 1", tt.wantOutcome, got)
			}
			if tt.rows > 0 && res.FailedCount < res.TotalRows || res.WriterDisabled {
				if got := histCount(rm, "zerobus.conversion.duration", tableAttr); got < 1 {
					t.Errorf("zerobus.conversion.duration count = %d, want >= 1", got)
				}
			}

			root := oneSpan(t, spans, "zerobus.SendBatch")
			if root.Parent.SpanID() != caller.SpanID() || root.SpanContext.TraceID() != caller.TraceID() {
				t.Errorf("SendBatch parent = %s/%s, want the caller's span %s/%s",
					root.Parent.TraceID(), root.Parent.SpanID(), caller.TraceID(), caller.SpanID())
			}
			if v, _ := spanAttr(root, telemetry.KeyTable); v.AsString() != table {
				t.Errorf("SendBatch %s = %q, want %q", telemetry.KeyTable, v.AsString(), table)
			}
			if v, _ := spanAttr(root, "zerobus.rows"); v.AsInt64() != int64(tt.rows) {
				t.Errorf("SendBatch zerobus.rows = %d, want %d", v.AsInt64(), tt.rows)
			}
			if wantErr := tt.wantOutcome != "success"; (root.Status.Code == codes.Error) != wantErr {
				t.Errorf("SendBatch status = %v, want error %v", root.Status, wantErr)
			}
			if tt.wantOutcome != "failure" {
				checkChildren(t, spans, "zerobus.convert", 1)
			}
			tt.check(t, rm, spans, res, h.logs.messages(t))
		})
	}
}

// sendInCallerSpan creates a Wrapper for cfg recording into h, sends it a
// telBatch of rows (nullRows null) inside a "caller" span, and closes it.
// It returns SendBatch's result, the caller span's context and SendBatch's
// error.
func sendInCallerSpan(t *testing.T, h *otelHarness, cfg core.Config, rows int, nullRows ...int) (*core.TransmissionResult, trace.SpanContext, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w := h.wrapper(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ctx, caller := h.tp.Tracer("caller").Start(ctx, "caller")
	rec := telBatch(mem, rows, nullRows...)
	res, sendErr := w.SendBatch(ctx, rec)
	rec.Release()
	caller.End()
	closeWrapper(t, w)
	return res, caller.SpanContext(), sendErr
}

type counterWant struct {
	name  string
	attrs []attribute.KeyValue
	want  int64
}

func wantCounts(t *testing.T, rm metricdata.ResourceMetrics, wants []counterWant) {
	t.Helper()
	for _, w := range wants {
		if got := sumInt(rm, w.name, w.attrs...); got != w.want {
			t.Errorf("%s%v = %d, want %d", w.name, w.attrs, got, w.want)
		}
	}
}

// oneSpan returns the only span called name.
func oneSpan(t *testing.T, spans tracetest.SpanStubs, name string) tracetest.SpanStub {
	t.Helper()
	got := spansNamed(spans, name)
	if len(got) != 1 {
		names := make([]string, len(spans))
		for i, s := range spans {
			names[i] = s.Name
		}
		t.Fatalf("%d %s spans, want 1; spans: %v", len(got), name, names)
	}
	return got[0]
}

// checkChildren asserts at least min spans called name, all children of the
// single zerobus.SendBatch span.
func checkChildren(t *testing.T, spans tracetest.SpanStubs, name string, min int) {
	t.Helper()
	root := oneSpan(t, spans, "zerobus.SendBatch")
	got := spansNamed(spans, name)
	if len(got) < min {
		t.Errorf("%d %s spans, want >= %d", len(got), name, min)
	}
	for _, s := range got {
		if s.Parent.SpanID() != root.SpanContext.SpanID() {
			t.Errorf("%s parent = %s, want SendBatch %s", name, s.Parent.SpanID(), root.SpanContext.SpanID())
		}
	}
}

// wrapperMetrics and wrapperSpans are what one successful SendBatch to a
// server records (debug files off).
var (
	wrapperMetrics = []string{
		"zerobus.ack.duration", "zerobus.batches.sent", "zerobus.bytes.sent", "zerobus.conversion.duration",
		"zerobus.inflight.bytes", "zerobus.inflight.requests", "zerobus.rows.sent", "zerobus.send.duration",
		"zerobus.stream.creations", "zerobus.token.fetches",
	}
	wrapperSpans = []string{
		"zerobus.SendBatch", "zerobus.convert", "zerobus.stream.create", "zerobus.token.fetch",
		"zerobus.transmit", "zerobus.wait_acks",
	}
)

// sendThroughTelemetry sends rows through a Wrapper that records into tel
// and checks the server stored them all.
func sendThroughTelemetry(t *testing.T, srv *zerobuslocal.Server, cfg core.Config, tel *core.Telemetry, rows int) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts := append(tel.Options(), core.WithRetryBackoff(func(int, time.Duration, time.Duration) time.Duration { return time.Millisecond }))
	w, err := core.New(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rec := telBatch(mem, rows)
	defer rec.Release()
	if _, err := w.SendBatch(ctx, rec); err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	closeWrapper(t, w)
	if got := srv.RecordCount(cfg.TableName); got != rows {
		t.Errorf("server stored %d rows, want %d", got, rows)
	}
}

// TestSetupTelemetryOTLP exports a Wrapper's telemetry over OTLP/gRPC and
// OTLP/HTTP to an in-test collector on 127.0.0.1.
func TestSetupTelemetryOTLP(t *testing.T) {
	tests := []struct {
		name     string
		protocol string
		endpoint func(*otlptest.Receiver) string
	}{
		{"grpc", "grpc", (*otlptest.Receiver).GRPCEndpoint},
		{"http", "http", (*otlptest.Receiver).HTTPEndpoint},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rcv, err := otlptest.Start()
			if err != nil {
				t.Fatal(err)
			}
			defer rcv.Close()
			srv := localServer(t)
			cfg := localConfig(srv, "main.default.otlp_"+tt.name)
			cfg.ObservabilityEnabled = true
			cfg.OTLPEndpoint = tt.endpoint(rcv)
			cfg.OTLPProtocol = tt.protocol
			cfg.ObservabilityInterval = time.Hour // only the final export on Shutdown
			tel, err := core.SetupTelemetry(context.Background(), cfg)
			if err != nil {
				t.Fatalf("SetupTelemetry: %v", err)
			}
			sendThroughTelemetry(t, srv, cfg, tel, 100)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := tel.Shutdown(ctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}

			if missing := missingNames(wrapperMetrics, rcv.MetricNames()); len(missing) > 0 {
				t.Errorf("collector lacks metrics %v; got %v", missing, rcv.MetricNames())
			}
			if missing := missingNames(wrapperSpans, rcv.SpanNames()); len(missing) > 0 {
				t.Errorf("collector lacks spans %v; got %v", missing, rcv.SpanNames())
			}
			g, h := rcv.Requests()
			if tt.protocol == "grpc" && (g == 0 || h != 0) || tt.protocol == "http" && (h == 0 || g != 0) {
				t.Errorf("collector got %d gRPC and %d HTTP requests, want all over %s", g, h, tt.protocol)
			}
		})
	}
}

// TestSetupTelemetryEndpointDown: with the collector unreachable, sends
// still succeed and Shutdown returns once its context ends.
func TestSetupTelemetryEndpointDown(t *testing.T) {
	for _, protocol := range []string{"grpc", "http"} {
		t.Run(protocol, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			closed := "http://" + l.Addr().String()
			l.Close()

			srv := localServer(t)
			cfg := localConfig(srv, "main.default.down_"+protocol)
			cfg.ObservabilityEnabled = true
			cfg.OTLPEndpoint = closed
			cfg.OTLPProtocol = protocol
			cfg.ObservabilityInterval = 20 * time.Millisecond // exports keep failing meanwhile
			tel, err := core.SetupTelemetry(context.Background(), cfg)
			if err != nil {
				t.Fatalf("SetupTelemetry: %v", err)
			}
			for range 3 {
				sendThroughTelemetry(t, srv, cfg, tel, 50)
				srv.DropTable(cfg.TableName)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			err = tel.Shutdown(ctx)
			t.Logf("Shutdown with the collector down: %v", err)
		})
	}
}

func missingNames(want, got []string) []string {
	var out []string
	for _, n := range want {
		if !slices.Contains(got, n) {
			out = append(out, n)
		}
	}
	return out
}

// TestLogsCarryTraceID: with a logger at Debug level, every record the
// library logs while a SendBatch runs inside the caller's span (token
// fetch, stream creation, retries, recovery) carries that span's trace id,
// through the correlating handler WithLogger's logger is wrapped in.
func TestLogsCarryTraceID(t *testing.T) {
	const table = "main.default.logtrace"
	tests := []struct {
		name   string
		faults []zerobuslocal.Fault
		config func(*core.Config)
		// wantMsgs must each be logged at least once (with the trace id).
		wantMsgs []string
	}{
		{
			name:     "first batch",
			wantMsgs: []string{"zerobus: token http: performing request", "zerobus: fetched OAuth token", "zerobus: stream created"},
		},
		{
			name:     "retry at creation",
			faults:   []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, Code: grpccodes.Unavailable}},
			wantMsgs: []string{"zerobus: stream creation failed; retrying", "zerobus: stream created"},
		},
		{
			// The first RPC never acks and fails after two requests, so
			// the batch's requests are re-sent by a recovery.
			name: "recovery mid-batch",
			faults: []zerobuslocal.Fault{
				{Kind: zerobuslocal.FaultStallAcks},
				{Kind: zerobuslocal.FaultError, Code: grpccodes.Unavailable, AfterMessages: 2},
			},
			config:   func(cfg *core.Config) { cfg.MaxMessageBytes, cfg.MaxRecordBytes = 1024, 1024 },
			wantMsgs: []string{"zerobus: stream RPC failed; recovering", "zerobus: stream created"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			srv := localServer(t)
			for _, f := range tt.faults {
				srv.InjectFault(table, f)
			}
			cfg := localConfig(srv, table)
			if tt.config != nil {
				tt.config(&cfg)
			}
			_, caller, sendErr := sendInCallerSpan(t, h, cfg, 200)
			if sendErr != nil {
				t.Fatalf("SendBatch: %v", sendErr)
			}
			if got := srv.RecordCount(table); got < 200 {
				t.Errorf("server stored %d rows, want >= 200", got)
			}

			traceID := caller.TraceID().String()
			seen := map[string]bool{}
			for _, l := range h.logs.records(t) {
				seen[l.Msg] = true
				if l.Msg == "zerobus wrapper created" {
					continue // logged by New, outside the span
				}
				if l.TraceID != traceID || l.SpanID == "" {
					t.Errorf("log %q: trace_id %q span_id %q, want the caller's trace %s", l.Msg, l.TraceID, l.SpanID, traceID)
				}
			}
			for _, m := range tt.wantMsgs {
				if !seen[m] {
					t.Errorf("no log record %q", m)
				}
			}
		})
	}
}

// logRecord is the part of a JSON log record the tests read.
type logRecord struct {
	Msg     string `json:"msg"`
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
}

// records parses every JSON log record written so far.
func (s *syncBuffer) records(t *testing.T) []logRecord {
	t.Helper()
	out, err := syncbuf.JSONLines[logRecord](&s.Buffer)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

package stream

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// otelEnv records the stream client's metrics, spans and JSON logs.
type otelEnv struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.InMemoryExporter
	tp     *sdktrace.TracerProvider
}

// withOTel makes cfg record into a new otelEnv; logs go to e.logs as JSON
// at Debug level (so the env's secret check still sees them).
func withOTel(t *testing.T, e *env, cfg *Config) *otelEnv {
	t.Helper()
	o := &otelEnv{reader: sdkmetric.NewManualReader(), spans: tracetest.NewInMemoryExporter()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(o.reader))
	o.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(o.spans))
	t.Cleanup(func() {
		_ = o.tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	logger := slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Telemetry = telemetry.New(mp, o.tp, logger)
	return o
}

// sum adds the points of the int counter name whose attributes include kvs.
func (o *otelEnv) sum(t *testing.T, name string, kvs ...attribute.KeyValue) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := o.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			d, ok := m.Data.(metricdata.Sum[int64])
			if m.Name != name || !ok {
				continue
			}
		points:
			for _, dp := range d.DataPoints {
				for _, kv := range kvs {
					if v, ok := dp.Attributes.Value(kv.Key); !ok || v != kv.Value {
						continue points
					}
				}
				n += dp.Value
			}
		}
	}
	return n
}

// spansNamed returns the recorded spans called name.
func (o *otelEnv) spansNamed(name string) []tracetest.SpanStub {
	var out []tracetest.SpanStub
	for _, s := range o.spans.GetSpans() {
		if s.Name == name {
			out = append(out, s)
		}
	}
	return out
}

// logLine is one JSON log record.
type logLine struct {
	Msg     string `json:"msg"`
	TraceID string `json:"trace_id"`
	SpanID  string `json:"span_id"`
}

// logLines parses every JSON log record written so far.
func logLines(t *testing.T, e *env) []logLine {
	t.Helper()
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// TestTraceContextCarried: the stream's spans and logs join the caller's
// trace. OpenStream's token fetch is a child of "zerobus.stream.create"
// (itself a child of the caller's span), and a recovery that re-sends a
// request runs in the trace of that request's sender, with its logs
// carrying trace_id and span_id.
func TestTraceContextCarried(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	cfg := e.config()
	o := withOTel(t, e, &cfg)
	// The first RPC never acks and fails after 2 messages, so the sender's
	// requests are pending and are re-sent by a recovery.
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks})
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Unavailable, AfterMessages: 2})
	c := e.client(cfg)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	openCtx, opener := o.tp.Tracer("test").Start(ctx, "opener")
	s, err := c.OpenStream(openCtx, testDescriptor(), zerobuspb.RecordType_PROTO)
	opener.End()
	if err != nil {
		e.note(err)
		t.Fatalf("OpenStream: %v", err)
	}
	sendCtx, sender := o.tp.Tracer("test").Start(ctx, "sender")
	reqs, err := sendRequests(sendCtx, s, 4, 3)
	sender.End()
	if err != nil {
		e.note(err)
		t.Fatalf("Send: %v", err)
	}
	for i, r := range reqs {
		if err := r.p.Wait(ctx); err != nil {
			e.note(err)
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if err := s.Close(ctx); err != nil {
		e.note(err)
		t.Fatalf("Close: %v", err)
	}

	creates := o.spansNamed("zerobus.stream.create")
	fetches := o.spansNamed("zerobus.token.fetch")
	recovers := o.spansNamed("zerobus.stream.recover")
	if len(creates) != 1 || len(fetches) != 1 || len(recovers) != 1 {
		t.Fatalf("got %d create, %d token.fetch, %d recover spans; want 1 each", len(creates), len(fetches), len(recovers))
	}
	openSC, sendSC := opener.SpanContext(), sender.SpanContext()
	if got, want := creates[0].Parent.SpanID(), openSC.SpanID(); got != want {
		t.Errorf("stream.create parent = %s, want the caller's span %s", got, want)
	}
	if got, want := fetches[0].Parent.SpanID(), creates[0].SpanContext.SpanID(); got != want {
		t.Errorf("token.fetch parent = %s, want stream.create %s", got, want)
	}
	if got, want := fetches[0].SpanContext.TraceID(), openSC.TraceID(); got != want {
		t.Errorf("token.fetch trace = %s, want the caller's %s", got, want)
	}
	if got, want := recovers[0].Parent.SpanID(), sendSC.SpanID(); got != want {
		t.Errorf("stream.recover parent = %s, want the sender's span %s", got, want)
	}
	if v := attrOf(recovers[0].Attributes, telemetry.KeyErrorKind); v != "connection" {
		t.Errorf("stream.recover %s = %q, want connection", telemetry.KeyErrorKind, v)
	}

	// The trace each log message must carry; every occurrence is checked.
	want := map[string]string{
		"zerobus: token http: performing request": openSC.TraceID().String(),
		"zerobus: token http: response":           openSC.TraceID().String(),
		"zerobus: fetched OAuth token":            openSC.TraceID().String(),
		"zerobus: stream RPC failed; recovering":  sendSC.TraceID().String(),
	}
	seen := map[string]int{}
	var created []string
	for _, l := range logLines(t, e) {
		if l.Msg == "zerobus: stream created" {
			created = append(created, l.TraceID)
		}
		tid, ok := want[l.Msg]
		if !ok {
			continue
		}
		seen[l.Msg]++
		if l.TraceID != tid || l.SpanID == "" {
			t.Errorf("log %q has trace_id %q span_id %q, want trace %s", l.Msg, l.TraceID, l.SpanID, tid)
		}
	}
	for msg := range want {
		if seen[msg] == 0 {
			t.Errorf("no log line %q", msg)
		}
	}
	wantCreated := []string{openSC.TraceID().String(), sendSC.TraceID().String()}
	if len(created) != 2 || created[0] != wantCreated[0] || created[1] != wantCreated[1] {
		t.Errorf("\"stream created\" logs carry traces %q, want %q (open, then recovery)", created, wantCreated)
	}
}

func attrOf(kvs []attribute.KeyValue, key attribute.Key) string {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value.Emit()
		}
	}
	return ""
}

// TestCloseSignalRecoveryCountedOnce: a CloseStreamSignal received while a
// request is pending moves the stream to a new RPC, which counts exactly one
// zerobus.stream.recoveries (labelled close_signal) and no retry.
func TestCloseSignalRecoveryCountedOnce(t *testing.T) {
	// Acks trail by 200ms, so request A is still in flight when the signal
	// (sent as soon as A is stored) arrives; B, sent once the client is
	// draining, stays queued and is what the new RPC carries.
	e := newEnv(t, zerobuslocal.Options{AckPolicy: zerobuslocal.DelayedAcks(200*time.Millisecond, 0)})
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, AfterMessages: 1, CloseAfter: 20 * time.Second})
	cfg := e.config()
	o := withOTel(t, e, &cfg)
	c := e.client(cfg)
	s := e.open(c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	pa, err := s.Send(ctx, rowsBatch(0, 1))
	if err != nil {
		t.Fatalf("Send A: %v", err)
	}
	first, err := e.srv.WaitFor(ctx, func(ev zerobuslocal.Event) bool { return ev.Kind == zerobuslocal.EventCloseSignalSent })
	if err != nil {
		t.Fatalf("waiting for the close signal: %v", err)
	}
	// Wait (bounded by ctx) until the client has seen the signal, or A is
	// acknowledged (then the move is lazy: still exactly one recovery).
	for {
		s.mu.Lock()
		draining := s.st.draining
		s.mu.Unlock()
		if draining {
			break
		}
		select {
		case <-pa.Done():
		case <-ctx.Done():
			t.Fatal("the client never processed the close signal")
		case <-time.After(time.Millisecond):
			continue
		}
		break
	}
	pb, err := s.Send(ctx, rowsBatch(1, 1))
	if err != nil {
		t.Fatalf("Send B: %v", err)
	}
	for name, p := range map[string]*Pending{"A": pa, "B": pb} {
		if err := p.Wait(ctx); err != nil {
			e.note(err)
			t.Fatalf("request %s: %v", name, err)
		}
	}
	if err := s.Close(ctx); err != nil {
		e.note(err)
		t.Fatalf("Close: %v", err)
	}

	streamOf := map[int64]string{}
	for _, r := range e.srv.Rows(testTable) {
		streamOf[decodeID(t, r.Raw)] = r.StreamID
	}
	if streamOf[0] != first.StreamID || streamOf[1] == "" || streamOf[1] == first.StreamID {
		t.Errorf("A stored on %q, B on %q; want A on the signalled RPC %q and B on a new one", streamOf[0], streamOf[1], first.StreamID)
	}
	if got := e.srv.Stats().StreamsCreated; got != 2 {
		t.Errorf("server streams created = %d, want 2", got)
	}
	table := telemetry.KeyTable.String(testTable)
	if got := o.sum(t, "zerobus.stream.recoveries", table); got != 1 {
		t.Errorf("zerobus.stream.recoveries = %d, want 1 (one move to a new RPC)", got)
	}
	if got := o.sum(t, "zerobus.stream.recoveries", table, telemetry.KeyErrorKind.String("close_signal")); got != 1 {
		t.Errorf("zerobus.stream.recoveries{close_signal} = %d, want 1", got)
	}
	if got := o.sum(t, "zerobus.retries"); got != 0 {
		t.Errorf("zerobus.retries = %d, want 0 (a close signal after progress is not a failure)", got)
	}
	if got := o.sum(t, "zerobus.stream.creations", telemetry.KeyOutcome.String("success")); got != 2 {
		t.Errorf("zerobus.stream.creations{success} = %d, want 2", got)
	}
	if n := len(o.spansNamed("zerobus.stream.recover")); n != 1 {
		t.Errorf("%d zerobus.stream.recover spans, want 1", n)
	}
}

package telemetry

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry/otlptest"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/leakcheck"
)

// allMetricNames is every instrument New creates.
var allMetricNames = []string{
	"zerobus.ack.duration",
	"zerobus.batches.sent",
	"zerobus.bytes.sent",
	"zerobus.conversion.duration",
	"zerobus.debug.bytes",
	"zerobus.debug.dropped",
	"zerobus.debug.failures",
	"zerobus.debug.rotations",
	"zerobus.debug.writes",
	"zerobus.inflight.bytes",
	"zerobus.inflight.requests",
	"zerobus.retries",
	"zerobus.rows.failed",
	"zerobus.rows.resent",
	"zerobus.rows.sent",
	"zerobus.send.duration",
	"zerobus.stream.creations",
	"zerobus.stream.recoveries",
	"zerobus.token.fetches",
}

var testSpanNames = []string{"zerobus.SendBatch", "zerobus.convert", "zerobus.stream.create"}

// recordAll touches every instrument once and makes a parent span with a
// child and a failed span. It returns the parent's span context.
func recordAll(ctx context.Context, tel *Telemetry) trace.SpanContext {
	table := metric.WithAttributes(KeyTable.String("main.default.t"))
	tel.BatchesSent.Add(ctx, 1, metric.WithAttributes(KeyTable.String("main.default.t"), KeyOutcome.String("success")))
	tel.RowsSent.Add(ctx, 10, table)
	tel.RowsFailed.Add(ctx, 1, metric.WithAttributes(KeyTable.String("main.default.t"), KeyErrorKind.String("conversion")))
	tel.RowsResent.Add(ctx, 2, table)
	tel.BytesSent.Add(ctx, 100, table)
	tel.SendDuration.Record(ctx, 0.01, table)
	tel.ConvertDuration.Record(ctx, 0.001, table)
	tel.AckDuration.Record(ctx, 0.005, table)
	tel.InflightRequests.Add(ctx, 1, table)
	tel.InflightBytes.Add(ctx, 100, table)
	tel.Retries.Add(ctx, 1, metric.WithAttributes(KeyErrorKind.String("unavailable")))
	tel.StreamCreations.Add(ctx, 1, metric.WithAttributes(KeyOutcome.String("success")))
	tel.StreamRecoveries.Add(ctx, 1, table)
	tel.TokenFetches.Add(ctx, 1, metric.WithAttributes(KeyOutcome.String("success"), KeyRefresh.Bool(false)))
	tel.DebugWrites.Add(ctx, 1, metric.WithAttributes(KeyKind.String("arrow")))
	tel.DebugBytes.Add(ctx, 64, metric.WithAttributes(KeyKind.String("arrow")))
	tel.DebugRotations.Add(ctx, 1, metric.WithAttributes(KeyKind.String("proto")))
	tel.DebugFailures.Add(ctx, 1, metric.WithAttributes(KeyKind.String("proto")))
	tel.DebugDropped.Add(ctx, 1, metric.WithAttributes(KeyKind.String("proto")))

	ctx, parent := tel.Start(ctx, "zerobus.SendBatch", KeyTable.String("main.default.t"))
	cctx, child := tel.Start(ctx, "zerobus.convert")
	tel.Logger().InfoContext(cctx, "converted", "rows", 10)
	End(child, nil)
	_, failed := tel.Start(ctx, "zerobus.stream.create")
	End(failed, errors.New("unavailable"))
	End(parent, nil)
	return parent.SpanContext()
}

// checkNoGoroutineLeak waits (bounded) for the goroutine count to fall back
// to before, and fails with a dump if it does not.
func checkNoGoroutineLeak(t *testing.T, before int) {
	t.Helper()
	leakcheck.Goroutines(t, before, 10*time.Second)
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name       string
		cfg        ExportConfig
		wantFields []string // FieldError.Field of every problem, in order
		wantText   []string // substrings of the joined message
		notText    []string // must not appear (secrets)
	}{
		{name: "zero value", cfg: ExportConfig{}},
		{name: "full grpc", cfg: ExportConfig{Enabled: true, Endpoint: "https://collector.example:4317", Protocol: "GRPC", Interval: time.Second, LogLevel: "WARN"}},
		{name: "http with path", cfg: ExportConfig{Enabled: true, Endpoint: "http://127.0.0.1:4318/otlp/", Protocol: "http/protobuf"}},
		{
			name:       "every field wrong",
			cfg:        ExportConfig{Endpoint: "127.0.0.1:4317", Protocol: "thrift", Interval: -time.Second, LogLevel: "loud"},
			wantFields: []string{"Protocol", "Endpoint", "Interval", "LogLevel"},
			wantText:   []string{`"thrift"`, "http://127.0.0.1:4317", "-1s", `"loud"`},
		},
		{
			name:       "grpc endpoint with a path",
			cfg:        ExportConfig{Endpoint: "http://127.0.0.1:4317/v1"},
			wantFields: []string{"Endpoint"},
			wantText:   []string{"OTLP/gRPC"},
		},
		{
			name:       "unsupported scheme",
			cfg:        ExportConfig{Endpoint: "ftp://127.0.0.1:4317"},
			wantFields: []string{"Endpoint"},
		},
		{
			name:       "user info is refused and not echoed",
			cfg:        ExportConfig{Endpoint: "http://user:hunter2@127.0.0.1:4317"},
			wantFields: []string{"Endpoint"},
			notText:    []string{"hunter2"},
		},
		{
			name:       "query is refused and not echoed",
			cfg:        ExportConfig{Endpoint: "http://127.0.0.1:4318?token=hunter2", Protocol: "http"},
			wantFields: []string{"Endpoint"},
			notText:    []string{"hunter2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			var gotFields []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe *FieldError
					if !errors.As(e, &fe) {
						t.Fatalf("problem %v is %T, want *FieldError", e, e)
					}
					gotFields = append(gotFields, fe.Field)
				}
			}
			if diff := cmp.Diff(tt.wantFields, gotFields); diff != "" {
				t.Errorf("problem fields mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			for _, s := range tt.wantText {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			for _, s := range tt.notText {
				if err != nil && strings.Contains(err.Error(), s) {
					t.Errorf("error %q leaks %q", err, s)
				}
			}
		})
	}
}

func TestSetupDisabled(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "never")
	p, err := Setup(context.Background(), ExportConfig{OutputDir: dir, Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	if _, ok := p.MeterProvider.(metricnoop.MeterProvider); !ok {
		t.Errorf("MeterProvider is %T, want the no-op provider", p.MeterProvider)
	}
	if _, ok := p.TracerProvider.(tracenoop.TracerProvider); !ok {
		t.Errorf("TracerProvider is %T, want the no-op provider", p.TracerProvider)
	}
	if !p.Logger.Enabled(context.Background(), slog.LevelInfo) || p.Logger.Enabled(context.Background(), slog.LevelDebug) {
		t.Errorf("disabled Setup logger: want enabled at the default level info only")
	}
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Errorf("ForceFlush: %v", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("disabled Setup touched OutputDir: stat err = %v, want not exist", err)
	}
}

func TestSetupInvalid(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		cfg       ExportConfig
		wantField string
	}{
		{"bad protocol", ExportConfig{Enabled: true, Protocol: "udp"}, "Protocol"},
		{"OutputDir is a file", ExportConfig{Enabled: true, OutputDir: file}, "OutputDir"},
		{"OutputDir under a file", ExportConfig{Enabled: true, OutputDir: filepath.Join(file, "sub")}, "OutputDir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			p, err := Setup(context.Background(), tt.cfg)
			if err == nil {
				_ = p.Shutdown(context.Background())
				t.Fatalf("Setup succeeded, want an error on %s", tt.wantField)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.wantField {
				t.Errorf("Setup error = %v, want a *FieldError on %s", err, tt.wantField)
			}
			checkNoGoroutineLeak(t, before)
		})
	}
}

// TestSetupOTLP exports every instrument and a small trace over OTLP/gRPC
// and OTLP/HTTP to an in-test collector on 127.0.0.1.
func TestSetupOTLP(t *testing.T) {
	tests := []struct {
		name     string
		protocol string
		endpoint func(r *otlptest.Receiver) string
		wantGRPC bool
		// wantPaths are the distinct HTTP paths the collector saw.
		wantPaths []string
	}{
		{"grpc", "grpc", (*otlptest.Receiver).GRPCEndpoint, true, nil},
		{"grpc default protocol", "", (*otlptest.Receiver).GRPCEndpoint, true, nil},
		{"http", "http", (*otlptest.Receiver).HTTPEndpoint, false, []string{"/v1/metrics", "/v1/traces"}},
		{"http base path", "http/protobuf", func(r *otlptest.Receiver) string { return r.HTTPEndpoint() + "/otlp/" }, false, []string{"/otlp/v1/metrics", "/otlp/v1/traces"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			rcv, err := otlptest.Start()
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			p, err := Setup(ctx, ExportConfig{Enabled: true, Endpoint: tt.endpoint(rcv), Protocol: tt.protocol, Interval: time.Hour})
			if err != nil {
				t.Fatalf("Setup: %v", err)
			}
			tel := New(p.MeterProvider, p.TracerProvider, nil)
			parent := recordAll(ctx, tel)

			sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			if err := p.Shutdown(sctx); err != nil {
				t.Fatalf("Shutdown: %v", err)
			}
			if err := p.Shutdown(sctx); err != nil {
				t.Errorf("second Shutdown: %v, want the first result (nil)", err)
			}

			if diff := cmp.Diff(allMetricNames, rcv.MetricNames()); diff != "" {
				t.Errorf("metric names mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(testSpanNames, rcv.SpanNames()); diff != "" {
				t.Errorf("span names mismatch (-want +got):\n%s", diff)
			}
			checkSpans(t, rcv.ResourceSpans(), parent)
			checkServiceName(t, rcv.ResourceSpans())

			g, h := rcv.Requests()
			if tt.wantGRPC && (g == 0 || h != 0) || !tt.wantGRPC && (h == 0 || g != 0) {
				t.Errorf("requests: grpc %d, http %d; want all over %s", g, h, tt.name)
			}
			paths := slices.Compact(slices.Sorted(slices.Values(rcv.HTTPPaths())))
			if diff := cmp.Diff(tt.wantPaths, paths); len(tt.wantPaths) > 0 && diff != "" {
				t.Errorf("HTTP paths mismatch (-want +got):\n%s", diff)
			}
			rcv.Close()
			checkNoGoroutineLeak(t, before)
		})
	}
}

// checkSpans asserts parentage, the table attribute and the recorded error.
func checkSpans(t *testing.T, rss []*tracepb.ResourceSpans, parent trace.SpanContext) {
	t.Helper()
	spans := map[string]*tracepb.Span{}
	for _, rs := range rss {
		for _, ss := range rs.GetScopeSpans() {
			if got := ss.GetScope().GetName(); got != ScopeName {
				t.Errorf("scope name = %q, want %q", got, ScopeName)
			}
			for _, s := range ss.GetSpans() {
				spans[s.GetName()] = s
			}
		}
	}
	root := spans["zerobus.SendBatch"]
	if root == nil {
		t.Fatalf("no zerobus.SendBatch span among %v", spans)
	}
	if got, want := root.GetTraceId(), parent.TraceID(); !bytes.Equal(got, want[:]) {
		t.Errorf("SendBatch trace id = %x, want %x", got, want)
	}
	if got, want := root.GetSpanId(), parent.SpanID(); !bytes.Equal(got, want[:]) {
		t.Errorf("SendBatch span id = %x, want %x", got, want)
	}
	if got := attrString(root, string(KeyTable)); got != "main.default.t" {
		t.Errorf("SendBatch %s = %q, want main.default.t", KeyTable, got)
	}
	for _, name := range []string{"zerobus.convert", "zerobus.stream.create"} {
		s := spans[name]
		if s == nil {
			t.Errorf("no %s span", name)
			continue
		}
		if !bytes.Equal(s.GetParentSpanId(), root.GetSpanId()) || !bytes.Equal(s.GetTraceId(), root.GetTraceId()) {
			t.Errorf("%s parent = %x in trace %x, want %x in %x", name, s.GetParentSpanId(), s.GetTraceId(), root.GetSpanId(), root.GetTraceId())
		}
	}
	if s := spans["zerobus.stream.create"]; s != nil {
		if got := s.GetStatus().GetCode(); got != tracepb.Status_STATUS_CODE_ERROR {
			t.Errorf("failed span status = %v, want ERROR", got)
		}
		if got := s.GetStatus().GetMessage(); got != "unavailable" {
			t.Errorf("failed span status message = %q, want unavailable", got)
		}
		if len(s.GetEvents()) != 1 || s.GetEvents()[0].GetName() != "exception" {
			t.Errorf("failed span events = %v, want one exception event", s.GetEvents())
		}
	}
}

func attrString(s *tracepb.Span, key string) string {
	for _, kv := range s.GetAttributes() {
		if kv.GetKey() == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

func checkServiceName(t *testing.T, rss []*tracepb.ResourceSpans) {
	t.Helper()
	want := DefaultServiceName
	if env := os.Getenv("OTEL_SERVICE_NAME"); env != "" {
		want = env
	}
	for _, rs := range rss {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				if got := kv.GetValue().GetStringValue(); got != want {
					t.Errorf("service.name = %q, want %q", got, want)
				}
				return
			}
		}
	}
	t.Errorf("no service.name resource attribute")
}

// TestSetupFile checks file mode: OTLP JSON lines that decode back into the
// export requests, hex ids matching the spans, and correlated JSON logs.
func TestSetupFile(t *testing.T) {
	before := runtime.NumGoroutine() - rotatingPaths()
	dir := filepath.Join(t.TempDir(), "otel") // created by Setup
	ctx := context.Background()
	p, err := Setup(ctx, ExportConfig{Enabled: true, OutputDir: dir, LogLevel: "debug", Interval: time.Hour})
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	tel := New(p.MeterProvider, p.TracerProvider, p.Logger)
	parent := recordAll(ctx, tel)
	// Flush mid-way, then record again: the file gets several lines.
	if err := p.ForceFlush(ctx); err != nil {
		t.Fatalf("ForceFlush: %v", err)
	}
	tel.RowsSent.Add(ctx, 5, metric.WithAttributes(KeyTable.String("main.default.t")))
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	checkNoGoroutineLeak(t, before+rotatingPaths())

	mreqs, err := otlptest.ReadMetricsFile(filepath.Join(dir, MetricsFileName))
	if err != nil {
		t.Fatalf("reading metrics file: %v", err)
	}
	if len(mreqs) < 2 {
		t.Errorf("metrics file has %d lines, want >= 2 (flush, then shutdown)", len(mreqs))
	}
	var rms []*metricpb.ResourceMetrics
	for _, r := range mreqs {
		rms = append(rms, r.GetResourceMetrics()...)
	}
	if diff := cmp.Diff(allMetricNames, otlptest.MetricNames(rms)); diff != "" {
		t.Errorf("metric names in file mismatch (-want +got):\n%s", diff)
	}
	// rows.sent is cumulative: the last export holds 10 + 5.
	if got := lastSum(rms, "zerobus.rows.sent"); got != 15 {
		t.Errorf("last zerobus.rows.sent = %d, want 15", got)
	}

	treqs, err := otlptest.ReadTracesFile(filepath.Join(dir, TracesFileName))
	if err != nil {
		t.Fatalf("reading traces file: %v", err)
	}
	var rss []*tracepb.ResourceSpans
	for _, r := range treqs {
		rss = append(rss, r.GetResourceSpans()...)
	}
	if diff := cmp.Diff(testSpanNames, otlptest.SpanNames(rss)); diff != "" {
		t.Errorf("span names in file mismatch (-want +got):\n%s", diff)
	}
	checkSpans(t, rss, parent)

	raw, err := os.ReadFile(filepath.Join(dir, TracesFileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(`"traceId":"`+parent.TraceID().String()+`"`)) {
		t.Errorf("traces file lacks the hex trace id %s:\n%s", parent.TraceID(), raw)
	}

	logs, err := os.ReadFile(filepath.Join(dir, LogsFileName))
	if err != nil {
		t.Fatal(err)
	}
	lines := decodeLines(t, logs)
	if len(lines) != 1 {
		t.Fatalf("logs file has %d lines, want 1: %s", len(lines), logs)
	}
	if got, want := lines[0][LogKeyTraceID], parent.TraceID().String(); got != want {
		t.Errorf("log trace_id = %v, want %v", got, want)
	}
	if lines[0]["msg"] != "converted" {
		t.Errorf("log msg = %v, want converted", lines[0]["msg"])
	}

	// Recording and logging after Shutdown are harmless no-ops.
	tel.RowsSent.Add(ctx, 1)
	p.Logger.Info("after shutdown")
}

// lastSum returns the sum over data points of the last export of the int
// sum metric name in rms.
func lastSum(rms []*metricpb.ResourceMetrics, name string) int64 {
	var last *metricpb.Metric
	for _, rm := range rms {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() == name {
					last = m
				}
			}
		}
	}
	var sum int64
	for _, dp := range last.GetSum().GetDataPoints() {
		sum += dp.GetAsInt()
	}
	return sum
}

// TestSetupEndpointDown points the exporters at a closed port: recording
// never blocks, and Shutdown returns once its context ends.
func TestSetupEndpointDown(t *testing.T) {
	for _, proto := range []string{"grpc", "http"} {
		t.Run(proto, func(t *testing.T) {
			before := runtime.NumGoroutine()
			ctx := context.Background()
			p, err := Setup(ctx, ExportConfig{Enabled: true, Endpoint: closedPortURL(t), Protocol: proto, Interval: 50 * time.Millisecond})
			if err != nil {
				t.Fatalf("Setup: %v", err)
			}
			tel := New(p.MeterProvider, p.TracerProvider, nil)
			// More spans (3 each) than the batch processor's queue (2048):
			// excess spans are dropped, never waited for.
			for range 800 {
				recordAll(ctx, tel)
			}
			sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			err = p.Shutdown(sctx)
			t.Logf("Shutdown with the collector down returned %v", err)
			checkNoGoroutineLeak(t, before)
		})
	}
}

// closedPortURL returns http://127.0.0.1:PORT for a port nothing listens on.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// collectorDown: a port nothing listens on is down; a collector that accepts
// connections (answering or not) is not, nor is one whose address is unknown
// (nil: chosen by the environment) or has no port. Shutdown then gives the
// final export only downGrace, whatever its ctx allows.
func TestCollectorDown(t *testing.T) {
	ctx := context.Background()
	closed, err := parseEndpoint(closedPortURL(t))
	if err != nil {
		t.Fatal(err)
	}
	if !collectorDown(ctx, &closed, probeTimeout) {
		t.Error("a closed port: not down")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0") // accepts (the kernel's backlog), never answers
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, ep := range []*endpoint{{host: l.Addr().String(), insecure: true}, {host: "127.0.0.1", insecure: true}, nil} {
		if collectorDown(ctx, ep, probeTimeout) {
			t.Errorf("%+v: down", ep)
		}
	}

	p, err := Setup(ctx, ExportConfig{Enabled: true, Endpoint: "http://" + closed.host, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	recordAll(ctx, New(p.MeterProvider, p.TracerProvider, nil))
	start := time.Now()
	_ = p.Shutdown(ctx) // no deadline: DefaultShutdownTimeout, cut to downGrace
	if d := time.Since(start); d > downGrace+time.Second {
		t.Errorf("Shutdown with the collector down took %v, want about %v", d, downGrace)
	}
}

// A collector that drops packets makes the probe wait: it waits no longer
// than what leaves the final exports downGrace of a short Shutdown budget.
func TestCollectorProbeLeavesTheExportsTheirGrace(t *testing.T) {
	closed, err := parseEndpoint(closedPortURL(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Setup(context.Background(), ExportConfig{Enabled: true, Endpoint: "http://" + closed.host, Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var probeEnd time.Time
	dialProbe = func(ctx context.Context, _, _ string) (net.Conn, error) {
		probeEnd, _ = ctx.Deadline()
		<-ctx.Done() // a black hole: no answer until the probe gives up
		return nil, ctx.Err()
	}
	defer func() { dialProbe = (&net.Dialer{}).DialContext }()
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	dl, _ := ctx.Deadline()
	_ = p.Shutdown(ctx)
	if probeEnd.IsZero() {
		t.Fatal("the collector was not probed")
	}
	if left := dl.Sub(probeEnd); left < downGrace-10*time.Millisecond {
		t.Errorf("the probe ran until %v before the deadline; the exports need %v", left, downGrace)
	}
}

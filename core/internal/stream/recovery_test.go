package stream

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestDroppedConnectionDuring100kRows sends 100,000 rows from two goroutines
// while the server drops the TCP connection twice, then checks every row.
func TestDroppedConnectionDuring100kRows(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 150})
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 250})
	cfg := e.config()
	cfg.MaxInflightRequests = 64
	c := e.client(cfg)
	s := e.open(c)
	ctx := context.Background()

	const total = 100_000
	sizes := []int{1, 50, 100, 200, 7, 150}
	type chunk struct{ from, n int }
	var chunks []chunk
	for from, i := 0, 0; from < total; i++ {
		n := min(sizes[i%len(sizes)], total-from)
		chunks = append(chunks, chunk{from, n})
		from += n
	}
	reqs := make([]sent, len(chunks))
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(chunks); i += 2 {
				ch := chunks[i]
				p, err := s.Send(ctx, rowsBatch(ch.from, ch.n))
				if err != nil {
					e.note(err)
					t.Errorf("Send: %v", err)
					return
				}
				ids := make([]int64, ch.n)
				for k := range ids {
					ids[k] = int64(ch.from + k)
				}
				reqs[i] = sent{ids: ids, p: p}
			}
		}(w)
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if err := s.Close(ctx); err != nil {
		e.note(err)
		t.Fatalf("Close: %v", err)
	}
	if got := verifyDelivery(t, e, reqs); got != len(reqs) {
		t.Errorf("acknowledged: got %d of %d requests", got, len(reqs))
	}
	stored := e.ids()
	if len(stored) != total {
		t.Errorf("distinct rows stored: got %d, want %d", len(stored), total)
	}
	if got := e.srv.Stats().StreamsCreated; got != 3 {
		t.Errorf("server streams: got %d, want 3 (two drops)", got)
	}
	dups := e.srv.RecordCount(testTable) - len(stored)
	t.Logf("100k rows over %d RPCs, %d duplicate rows (re-sent after a lost ack)", e.srv.Stats().StreamsCreated, dups)
}

// TestTelemetry checks the instruments and spans of a recovery.
func TestTelemetry(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	cfg := e.config()
	cfg.Telemetry = telemetry.New(mp, tp, slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	// The first RPC never acks, so requests are pending when it fails and
	// the failure is a retried recovery (not a lazy reconnect of an idle
	// stream) however fast the server is.
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks})
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Internal, AfterMessages: 3})
	c := e.client(cfg)
	s := e.open(c)
	ctx := context.Background()
	if _, err := sendRequests(ctx, s, 10, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	sums := map[string]int64{}
	var ackCount uint64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					sums[m.Name] += dp.Value
				}
			case metricdata.Histogram[float64]:
				if m.Name == "zerobus.ack.duration" {
					for _, dp := range d.DataPoints {
						ackCount += dp.Count
					}
				}
			}
		}
	}
	for name, min := range map[string]int64{
		"zerobus.stream.creations":  2,
		"zerobus.stream.recoveries": 1,
		"zerobus.retries":           1,
		"zerobus.token.fetches":     1,
	} {
		if sums[name] < min {
			t.Errorf("%s: got %d, want >= %d", name, sums[name], min)
		}
	}
	if sums["zerobus.inflight.requests"] != 0 || sums["zerobus.inflight.bytes"] != 0 {
		t.Errorf("in-flight after Close: %d requests, %d bytes; want 0", sums["zerobus.inflight.requests"], sums["zerobus.inflight.bytes"])
	}
	if ackCount < 10 {
		t.Errorf("ack duration samples: got %d, want >= 10", ackCount)
	}
	names := map[string]int{}
	for _, sp := range spans.GetSpans() {
		names[sp.Name]++
	}
	for _, n := range []string{"zerobus.stream.create", "zerobus.stream.recover", "zerobus.token.fetch"} {
		if names[n] == 0 {
			t.Errorf("span %s missing (got %v)", n, names)
		}
	}
	_ = tp.Shutdown(ctx)
	_ = mp.Shutdown(ctx)
}

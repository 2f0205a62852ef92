package telemetry

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry/otlptest"
)

// TestS18EnvEndpointWithOutputDir: OTEL_EXPORTER_OTLP_ENDPOINT (as an
// OpenTelemetry operator injects it) with OutputDir and no Endpoint
// exports to both, as the Endpoint doc and the README say the variables
// are used; before, only the files were written and nothing said so.
func TestS18EnvEndpointWithOutputDir(t *testing.T) {
	rcv, err := otlptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", rcv.GRPCEndpoint())
	t.Setenv("OTEL_EXPORTER_OTLP_INSECURE", "true")
	dir := t.TempDir()
	ctx := context.Background()
	p, err := Setup(ctx, ExportConfig{Enabled: true, OutputDir: dir, Interval: time.Hour, NoLogger: true})
	if err != nil {
		t.Fatal(err)
	}
	tel := New(p.MeterProvider, p.TracerProvider, nil)
	tel.RowsSent.Add(ctx, 42, metric.WithAttributes(KeyTable.String("main.default.t")))
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if got := lastSum(rcv.ResourceMetrics(), "zerobus.rows.sent"); got != 42 {
		t.Errorf("collector of OTEL_EXPORTER_OTLP_ENDPOINT got rows.sent %d, want 42", got)
	}
	reqs, err := otlptest.ReadMetricsFile(filepath.Join(dir, MetricsFileName))
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) == 0 || lastSum(reqs[len(reqs)-1].GetResourceMetrics(), "zerobus.rows.sent") != 42 {
		t.Errorf("metrics.jsonl lacks rows.sent 42 (%d lines)", len(reqs))
	}
}

package core_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	grpccodes "google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry/otlptest"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/leakcheck"
)

func TestLogQueueRecordsAndDrops(t *testing.T) {
	q := core.NewLogQueue(3)
	log := slog.New(q.Handler()).With("table", "a.b.c").WithGroup("g")
	if q.Wait(context.Background(), 10*time.Millisecond) {
		t.Fatal("Wait on an empty queue reported a record")
	}
	log.Warn("retrying", "attempt", 2, "error", errors.New("boom"), slog.Group("d", "ms", 1.5))
	log.Info("second")
	log.Debug("third")
	log.Error("fourth: dropped")
	log.Error("fifth: dropped")
	if !q.Wait(context.Background(), time.Second) {
		t.Fatal("Wait did not see the queued records")
	}
	recs, dropped := q.Take(2)
	if len(recs) != 2 || dropped != 2 {
		t.Fatalf("Take(2) = %d records, %d dropped; want 2, 2", len(recs), dropped)
	}
	r := recs[0]
	if r.Message != "retrying" || r.Level != int(slog.LevelWarn) {
		t.Errorf("record 0 = %q level %d", r.Message, r.Level)
	}
	want := map[string]any{"table": "a.b.c", "g.attempt": int64(2), "g.error": "boom", "g.d.ms": 1.5}
	for k, v := range want {
		if r.Attrs[k] != v {
			t.Errorf("attr %s = %#v, want %#v (all: %v)", k, r.Attrs[k], v, r.Attrs)
		}
	}
	if d := time.Since(time.Unix(0, int64(r.Time*1e9))); d < 0 || d > time.Minute {
		t.Errorf("record time is %v ago", d)
	}
	if !q.Wait(context.Background(), time.Second) {
		t.Fatal("one record left, Wait says none")
	}
	recs, dropped = q.Take(0)
	if len(recs) != 1 || recs[0].Message != "third" || dropped != 0 {
		t.Fatalf("second Take = %+v, dropped %d", recs, dropped)
	}
	if q.Wait(context.Background(), 10*time.Millisecond) {
		t.Error("Wait after draining reported a record")
	}
}

// TestWithTelemetryFromConfig is the path the Python binding takes:
// SetupTelemetry from the Config with a LogQueue as extra handler, the
// Wrapper owning the Telemetry. A retry at stream creation logs a WARN
// record into the queue; file mode writes OTLP metrics and spans that Close
// flushes; LogFile gets the records; no goroutine is left after Close.
func TestWithTelemetryFromConfig(t *testing.T) {
	const table = "main.default.owned_tel"
	srv := localServer(t)
	dir := t.TempDir()
	q := core.NewLogQueue(0)

	run := func(i int, fault bool) {
		srv.DropTable(table)
		if fault {
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: grpccodes.Unavailable})
		}
		cfg := localConfig(srv, table)
		cfg.ObservabilityEnabled = true
		cfg.ObservabilityOutputDir = dir
		cfg.ObservabilityInterval = time.Hour // only the export at Close
		cfg.LogFile = filepath.Join(dir, "zerobus.log")
		cfg.LogLevel = "warn"
		tel, err := core.SetupTelemetry(context.Background(), cfg, core.TelemetryLogHandler(q.Handler()))
		if err != nil {
			t.Fatal(err)
		}
		w, err := core.New(context.Background(), cfg, core.WithTelemetry(tel))
		if err != nil {
			t.Fatal(err)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		rec := telBatch(mem, 30+i)
		if _, err := w.SendBatch(context.Background(), rec); err != nil {
			t.Fatalf("SendBatch: %v", err)
		}
		rec.Release()
		closeWrapper(t, w)
		mem.AssertSize(t, 0)
	}
	run(0, false) // warm-up: goroutines started once per process
	before := runtime.NumGoroutine()
	run(1, true)
	run(2, false)
	leakcheck.Goroutines(t, before, 30*time.Second) // a poll: returns once they are gone

	recs, dropped := q.Take(0)
	var warns []string
	for _, r := range recs {
		if r.Level < int(slog.LevelWarn) {
			t.Errorf("record %q below log_level warn", r.Message)
		}
		if r.Message == "zerobus: stream creation failed; retrying" {
			warns = append(warns, r.Message)
			if r.Attrs["table"] != table {
				t.Errorf("retry record attrs %v lack table=%s", r.Attrs, table)
			}
		}
	}
	if len(warns) != 1 || dropped != 0 {
		t.Errorf("retry warnings %d (dropped %d), want 1; records %+v", len(warns), dropped, recs)
	}
	logFile, err := os.ReadFile(filepath.Join(dir, "zerobus.log"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(logFile), `"msg":"zerobus: stream creation failed; retrying"`); got != 1 {
		t.Errorf("log file has %d retry records, want 1:\n%s", got, logFile)
	}

	mreqs, err := otlptest.ReadMetricsFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var rows int64
	for _, r := range mreqs {
		rows += lastSumOf(r.GetResourceMetrics(), "zerobus.rows.sent")
	}
	if rows != 30+31+32 {
		t.Errorf("zerobus.rows.sent over the three wrappers' exports = %d, want %d", rows, 30+31+32)
	}
	treqs, err := otlptest.ReadTracesFile(filepath.Join(dir, "traces.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range treqs {
		names = append(names, otlptest.SpanNames(r.GetResourceSpans())...)
	}
	if missing := missingNames(wrapperSpans, names); len(missing) > 0 {
		t.Errorf("traces file lacks spans %v; got %v", missing, names)
	}
}

// lastSumOf adds the int data points of the sum metric name in rms (one
// export request: each metric appears once).
func lastSumOf(rms []*metricpb.ResourceMetrics, name string) int64 {
	var n int64
	for _, rm := range rms {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				if m.GetName() == name {
					for _, dp := range m.GetSum().GetDataPoints() {
						n += dp.GetAsInt()
					}
				}
			}
		}
	}
	return n
}

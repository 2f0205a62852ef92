package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestS18SummaryExcludesTelemetryShutdown: the summary's duration_s (and
// rows/s) measure the sending, not the final telemetry export after it. The
// collector here moves the command's clock on by an hour when it receives
// an export: before, Close exported before the summary took the time, and
// duration_s counted that hour (a slow collector looked like slow
// ingestion); now the export comes after.
func TestS18SummaryExcludesTelemetryShutdown(t *testing.T) {
	var mu sync.Mutex
	clock := time.Unix(1_800_000_000, 0)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(time.Millisecond); return clock }
	var exports int
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		clock = clock.Add(time.Hour)
		exports++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer collector.Close()

	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 5)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	srv := startServer(t)
	const table = "main.default.s18_summary"
	args := append(connFlags(srv, table), "-progress", "never", "-json", path)
	vars := map[string]string{"OTLP_ENABLED": "true", "OTLP_ENDPOINT": collector.URL, "OTLP_PROTOCOL": "http"}
	var out, errOut bytes.Buffer
	err := sendMain(t.Context(), args, sendEnv{
		stdout: &out, stderr: &errOut,
		lookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		now:       now,
		mem:       memory.DefaultAllocator,
	})
	if err != nil {
		t.Fatalf("send: %v\n%s", err, errOut.String())
	}
	if n := srv.RecordCount(table); n != 5 {
		t.Fatalf("%d rows stored, want 5", n)
	}
	mu.Lock()
	n := exports
	mu.Unlock()
	if n == 0 {
		t.Fatal("the collector received no export")
	}
	var sum map[string]any
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("summary %q: %v", out.String(), err)
	}
	d, ok := sum["duration_s"].(float64)
	if !ok || d >= 3600 {
		t.Errorf("duration_s = %v, want the sending's time without the export after it (< 3600)", sum["duration_s"])
	}
}

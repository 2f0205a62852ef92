package pybind

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"
)

// TestNewWrapperTelemetryAndLogs: NewWrapper sets up telemetry from the
// settings (files in the output dir, closed and flushed by Close) and its
// records reach TakeLogs at log_level; a bad telemetry setting fails with
// every problem named by key.
func TestNewWrapperTelemetryAndLogs(t *testing.T) {
	dir := t.TempDir()
	_, _ = TakeLogs(0) // records of earlier tests
	settings, _ := json.Marshal(map[string]any{
		"table_name": "main.default.pybind_logs", "zerobus_writer_disabled": true,
		"debug_enabled": true, "debug_output_dir": filepath.Join(dir, "debug"),
		"observability_enabled": true, "observability_output_dir": filepath.Join(dir, "otel"),
		"log_level": "debug", "log_file": filepath.Join(dir, "z.log"),
	})
	w, err := NewWrapper(string(settings))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(0); err != nil {
		t.Fatal(err)
	}
	if !WaitLogs(1000) {
		t.Fatal("WaitLogs: no record after NewWrapper at log_level debug")
	}
	got := takeLogs(t)
	if len(got.Records) == 0 || got.Records[0].Msg != "zerobus wrapper created" || got.Records[0].Level != -4 {
		t.Fatalf("records %+v, want the debug record of New first", got.Records)
	}
	if tn := got.Records[0].Attrs["config.table_name"]; tn != "main.default.pybind_logs" {
		t.Errorf("config.table_name attr = %v", tn)
	}
	for _, name := range []string{"otel/metrics.jsonl", "otel/traces.jsonl", "otel/logs.jsonl", "z.log"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "z.log")); !strings.Contains(string(b), `"msg":"zerobus wrapper created"`) {
		t.Errorf("log file lacks the record:\n%s", b)
	}

	bad, _ := json.Marshal(map[string]any{"table_name": "a.b.c", "log_level": "loud", "observability_max_backups": -1})
	_, err = NewWrapper(string(bad))
	if err == nil || !strings.Contains(err.Error(), "log_level") || !strings.Contains(err.Error(), "observability_max_backups") {
		t.Errorf("NewWrapper with bad telemetry settings: %v, want both keys named", err)
	}
}

// errorsTo is an OpenTelemetry error handler that records the errors given.
type errorsTo struct{ got []string }

func (e *errorsTo) Handle(err error) { e.got = append(e.got, err.Error()) }

// TestTelemetryErrorsReachLogs: the first Wrapper's telemetry setup (not the
// package's import) makes OpenTelemetry's export errors records of the log
// queue, which Python's logging drains.
func TestTelemetryErrorsReachLogs(t *testing.T) {
	prev := otel.GetErrorHandler()
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	telemetryErrorsOnce = sync.Once{} // as in a fresh process
	before := &errorsTo{}
	otel.SetErrorHandler(before) // what was there before the first Wrapper
	_, _ = TakeLogs(0)           // records of earlier tests
	settings, _ := json.Marshal(map[string]any{"table_name": "main.default.pybind_otel", "zerobus_writer_disabled": true})
	w, err := NewWrapper(string(settings))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(0)
	otel.Handle(errors.New("collector down"))
	if len(before.got) != 0 {
		t.Errorf("the handler set before the Wrapper got %q", before.got)
	}
	got := takeLogs(t)
	if len(got.Records) != 1 || got.Records[0].Msg != "zerobus: telemetry export failed" || got.Records[0].Level != 4 ||
		got.Records[0].Attrs["error"] != "collector down" {
		t.Errorf("records %+v, want one warning \"zerobus: telemetry export failed\" error=collector down", got.Records)
	}
}

// takenLogs is TakeLogs' JSON.
type takenLogs struct {
	Records []struct {
		Msg   string         `json:"msg"`
		Level int            `json:"level"`
		Attrs map[string]any `json:"attrs"`
	} `json:"records"`
	Dropped int `json:"dropped"`
}

// takeLogs takes every queued log record (TakeLogs) and decodes them.
func takeLogs(t *testing.T) takenLogs {
	t.Helper()
	raw, err := TakeLogs(0)
	if err != nil {
		t.Fatal(err)
	}
	var got takenLogs
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("TakeLogs JSON %s: %v", raw, err)
	}
	return got
}

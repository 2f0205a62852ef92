package pybind

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	raw, err := TakeLogs(0)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Records []struct {
			Msg   string         `json:"msg"`
			Level int            `json:"level"`
			Attrs map[string]any `json:"attrs"`
		} `json:"records"`
		Dropped int `json:"dropped"`
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("TakeLogs JSON %s: %v", raw, err)
	}
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

package pybind

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewWrapperWithLogAttrs: every record of a wrapper made with log
// attributes carries them, in TakeLogs and in log_file, with their JSON
// types (numbers as numbers); a wrapper made without them carries none; an
// attribute that is not a scalar is refused, naming it.
func TestNewWrapperWithLogAttrs(t *testing.T) {
	dir := t.TempDir()
	_, _ = TakeLogs(0) // records of earlier tests
	logFile := filepath.Join(dir, "z.log")
	settings, _ := json.Marshal(map[string]any{
		"table_name": "main.default.pybind_logattrs", "zerobus_writer_disabled": true,
		"log_level": "debug", "log_file": logFile,
	})
	w, err := NewWrapperWithLogAttrs(string(settings), `{"spark_partition": 3, "spark_job_id": "j1", "spark_attempt": 0}`)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(0); err != nil {
		t.Fatal(err)
	}
	plain, err := NewWrapper(string(settings))
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.Close(0); err != nil {
		t.Fatal(err)
	}
	got := takeLogs(t)
	var with, without int
	for _, r := range got.Records {
		if r.Attrs["spark_job_id"] == "j1" {
			with++
			if p, ok := r.Attrs["spark_partition"].(float64); !ok || p != 3 {
				t.Errorf("%q: spark_partition = %#v, want the number 3", r.Msg, r.Attrs["spark_partition"])
			}
			continue
		}
		if _, ok := r.Attrs["spark_partition"]; ok {
			t.Errorf("%q: spark_partition without spark_job_id: %v", r.Msg, r.Attrs)
		}
		without++
	}
	// both wrappers log "zerobus wrapper created" at debug level
	if with < 1 || without < 1 {
		t.Fatalf("records with the attributes %d, without %d, want >= 1 each: %+v", with, without, got.Records)
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	var fileWith int
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["spark_job_id"] == "j1" && rec["spark_partition"] == float64(3) && rec["spark_attempt"] == float64(0) {
			fileWith++
		}
	}
	if fileWith != with {
		t.Errorf("log_file has %d lines with the attributes, TakeLogs %d:\n%s", fileWith, with, b)
	}

	for _, bad := range []string{`{"spark": {"p": 1}}`, `[1]`, `null`, `{"": 1}`, `{"a": null}`} {
		if _, err := NewWrapperWithLogAttrs(string(settings), bad); err == nil || !strings.Contains(err.Error(), "log attribute") {
			t.Errorf("NewWrapperWithLogAttrs(%s): %v, want a log attributes error", bad, err)
		}
	}
}

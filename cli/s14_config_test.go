package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestSendExportSettingsWithoutObservability: OTLP_OUTPUT_DIR (or
// OTLP_ENDPOINT) without OTLP_ENABLED was accepted and nothing was exported
// (s14 review-config 4); send refuses it, naming both, and sends nothing.
func TestSendExportSettingsWithoutObservability(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 5)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	srv := startServer(t)
	args := append(connFlags(srv, "main.default.s14_export_off"), "-progress", "never", path)
	r := sendCLIEnv(t, map[string]string{"OTLP_OUTPUT_DIR": filepath.Join(dir, "otel"), "OTLP_ENDPOINT": "http://127.0.0.1:9"}, args...)
	if r.err == nil {
		t.Fatalf("send with OTLP_OUTPUT_DIR and no OTLP_ENABLED succeeded:\n%s%s", r.stdout, r.stderr)
	}
	want := "observability_enabled (env OTLP_ENABLED): is false, so otlp_endpoint and observability_output_dir would be ignored"
	if !strings.Contains(core.ByKeyError(r.err).Error(), want) { // as Run prints it
		t.Errorf("error %q lacks %q", r.err, want)
	}
	if n := srv.RecordCount("main.default.s14_export_off"); n != 0 {
		t.Errorf("%d rows stored, want none", n)
	}
	// with OTLP_ENABLED=true the same environment exports
	r = sendCLIEnv(t, map[string]string{"OTLP_ENABLED": "true", "OTLP_OUTPUT_DIR": filepath.Join(dir, "otel")}, args...)
	if r.err != nil {
		t.Fatalf("send with OTLP_ENABLED: %v\n%s", r.err, r.stderr)
	}
}

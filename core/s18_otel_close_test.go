package core_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestS18CloseWarningReachesTheLogFile: with log_file and
// observability_output_dir, a collector that refuses every export (HTTP
// 400) makes the final export at Close fail; the warning saying so lands
// in log_file and logs.jsonl (they used to be closed first), and the
// background failures before it are in them too, not on stderr through
// OpenTelemetry's handler.
func TestS18CloseWarningReachesTheLogFile(t *testing.T) {
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusBadRequest)
	}))
	defer refuse.Close()
	dir := t.TempDir()
	logFile := filepath.Join(t.TempDir(), "wrapper.log")
	cfg := core.DefaultConfig()
	cfg.TableName, cfg.WriterDisabled = "main.default.s18_close", true
	cfg.ObservabilityEnabled, cfg.ObservabilityOutputDir, cfg.ObservabilityInterval = true, dir, time.Hour
	cfg.OTLPEndpoint, cfg.OTLPProtocol, cfg.LogFile = refuse.URL, "http", logFile
	w, err := core.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{logFile, filepath.Join(dir, "logs.jsonl")} {
		var n int
		for _, l := range s18Lines(t, path) {
			if l["msg"] == "zerobus: telemetry export failed at close" {
				n++
				if l["level"] != "WARN" || !strings.Contains(l["error"].(string), "400") {
					t.Errorf("%s: %v", path, l)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s has %d close warnings, want 1", path, n)
		}
	}
}

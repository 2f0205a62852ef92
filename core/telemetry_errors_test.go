package core_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestLogTelemetryErrors: OpenTelemetry's export errors (a collector that is
// down) become warnings of the given handler, as the Python package and the
// command line install them, instead of lines of Go's standard logger on
// stderr that Python's logging never sees.
func TestLogTelemetryErrors(t *testing.T) {
	prev := otel.GetErrorHandler()
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	var buf bytes.Buffer
	core.LogTelemetryErrors(slog.NewTextHandler(&buf, nil))
	otel.Handle(errors.New("traces export: connection refused"))
	got := buf.String()
	for _, want := range []string{"level=WARN", `msg="zerobus: telemetry export failed"`, `error="traces export: connection refused"`} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %s: %q", want, got)
		}
	}
}

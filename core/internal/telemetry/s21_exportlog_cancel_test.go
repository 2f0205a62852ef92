package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"testing"
)

// A periodic export that Shutdown cancels as it stops the reader is no
// failure (Shutdown returned its "context canceled" though the final export
// succeeded); the same error before Shutdown, a failure while closing, and a
// cancelled export of a collector already failing still count.
func TestS21ExportCancelledByShutdownIsNoFailure(t *testing.T) {
	var logs syncBuffer
	l := newExportLog(slog.New(slog.NewJSONHandler(&logs, nil)))
	cancelled := fmt.Errorf("failed to upload metrics: %w",
		&url.Error{Op: "Post", URL: "http://127.0.0.1:1/v1/metrics", Err: context.Canceled})

	l.report("metrics otlp", nil)
	l.report("metrics otlp", cancelled) // not closing: counted
	if n, _ := l.count(); n != 1 {
		t.Fatalf("a cancelled export before Shutdown: %d failures, want 1", n)
	}
	l.report("metrics otlp", nil)                                       // recovered
	l.report("traces otlp", errors.New("failed to upload traces: 503")) // failing when Shutdown starts

	l.startClosing()
	l.report("metrics otlp", cancelled)
	if n, _ := l.count(); n != 2 {
		t.Errorf("a cancelled export while closing: %d failures, want 2 (the earlier ones only)", n)
	}
	l.report("traces otlp", cancelled) // its collector was failing: counted
	if n, _ := l.count(); n != 3 {
		t.Errorf("a cancelled export of a failing collector while closing: %d failures, want 3", n)
	}
	l.report("metrics otlp", errors.New("failed to upload metrics: 400 Bad Request"))
	if n, last := l.count(); n != 4 || last == nil || last.Error() != "failed to upload metrics: 400 Bad Request" {
		t.Errorf("a refused export while closing: %d failures, last %v; want 4 and the refusal", n, last)
	}
}

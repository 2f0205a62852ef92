package core

import (
	"context"
	"testing"
	"time"
)

// The final export of an owned Telemetry gets a bounded share of Close's
// time: half of what ctx has left, at most telemetryCloseTimeout (3s, also
// without a deadline: a collector that accepts but never answers made
// Close(context.Background()) take 10s, s14 review-goapi2 finding 6), at
// least telemetryCloseGrace.
func TestTelemetryBudget(t *testing.T) {
	if telemetryCloseTimeout > 3*time.Second {
		t.Fatalf("telemetryCloseTimeout %v", telemetryCloseTimeout)
	}
	if got := telemetryBudget(context.Background()); got != telemetryCloseTimeout {
		t.Errorf("no deadline: %v, want %v", got, telemetryCloseTimeout)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if got := telemetryBudget(cancelled); got != telemetryCloseGrace {
		t.Errorf("cancelled: %v, want %v", got, telemetryCloseGrace)
	}
	for _, tc := range []struct{ left, atLeast, atMost time.Duration }{
		{time.Hour, telemetryCloseTimeout, telemetryCloseTimeout},
		{2 * time.Second, telemetryCloseGrace, time.Second}, // half of what is left
		{200 * time.Millisecond, telemetryCloseGrace, telemetryCloseGrace},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), tc.left)
		got := telemetryBudget(ctx)
		cancel()
		if got < tc.atLeast || got > tc.atMost {
			t.Errorf("%v left: %v, want %v to %v", tc.left, got, tc.atLeast, tc.atMost)
		}
	}
}

package pybind

import (
	"context"
	"strings"
	"testing"
)

// A Waiting call that blocks until its context ends: Wait reports it
// running, Cancel ends it promptly and Err gives its (kinded) error.
func TestWaitingCancel(t *testing.T) {
	started := make(chan struct{})
	op := startWaiting(0, func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	})
	<-started
	if op.Wait(20) {
		t.Fatal("Wait reported a blocked call as returned")
	}
	op.Cancel()
	if !op.Wait(5000) {
		t.Fatal("the cancelled call did not return")
	}
	if err := op.Err(); err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Errorf("Err() = %v, want the context's error", err)
	}
	done := startWaiting(0, func(context.Context) error { return nil })
	if !done.Wait(0) || done.Err() != nil {
		t.Errorf("a call returning nil: Wait/Err = %v/%v", done.Wait(0), done.Err())
	}
}

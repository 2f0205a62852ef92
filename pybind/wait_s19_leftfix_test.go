package pybind

import (
	"sync/atomic"
	"testing"
)

// waitUntil, the one loop behind Pending.Wait and Notifier.Wait: it checks
// again after each wake-up on either channel, stops as soon as the check
// holds, and reports false when the time runs out first.
func TestWaitUntil(t *testing.T) {
	wake, other := make(chan struct{}, 1), make(chan struct{}, 1)
	var checks atomic.Int32
	ready := func() bool { return checks.Add(1) >= 3 }
	wake <- struct{}{}
	other <- struct{}{}
	if !waitUntil(0, ready, wake, other) || checks.Load() != 3 {
		t.Fatalf("waitUntil after two wake-ups: %d checks, want true after 3", checks.Load())
	}
	never := func() bool { return false }
	if waitUntil(1, never, wake, nil) {
		t.Fatal("waitUntil(1 ms) with nothing ready = true")
	}
	done := make(chan struct{})
	close(done) // a resolved future's channel: every check after it holds
	resolved := false
	if !waitUntil(0, func() bool { r := resolved; resolved = true; return r }, nil, done) {
		t.Fatal("waitUntil with a closed channel = false")
	}
}

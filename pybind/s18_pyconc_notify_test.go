package pybind

import (
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// A Notifier returns each id posted once per Wait, "[]" when its time runs
// out, and a watched Pending posts its id once resolved.
func TestNotifierPostsWatchedPendings(t *testing.T) {
	n := NewNotifier()
	if got := n.Wait(1); got != "[]" {
		t.Fatalf("Wait with nothing posted = %s, want []", got)
	}
	n.Post(3)
	n.Post(3)
	n.Post(7)
	if got := n.Wait(0); got != "[3,7]" {
		t.Fatalf("Wait = %s, want [3,7] (each id once, in order)", got)
	}
	// A zero future is resolved: the Pending posts its id at once.
	p := &Pending{cancel: func() {}, fut: &core.SendFuture{}, wake: make(chan struct{}, 1)}
	p.Notify(n, 5)
	if got := n.Wait(0); got != "[5]" {
		t.Fatalf("a resolved Pending: Wait = %s, want [5]", got)
	}
	if got := n.Wait(1); got != "[]" {
		t.Fatalf("posted again after it was resolved: %s", got)
	}
}

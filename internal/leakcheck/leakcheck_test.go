package leakcheck

import (
	"strings"
	"testing"
	"time"
)

// recorder is a testing.TB that keeps what Goroutines reports.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Errorf(format string, a ...any) { r.msg = format }

func TestGoroutines(t *testing.T) {
	stop := make(chan struct{})
	go func() { <-stop }()
	r := &recorder{TB: t}
	// The test's own goroutines are more than 0.
	if Goroutines(r, 0, 30*time.Millisecond) || !strings.HasPrefix(r.msg, "goroutines:") {
		t.Fatalf("a count above max was not reported (%q)", r.msg)
	}
	close(stop)
	r.msg = ""
	if !Goroutines(r, 1<<20, time.Second) || r.msg != "" {
		t.Fatalf("a count below max was reported: %q", r.msg)
	}
}

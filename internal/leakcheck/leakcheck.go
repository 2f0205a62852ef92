// Package leakcheck is the tests' check that goroutines end: once
// everything a test started is closed, the goroutine count must fall back
// to its baseline within a bound. Every package's tests call it, so the
// wait and the report are written once.
package leakcheck

import (
	"bytes"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"
)

// Goroutines waits up to within for runtime.NumGoroutine() to be at most
// max, and otherwise fails t (Errorf) with the running goroutines' stacks,
// grouped by stack. It reports whether the count came back.
func Goroutines(t testing.TB, max int, within time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= max {
			return true
		}
		if time.Now().After(deadline) {
			var b bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
			t.Errorf("goroutines: %d after %v, want <= %d\n%s", n, within, max, b.String())
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package pybind

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

// A millisecond timeout longer than a time.Duration holds (Python sends
// math.inf as the int64 maximum) bounds the call far in the future, not in
// the past (an overflowed duration cancelled the send before any row).
func TestTimeoutCtxSaturates(t *testing.T) {
	for _, ms := range []int64{math.MaxInt64, 1e13, 5000} {
		ctx, cancel := timeoutCtx(ms)
		dl, ok := ctx.Deadline()
		cancel()
		if !ok || time.Until(dl) < 4*time.Second {
			t.Errorf("timeoutCtx(%d): deadline %v (set %t), want one in the future", ms, dl, ok)
		}
	}
}

// The cause names timeout= in plain decimal seconds (%g wrote 1e+06) and
// keeps context.DeadlineExceeded in the chain.
func TestTimeoutCauseNamesTheTimeout(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Millisecond:        "timeout=0.001 s passed (context deadline exceeded)",
		300 * time.Millisecond:  "timeout=0.3 s passed (context deadline exceeded)",
		1_000_000 * time.Second: "timeout=1000000 s passed (context deadline exceeded)",
	} {
		err := timeoutCause(d)
		if err.Error() != want || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("timeoutCause(%v) = %q, want %q wrapping DeadlineExceeded", d, err, want)
		}
	}
	ctx, cancel := timeoutCtx(1)
	defer cancel()
	<-ctx.Done()
	if got := context.Cause(ctx).Error(); got != "timeout=0.001 s passed (context deadline exceeded)" {
		t.Errorf("timeoutCtx(1) cause = %q", got)
	}
}

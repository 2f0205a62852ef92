package pybind

import (
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

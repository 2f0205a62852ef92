package core_test

import (
	"math"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// A binding's timeout in seconds: a negative one (or NaN) is refused with a
// message naming the value given and what a timeout may be (Python took
// timeout=-1 as 1 ms and reported "timeout=0.001 s passed"); 0 and values
// under 1 ms wait 1 ms, infinity saturates, anything else is its whole ms.
func TestTimeoutMillisRule(t *testing.T) {
	for _, c := range []struct {
		seconds float64
		want    int64
	}{{0, 1}, {0.0004, 1}, {0.3, 300}, {2.5, 2500}, {1e300, math.MaxInt64}, {math.Inf(1), math.MaxInt64}} {
		got, err := core.TimeoutMillis(c.seconds)
		if err != nil || got != c.want {
			t.Errorf("TimeoutMillis(%v) = %d, %v; want %d", c.seconds, got, err, c.want)
		}
	}
	for seconds, shown := range map[float64]string{-1: "timeout=-1 is negative", -0.0001: "timeout=-0.0001 is negative",
		math.Inf(-1): "timeout=-inf is negative", math.NaN(): "timeout=nan is not a number"} {
		got, err := core.TimeoutMillis(seconds)
		if err == nil || got != 0 {
			t.Fatalf("TimeoutMillis(%v) = %d, %v; want an error", seconds, got, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, shown) || !strings.Contains(msg, "give 0 or more seconds") ||
			!strings.Contains(msg, "no timeout for the call's default bound") || strings.Contains(msg, "0.001 s") {
			t.Errorf("TimeoutMillis(%v) error = %q; want it to name %q and the allowed values", seconds, msg, shown)
		}
	}
}

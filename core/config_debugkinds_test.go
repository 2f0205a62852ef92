package core_test

import (
	"fmt"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// The effective debug kinds: a per-kind switch that is on says exactly which
// kinds are written; debug_enabled alone turns on both.
func TestConfigDebugKinds(t *testing.T) {
	for _, c := range []struct {
		legacy, arrow, proto bool
		want                 string
	}{
		{false, false, false, "[]"},
		{true, false, false, "[arrow protobuf]"},
		{true, true, false, "[arrow]"},
		{true, false, true, "[protobuf]"},
		{true, true, true, "[arrow protobuf]"},
		{false, true, false, "[arrow]"},
		{false, false, true, "[protobuf]"},
		{false, true, true, "[arrow protobuf]"},
	} {
		cfg := core.Config{DebugEnabled: c.legacy, DebugArrowEnabled: c.arrow, DebugProtobufEnabled: c.proto}
		if got := fmt.Sprint(cfg.DebugKinds()); got != c.want {
			t.Errorf("debug_enabled=%v arrow=%v protobuf=%v: DebugKinds %s, want %s", c.legacy, c.arrow, c.proto, got, c.want)
		}
	}
}

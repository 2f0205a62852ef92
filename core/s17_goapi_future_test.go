package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestZeroFutureResolves: a zero SendFuture's Ready returned a nil channel,
// which blocks forever, and a nil future panicked (s17 review goapi L3).
// Both are now resolved with ErrClosed.
func TestZeroFutureResolves(t *testing.T) {
	for name, f := range map[string]*core.SendFuture{"zero": {}, "nil": nil} {
		noPanic(t, name, func() {
			select {
			case <-f.Ready():
			case <-time.After(10 * time.Second):
				t.Fatalf("%s future's Ready never closed", name)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := f.Wait(ctx)
			if !errors.Is(err, core.ErrClosed) {
				t.Errorf("%s future's Wait = %v, %v; want ErrClosed", name, res, err)
			}
			if res != nil && (res.Err != err || res.TotalRows != 0) {
				t.Errorf("%s future's result = %v", name, res)
			}
		})
	}
}

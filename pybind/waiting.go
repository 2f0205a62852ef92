package pybind

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// Waiting is a Flush, Close, CheckSchema or TableSchema running in Go. Python waits for
// it in short slices (Wait), so that Ctrl-C is seen while acknowledgements
// are awaited (a single blocking call kept KeyboardInterrupt out until it
// returned, up to the flush timeout), and cancels it (Cancel) on
// KeyboardInterrupt.
type Waiting struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	schema *arrow.Schema // TableSchemaAsync's schema (ExportSchema)
}

// FlushAsync starts core.Wrapper.Flush and returns at once; it waits until
// everything sent so far is acknowledged (bounded by timeoutMs when > 0,
// else by the configured flush timeout).
func (w *Wrapper) FlushAsync(timeoutMs int64) *Waiting { return startWaiting(timeoutMs, w.w.Flush) }

// CloseAsync starts Close (bounded as Close is) and returns at once. A
// cancelled Close stops waiting for acknowledgements and still closes every
// stream and releases the wrapper.
func (w *Wrapper) CloseAsync(timeoutMs int64) *Waiting { return startWaiting(timeoutMs, w.w.Close) }

func startWaiting(timeoutMs int64, f func(context.Context) error) *Waiting {
	return startWaitingOn(&Waiting{}, timeoutMs, f)
}

// startWaitingOn runs f behind op (a new Waiting f may write results into,
// read once it is done).
func startWaitingOn(op *Waiting, timeoutMs int64, f func(context.Context) error) *Waiting {
	ctx, cancel := timeoutCtx(timeoutMs)
	op.cancel, op.done = cancel, make(chan struct{})
	go func() {
		defer close(op.done)
		defer cancel()
		op.err = wrapErr(f(ctx))
	}()
	return op
}

// Wait blocks until the call has returned, at most timeoutMs (<= 0: until
// it returns), and reports whether it has.
func (op *Waiting) Wait(timeoutMs int64) bool {
	if timeoutMs <= 0 {
		<-op.done
		return true
	}
	t := time.NewTimer(time.Duration(timeoutMs) * time.Millisecond)
	defer t.Stop()
	select {
	case <-op.done:
		return true
	case <-t.C:
		return false
	}
}

// Cancel ends the call's context: it returns promptly.
func (op *Waiting) Cancel() { op.cancel() }

// Err waits for the call to return and gives its error.
func (op *Waiting) Err() error {
	<-op.done
	return op.err
}

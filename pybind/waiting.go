package pybind

import (
	"context"
	"time"
)

// Waiting is a Flush or Close running in Go. Python waits for it in short
// slices (Wait), so that Ctrl-C is seen while acknowledgements are awaited
// (a single blocking call kept KeyboardInterrupt out until it returned, up
// to the flush timeout), and cancels it (Cancel) on KeyboardInterrupt.
type Waiting struct {
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// FlushAsync starts Flush (bounded as Flush is) and returns at once.
func (w *Wrapper) FlushAsync(timeoutMs int64) *Waiting { return startWaiting(timeoutMs, w.w.Flush) }

// CloseAsync starts Close (bounded as Close is) and returns at once. A
// cancelled Close stops waiting for acknowledgements and still closes every
// stream and releases the wrapper.
func (w *Wrapper) CloseAsync(timeoutMs int64) *Waiting { return startWaiting(timeoutMs, w.w.Close) }

func startWaiting(timeoutMs int64, f func(context.Context) error) *Waiting {
	ctx, cancel := timeoutCtx(timeoutMs)
	op := &Waiting{cancel: cancel, done: make(chan struct{})}
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

// CheckSchemaAsync starts CheckSchema (see there) with the schema of the
// Arrow C stream at streamAddr (released here) and returns at once.
func (w *Wrapper) CheckSchemaAsync(streamAddr, timeoutMs int64) (*Waiting, error) {
	rdr, err := importStream(streamAddr)
	if err != nil {
		return nil, err
	}
	schema := rdr.Schema()
	rdr.Release()
	return startWaiting(timeoutMs, func(ctx context.Context) error { return w.w.CheckSchema(ctx, schema) }), nil
}

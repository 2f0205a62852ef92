package core

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// SendFuture is the pending outcome of SendBatchAsync. Its methods are safe
// for concurrent use.
type SendFuture struct {
	done chan struct{}
	res  *TransmissionResult
	err  error
}

// Ready is closed when the batch has been fully acknowledged or has failed.
func (f *SendFuture) Ready() <-chan struct{} { return f.done }

// Wait blocks until the batch is resolved or ctx ends, and returns what
// SendBatch would have returned. If ctx ends first it returns (nil,
// ctx.Err()) and the send carries on; Wait may be called again.
func (f *SendFuture) Wait(ctx context.Context) (*TransmissionResult, error) {
	select {
	case <-f.done:
		return f.res, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// SendBatchAsync starts sending rec and returns at once. The send runs under
// ctx exactly as SendBatch would (cancelling ctx fails the rows not yet
// acknowledged). The Wrapper Retains rec until the send is resolved, so the
// caller may Release its own reference immediately. After Close the future
// resolves at once with ErrClosed. Flush and Close wait for outstanding
// futures.
func (w *Wrapper) SendBatchAsync(ctx context.Context, rec arrow.RecordBatch) *SendFuture {
	f := &SendFuture{done: make(chan struct{})}
	start := w.now()
	if rec == nil {
		f.res, f.err = &TransmissionResult{Err: ErrNilBatch}, ErrNilBatch
		close(f.done)
		return f
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		f.res = allFailed(int(rec.NumRows()), ErrClosed)
		f.err = ErrClosed
		close(f.done)
		return f
	}
	w.active.Add(1)
	w.futures[f] = struct{}{}
	w.mu.Unlock()
	rec.Retain()
	go func() {
		defer w.active.Done()
		res := w.send(ctx, rec, start)
		rec.Release()
		f.res, f.err = res, res.Err
		w.mu.Lock()
		delete(w.futures, f)
		w.mu.Unlock()
		close(f.done)
	}()
	return f
}

package core

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// SendFuture is the pending outcome of SendBatchAsync (or SendReaderAsync),
// the only source of a working future. Its methods are safe for concurrent
// use. A nil or zero SendFuture belongs to no send: it is resolved, with
// ErrClosed and an empty result.
type SendFuture struct {
	done chan struct{}
	res  *TransmissionResult
	err  error
}

// resolvedChan is the Ready channel of a nil or zero future: closed.
var resolvedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Ready is closed when the batch has been fully acknowledged or has failed
// (at once for a nil or zero future).
func (f *SendFuture) Ready() <-chan struct{} {
	if f == nil || f.done == nil {
		return resolvedChan
	}
	return f.done
}

// Wait blocks until the batch is resolved or ctx ends, and returns what
// SendBatch would have returned. If ctx ends first it returns (nil,
// ctx.Err()) and the send carries on; Wait may be called again (the nil
// result's methods are safe, but it lists no rows). A future already
// resolved returns its result even when ctx has ended. A nil or zero future
// returns an empty result and ErrClosed.
func (f *SendFuture) Wait(ctx context.Context) (*TransmissionResult, error) {
	if f == nil || f.done == nil {
		return &TransmissionResult{Err: ErrClosed, SuccessfulRanges: [][2]int{}}, ErrClosed
	}
	if ctx == nil {
		ctx = context.Background() // as Close takes it: wait until resolved
	}
	if stream.Resolved(ctx, f.done) {
		return f.res, f.err
	}
	return nil, ctx.Err()
}

// SendBatchAsync starts sending rec and returns at once. The send runs under
// ctx exactly as SendBatch would (cancelling ctx fails the rows not yet
// acknowledged). The Wrapper Retains rec until the send is resolved, so the
// caller may Release its own reference immediately. After Close the future
// resolves at once with ErrClosed. Flush and Close wait for outstanding
// futures.
func (w *Wrapper) SendBatchAsync(ctx context.Context, rec arrow.RecordBatch) *SendFuture {
	if rec == nil {
		return resolvedFuture(&TransmissionResult{Err: ErrNilBatch}, ErrNilBatch)
	}
	fail := w.allFailed(int(rec.NumRows()))
	if res := w.refused(ctx, fail); res != nil {
		return resolvedFuture(res, res.Err)
	}
	start := w.now()
	return w.goAsync(rec, fail, func() *TransmissionResult { return w.send(ctx, rec, start) })
}

// resolvedFuture is a future that is already resolved.
func resolvedFuture(res *TransmissionResult, err error) *SendFuture {
	f := &SendFuture{done: make(chan struct{}), res: res, err: err}
	close(f.done)
	return f
}

// retainer is a reference-counted input: an arrow.RecordBatch or an
// array.RecordReader.
type retainer interface {
	Retain()
	Release()
}

// goAsync runs send on a goroutine behind a future that Flush and Close wait
// for, holding a reference to in (a batch or a reader) until send returns.
// After Close the future resolves at once with ErrClosed, fail's rows not
// written (closedResult).
func (w *Wrapper) goAsync(in retainer, fail unsent, send func() *TransmissionResult) *SendFuture {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return resolvedFuture(w.closedResult(fail), ErrClosed)
	}
	f := &SendFuture{done: make(chan struct{})}
	w.active.Add(1)
	w.futures[f] = struct{}{}
	w.mu.Unlock()
	in.Retain()
	go func() {
		defer w.active.Done()
		res := send()
		in.Release()
		f.res, f.err = res, res.Err
		w.mu.Lock()
		delete(w.futures, f)
		w.mu.Unlock()
		close(f.done)
	}()
	return f
}

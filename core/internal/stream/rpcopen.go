package stream

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// RPCOpen bounds the opening of one RPC of a stream, the same for every
// transport: the RPC's context Ctx outlives the caller's ctx (it keeps only
// ctx's span context, so the token fetch and the RPC's logs join the
// caller's trace) and is canceled by the stream's context, by Cancel, and,
// until Opened, by ctx and after the create timeout (cause: the timeout
// error).
type RPCOpen struct {
	Ctx        context.Context
	ctx        context.Context
	cancelRPC  context.CancelCauseFunc
	unlink     func() bool
	timer      *time.Timer
	stop       func() bool
	errTimeout error
}

// OpenRPC starts the bounds of an RPC opened under ctx for the stream whose
// context is streamCtx; errTimeout is the error of a create timeout of
// timeout. Call End (deferred) with the opening's result.
func OpenRPC(ctx, streamCtx context.Context, timeout time.Duration, errTimeout error) *RPCOpen {
	base := trace.ContextWithSpanContext(context.Background(), trace.SpanContextFromContext(ctx))
	rctx, cancelRPC := context.WithCancelCause(base)
	o := &RPCOpen{Ctx: rctx, ctx: ctx, cancelRPC: cancelRPC, errTimeout: errTimeout}
	o.unlink = context.AfterFunc(streamCtx, func() { cancelRPC(context.Canceled) })
	o.timer = time.AfterFunc(timeout, func() { o.Cancel(errTimeout) })
	o.stop = context.AfterFunc(ctx, func() { o.Cancel(context.Cause(ctx)) })
	return o
}

// Cancel cancels the RPC with cause.
func (o *RPCOpen) Cancel(cause error) {
	o.unlink()
	o.cancelRPC(cause)
}

// End releases the opening's bounds; a failed opening (err not nil)
// cancels the RPC with err.
func (o *RPCOpen) End(err error) {
	o.timer.Stop()
	o.stop()
	if err != nil {
		o.Cancel(err)
	}
}

// Classify maps an error seen while opening to the real cause once Ctx was
// canceled (the timeout, the caller's cause), else to classify(err).
func (o *RPCOpen) Classify(err error, classify func(error) error) error {
	if cause := context.Cause(o.Ctx); cause != nil {
		return cause
	}
	return classify(err)
}

// MetadataErr is the error of a failed credential fetch err: the timeout
// error if the create timeout fired, else err.
func (o *RPCOpen) MetadataErr(err error) error {
	if context.Cause(o.Ctx) == o.errTimeout {
		return o.errTimeout
	}
	return err
}

// Opened ends the create timeout and the caller's bounds once the
// handshake is done; it returns the timeout error or the caller's cause if
// either came first.
func (o *RPCOpen) Opened() error {
	if !o.timer.Stop() {
		return o.errTimeout
	}
	if !o.stop() {
		return context.Cause(o.ctx)
	}
	return nil
}

package stream

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// Pending is the future of one request handed to Send: it resolves when the
// server durably acknowledges the request (Err returns nil) or when the
// stream fails terminally or is aborted (Err returns the cause). Its methods
// are safe for concurrent use.
type Pending struct {
	Future
	records int
}

func newPending(records int) *Pending {
	p := &Pending{records: records}
	p.Init()
	return p
}

// Records returns how many records the request holds.
func (p *Pending) Records() int { return p.records }

// Future is the outcome of one unit handed to a transport's Send (a
// request here, a batch in flightstream) and how many RPCs carried it: the
// part of every transport's pending handle that is alike (Pending,
// flightstream.Pending embed it). Init it before use; the transport calls
// Attempt each time an RPC carries the unit and Resolve exactly once. Its
// methods are safe for concurrent use.
type Future struct {
	done     chan struct{}
	err      error // written once before done is closed
	attempts atomic.Int32
	// firstRPC and lastRPC are the ids (RPCState.RPC) of the first and the
	// last RPC that carried the unit; resent counts the records written
	// by the RPCs after the first.
	firstRPC, lastRPC atomic.Uint64
	resent            atomic.Int64
	// abandoned: the caller gave up waiting for the unit while an RPC
	// carried it (GiveUp); the stream never writes it again.
	abandoned atomic.Bool
}

// Init prepares f; called once, before f is shared.
func (f *Future) Init() { f.done = make(chan struct{}) }

// Resolve sets the outcome; called exactly once.
func (f *Future) Resolve(err error) {
	f.err = err
	close(f.done)
}

// Attempt counts one more RPC carrying the unit: rpc is that RPC's id
// (RPCState.RPC) and records how many of the unit's records it writes (a
// re-send may write only the part not yet acknowledged). One sender
// goroutine at a time calls it, with its stream's lock held (so that
// GiveUp sees every attempt made before it and none after).
func (f *Future) Attempt(rpc uint64, records int) {
	if f.attempts.Add(1) == 1 {
		f.firstRPC.Store(rpc)
	} else {
		f.resent.Add(int64(records))
	}
	f.lastRPC.Store(rpc)
}

// Done is closed when the unit is resolved.
func (f *Future) Done() <-chan struct{} { return f.done }

// Err returns the outcome once Done is closed: nil if the unit was
// acknowledged, else the stream's terminal error. Before that it returns nil,
// so check Done (or use Wait) first. It does not block.
func (f *Future) Err() error {
	select {
	case <-f.done:
		return f.err
	default:
		return nil
	}
}

// Wait blocks until the unit is resolved or ctx ends, and returns the
// outcome (or ctx's error; the unit stays in flight). A unit already
// resolved when ctx has ended returns its outcome: an acknowledged unit is
// never reported as cut off by ctx.
func (f *Future) Wait(ctx context.Context) error {
	if err, ok := f.Outcome(ctx); ok {
		return err
	}
	return ctx.Err()
}

// Outcome blocks until the unit is resolved (ok, with its outcome) or ctx
// ends first (not ok); see Resolved.
func (f *Future) Outcome(ctx context.Context) (err error, ok bool) {
	if Resolved(ctx, f.done) {
		return f.err, true
	}
	return nil, false
}

// Resolved blocks until done is closed or ctx ends, and reports whether done
// is closed. The one rule for a unit resolved as ctx ends: it counts as
// resolved, whichever channel a select would pick.
func Resolved(ctx context.Context, done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	case <-ctx.Done():
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
}

// Attempts returns how many RPCs carried the unit so far: 1 if it was sent
// once, more if it was re-sent after a recovery or a close signal, 0 if it
// was never written. It does not block.
func (f *Future) Attempts() int { return int(f.attempts.Load()) }

// Resent returns how many records RPCs after the first wrote again: the
// records of the unit re-sent after the stream moved to a new RPC (a
// failure or the server's close signal) before they were acknowledged, an
// upper bound of the duplicates the unit may have stored. 0 for a unit
// written once. It does not block.
func (f *Future) Resent() int { return int(f.resent.Load()) }

// Recoveries appends to dst the ids of the RPCs (RPCState.RPC) the stream
// left while the unit was written on one of them and not acknowledged,
// before it was written again: the recoveries the unit went through, one
// id each (the id of the RPC left), in ascending order. Nothing for a
// unit written once. It does not block.
func (f *Future) Recoveries(dst []uint64) []uint64 {
	first, last := f.firstRPC.Load(), f.lastRPC.Load()
	if f.attempts.Load() < 2 || first == 0 || last <= first {
		return dst
	}
	for id := first; id < last; id++ {
		dst = append(dst, id)
	}
	return dst
}

// NeverSent reports whether the unit is resolved and no RPC ever carried
// it: then it failed (or was withdrawn, see Stream.GiveUp) without its
// bytes reaching the network, so the server certainly did not store it. It
// is false while the unit is unresolved (a queued unit may still be sent)
// and for a unit written at least once, acknowledged or not: that one may
// have been stored. This is the one rule for "was it sent"; it does not
// block.
func (f *Future) NeverSent() bool {
	select {
	case <-f.done:
		// Attempts is final once resolved: units are resolved only when
		// no sender goroutine can write them any more (ack, finish after
		// the RPCs stopped, GiveUp of a unit no RPC has taken).
		return f.attempts.Load() == 0
	default:
		return false
	}
}

// Abandoned reports whether the caller gave up on the unit while an RPC
// carried it (see GiveUp): the stream will not write it again. It does
// not block.
func (f *Future) Abandoned() bool { return f.abandoned.Load() }

// GaveUp is what GiveUp did with a unit.
type GaveUp int

// The outcomes of GiveUp.
const (
	// GaveUpNone: the unit is not queued any more (resolved, or being
	// resolved): nothing to do.
	GaveUpNone GaveUp = iota
	// GaveUpWithdrawn: the unit was removed and no RPC ever carried it;
	// the caller resolves it with ErrWithdrawn (certainly not stored).
	GaveUpWithdrawn
	// GaveUpDropped: the unit was removed; an earlier RPC carried it and it
	// was queued to be written again. The caller resolves it with
	// ErrAbandoned (it may have been stored, once).
	GaveUpDropped
	// GaveUpMarked: the current RPC carries the unit (among q[:sent]): it
	// stays there until acknowledged, or until the stream leaves that RPC,
	// which then drops it (DropAbandoned) instead of writing it again.
	GaveUpMarked
)

// GiveUp is what a transport does when the caller of the unit whose future
// is f stops waiting for it (its context ended): if the unit is queued and
// not written on the current RPC (among q[sent:]) it is removed, withdrawn
// when no RPC has carried it yet, else dropped; if the current RPC carries
// it, it is marked abandoned. Either way the stream never writes it again,
// so its Attempts, Resent and Recoveries are final once GiveUp returns
// (Attempt is called under the same lock). It returns the new queue, the
// unit removed (if any) and what it did. future gives a unit's future. The
// caller holds the lock of q.
func GiveUp[T any](q []T, sent int, f *Future, future func(T) *Future) (_ []T, removed T, what GaveUp) {
	for i, u := range q {
		if future(u) != f {
			continue
		}
		if i < sent {
			f.abandoned.Store(true)
			return q, removed, GaveUpMarked
		}
		what = GaveUpWithdrawn
		if f.Attempts() > 0 {
			what = GaveUpDropped
			f.abandoned.Store(true)
		}
		var none T
		copy(q[i:], q[i+1:])
		q[len(q)-1] = none
		return q[:len(q)-1], u, what
	}
	return q, removed, GaveUpNone
}

// DropAbandoned removes from q, the queue of a stream that has just left
// its RPC (nothing of q is written on a current RPC), the units whose
// caller gave up on them (GiveUp marked them): it returns the units kept,
// in order, and those dropped, which the caller resolves with ErrAbandoned
// instead of writing them again on the next RPC. future gives a unit's
// future. The caller holds the lock of q.
func DropAbandoned[T any](q []T, future func(T) *Future) (kept, dropped []T) {
	n := 0
	for _, u := range q {
		if future(u).Abandoned() {
			dropped = append(dropped, u)
			continue
		}
		q[n] = u
		n++
	}
	clear(q[n:])
	return q[:n], dropped
}

// PendingCtx is ctx carrying the span context of the oldest unit of *q (sc
// gives a unit's), or ctx itself without units or spans: the context of a
// stream's logs and spans about its pending work (see Stream.pendingCtx).
// mu guards *q and must not be held.
func PendingCtx[T any](ctx context.Context, mu *sync.Mutex, q *[]T, sc func(T) trace.SpanContext) context.Context {
	mu.Lock()
	var c trace.SpanContext
	if len(*q) > 0 {
		c = sc((*q)[0])
	}
	mu.Unlock()
	if !c.IsValid() {
		return ctx
	}
	return trace.ContextWithSpanContext(ctx, c)
}

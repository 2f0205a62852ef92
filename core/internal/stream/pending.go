package stream

import (
	"context"
	"sync/atomic"
)

// Pending is the future of one request handed to Send: it resolves when the
// server durably acknowledges the request (Err returns nil) or when the
// stream fails terminally or is aborted (Err returns the cause). Its methods
// are safe for concurrent use.
type Pending struct {
	done     chan struct{}
	err      error // written once before done is closed
	attempts atomic.Int32
	records  int
}

func newPending(records int) *Pending {
	return &Pending{done: make(chan struct{}), records: records}
}

// resolve sets the outcome; called exactly once.
func (p *Pending) resolve(err error) {
	p.err = err
	close(p.done)
}

// Done is closed when the request is resolved.
func (p *Pending) Done() <-chan struct{} { return p.done }

// Err returns the outcome once Done is closed: nil if the request was
// acknowledged, else the stream's terminal error. Before that it returns nil,
// so check Done (or use Wait) first. It does not block.
func (p *Pending) Err() error {
	select {
	case <-p.done:
		return p.err
	default:
		return nil
	}
}

// Wait blocks until the request is resolved or ctx ends, and returns the
// outcome (or ctx's error; the request stays in flight).
func (p *Pending) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Attempts returns how many RPCs carried the request so far: 1 if it was
// sent once, more if it was re-sent after a recovery or a close signal, 0 if
// it was never written. It does not block.
func (p *Pending) Attempts() int { return int(p.attempts.Load()) }

// NeverSent reports whether the request is resolved and no RPC ever carried
// it: then it failed (or was withdrawn, see Stream.Withdraw) without its
// bytes reaching the network, so the server certainly did not store it. It
// is false while the request is unresolved (a queued request may still be
// sent) and for a request written at least once, acknowledged or not: that
// one may have been stored. This is the one rule for "was it sent"; it does
// not block.
func (p *Pending) NeverSent() bool {
	select {
	case <-p.done:
		// Attempts is final once resolved: requests are resolved only when
		// no sender goroutine can write them any more (ack, finish after
		// the RPCs stopped, Withdraw of a request no RPC has taken).
		return p.attempts.Load() == 0
	default:
		return false
	}
}

// Records returns how many records the request holds.
func (p *Pending) Records() int { return p.records }

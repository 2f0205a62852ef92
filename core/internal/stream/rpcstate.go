package stream

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// RPCState is the part of a stream's state that follows its current RPC and
// drives recovery, the same for every transport (Stream here,
// flightstream.Stream): when requests went in flight or the last response
// arrived (the ack timeout), an announced end of the RPC (draining, then
// leaving: the RPC is half-closed and still read for its last
// acknowledgements), whether an acknowledgement arrived, and the clean
// close. Its owner guards it with its own mutex: every method is called
// with that mutex held, except Watch, which takes it.
type RPCState struct {
	lastRecv   time.Time // last response, or when requests went in flight
	draining   bool      // the server announced the end of the RPC
	drainUntil time.Time
	leaving    bool      // the RPC is half-closed to move to a new one (see Watch)
	leaveBy    time.Time // when leaving gives up reading the RPC's last acks
	progress   bool      // an acknowledgement arrived on the RPC
	closeReq   bool      // flush done: half-close once the queue is empty
	halfClosed bool      // the sender was told to half-close the RPC
	rpc        uint64    // the current RPC's id (see RPC)
}

// streamIDs numbers the streams of the process (every transport's) for
// RPCState.RPC.
var streamIDs atomic.Uint64

// RPC is the id of the current RPC, unique in the process: the stream's
// number in the high 32 bits, the RPC's number within the stream (1, 2, …
// in the order they were installed) in the low 32. The RPCs of a stream
// have consecutive ids, so a unit first written on RPC a and last on RPC
// b went through the moves to a new RPC a→a+1, …, b-1→b (see
// Future.Recoveries). 0 before the first RPC is installed.
func (st *RPCState) RPC() uint64 { return st.rpc }

// Install starts the state of a new current RPC at now.
func (st *RPCState) Install(now time.Time) {
	st.draining = false
	st.leaving = false
	st.progress = false
	st.halfClosed = false
	st.lastRecv = now
	if st.rpc == 0 {
		st.rpc = streamIDs.Add(1) << 32
	}
	st.rpc++
}

// Detach ends the state of the current RPC; it reports whether an
// acknowledgement had arrived on it.
func (st *RPCState) Detach() (progress bool) {
	st.draining = false
	st.leaving = false
	return st.progress
}

// Heard restarts the ack timeout at now: a response arrived, or requests
// went in flight.
func (st *RPCState) Heard(now time.Time) { st.lastRecv = now }

// Progressed records that an acknowledgement arrived on the current RPC.
func (st *RPCState) Progressed() { st.progress = true }

// Drain records the server's announcement that the current RPC ends within
// d (CloseStreamSignal, close_stream_duration_ms).
func (st *RPCState) Drain(d time.Duration) {
	st.draining = true
	st.drainUntil = time.Now().Add(d)
	st.lastRecv = time.Now()
}

// RequestClose records that Close has flushed: the RPC is half-closed once
// the queue is empty.
func (st *RPCState) RequestClose() { st.closeReq = true }

// WakeOnAck reports whether an acknowledgement must wake the supervisor (a
// close or an announced end waits for the queue to empty).
func (st *RPCState) WakeOnAck() bool { return st.closeReq || st.draining }

// CleanEnd reports whether the server ending the current RPC is its clean
// close: the sender half-closed it and nothing is queued.
func (st *RPCState) CleanEnd(queued int) bool { return st.halfClosed && queued == 0 }

// SenderWaits reports whether the sender writes nothing now, with sent of
// queued requests written on the current RPC, and then whether it
// half-closes the RPC (and stops) rather than waiting for a kick.
func (st *RPCState) SenderWaits(sent, queued int) (wait, halfClose bool) {
	if st.draining || sent == queued {
		return true, st.halfClosed && sent == queued || st.leaving
	}
	return false, false
}

// Event is what ended an RPC watched by Watch.
type Event int

// The events of Watch.
const (
	EventFail   Event = iota // the RPC failed (or timed out) with an error
	EventRotate              // the server announced its end: move to a new RPC
	EventClean               // the clean close is done
	EventAbort               // the stream was aborted
)

// leaveGrace bounds how long Watch keeps reading an RPC it is leaving after
// an announced end (at most the ack timeout).
const leaveGrace = 2 * time.Second

// Watch blocks until something ends the current RPC: a failure, the ack
// timeout, the end of an announced close, a clean close, or an abort (ctx,
// the stream's context, ends).
//
// After an announced end it waits until nothing is in flight or the
// announced duration is over. Then, with requests still in flight, it does
// not cancel the RPC at once: acknowledgements the server sent just before
// it ended the RPC may still be in the client's buffers, and a cancel would
// drop them, so the requests they acknowledge would be re-sent and stored
// twice. It half-closes the RPC instead (kick tells its sender) and keeps
// reading until the server ends it, nothing is in flight, or leaveGrace
// passes; only then is the RPC left.
//
// mu guards st; counts, called with mu held, reports how many requests are
// written on the RPC and unacknowledged (sent) and how many are unresolved
// (queued). errc delivers the RPC's first error (nil: a clean end); wake
// kicks the watch to look again.
func (st *RPCState) Watch(ctx context.Context, mu *sync.Mutex, ackTimeout time.Duration, counts func() (sent, queued int),
	kick func(), wake <-chan struct{}, errc <-chan error) (Event, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		now := time.Now()
		var next time.Time
		mu.Lock()
		sent, queued := counts()
		if st.closeReq && queued == 0 && !st.halfClosed {
			st.halfClosed = true
			kick()
		}
		if st.draining && (sent == 0 || !now.Before(st.drainUntil)) {
			if sent == 0 || st.leaving && !now.Before(st.leaveBy) {
				mu.Unlock()
				return EventRotate, nil
			}
			if !st.leaving {
				st.leaving = true
				st.leaveBy = now.Add(min(leaveGrace, ackTimeout))
				kick() // the sender half-closes the RPC
			}
			next = st.leaveBy
		} else if sent > 0 {
			deadline := st.lastRecv.Add(ackTimeout)
			if !now.Before(deadline) {
				mu.Unlock()
				return EventFail, AckTimeoutError(ackTimeout, sent)
			}
			next = deadline
		}
		if st.draining && !st.leaving && (next.IsZero() || st.drainUntil.Before(next)) {
			next = st.drainUntil
		}
		mu.Unlock()

		var tc <-chan time.Time
		if !next.IsZero() {
			if timer == nil {
				timer = time.NewTimer(next.Sub(now))
			} else {
				timer.Reset(next.Sub(now))
			}
			tc = timer.C
		}
		select {
		case err := <-errc:
			if err == nil {
				return EventClean, nil
			}
			mu.Lock()
			leaving := st.leaving
			mu.Unlock()
			if leaving {
				// The server ended the RPC we are leaving: every ack
				// it sent has been read.
				return EventRotate, nil
			}
			return EventFail, err
		case <-wake:
		case <-tc:
		case <-ctx.Done():
			return EventAbort, nil
		}
	}
}

// Idle blocks between RPCs until requests are queued or Close has flushed
// (it returns true) or ctx, the stream's context, ends (false). mu guards
// st; queued, called with mu held, is the number of unresolved requests;
// wake kicks it to look again.
func (st *RPCState) Idle(ctx context.Context, mu *sync.Mutex, queued func() int, wake <-chan struct{}) bool {
	for {
		mu.Lock()
		n, closeReq := queued(), st.closeReq
		mu.Unlock()
		if n > 0 || closeReq {
			return true
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return false
		}
	}
}

// CleanDone reports whether Close has flushed and none of the queued
// requests is left.
func (st *RPCState) CleanDone(queued int) bool { return st.closeReq && queued == 0 }

// RecvEnd is what an RPC's receiver reports (rpc.fail) once Recv returned
// err: nil for the clean close (the server ended the RPC and clean, asked
// only then, reports that the sender half-closed the current RPC with
// nothing queued, see CleanEnd), the cancel cause once rctx, the RPC's
// context, has ended, else classify(err, "recv").
func RecvEnd(err error, rctx context.Context, clean func() bool, classify func(error, string) error) error {
	if errors.Is(err, io.EOF) && clean() {
		return nil
	}
	if rctx.Err() != nil {
		return context.Cause(rctx)
	}
	return classify(err, "recv")
}

// RPCSignals are one RPC's channels to its stream's goroutines, the same
// for every transport: a kick for its sender and its first end (error, or
// nil for a clean end) for the supervisor. Transports embed it in their
// RPC handle.
type RPCSignals struct {
	sendWake chan struct{}
	errc     chan error // first error (nil = clean end) from sender/receiver
}

// NewRPCSignals returns the signals of a new RPC.
func NewRPCSignals() RPCSignals {
	return RPCSignals{sendWake: make(chan struct{}, 1), errc: make(chan error, 2)}
}

// Fail reports the end of the RPC to the supervisor (first report wins).
func (g *RPCSignals) Fail(err error) {
	select {
	case g.errc <- err:
	default:
	}
}

// Kick tells the RPC's sender to look again.
func (g *RPCSignals) Kick() { Kick(g.sendWake) }

// Kicked delivers the sender's kicks.
func (g *RPCSignals) Kicked() <-chan struct{} { return g.sendWake }

// Ended delivers the RPC's end reported by Fail.
func (g *RPCSignals) Ended() <-chan error { return g.errc }

// Kick wakes the reader of the 1-slot channel wake without blocking (a
// kick already pending is enough).
func Kick(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}

// SenderIdle is an RPC sender's turn with nothing to write (SenderWaits
// said wait), called without the stream's lock: with halfClose it
// half-closes the RPC (closeSend; a failure, classified by classify, is
// reported through g) and the sender stops (false); else it waits for a
// kick (true: look again) or the end of rctx, the RPC's context (false).
func SenderIdle(rctx context.Context, g *RPCSignals, halfClose bool, closeSend func() error, classify func(error, string) error) bool {
	if halfClose {
		if err := closeSend(); err != nil {
			g.Fail(classify(err, "send"))
		}
		return false
	}
	select {
	case <-g.Kicked():
		return true
	case <-rctx.Done():
		return false
	}
}

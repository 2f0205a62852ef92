package core

import (
	"context"
	"sync/atomic"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// recordWindow bounds the encoded record bytes a Wrapper holds (protobuf
// records, or arrow_flight IPC bodies), across all its streams and
// SendBatch calls, to MaxInflightBytes: a chunk reserves its estimated size
// before it is converted and keeps the reservation, set to its real size
// once converted (arrow_flight: the arena region its IPC body holds), until every request carrying it is resolved
// (acknowledged, failed or withdrawn) and its sender is done with it
// (windowShare; chunkHold for protobuf, runFlight for arrow_flight). So the
// records being converted, waiting for the stream and in flight together
// stay within the window, however many goroutines send: a chunk is
// converted only when its bytes fit, not converted first and then held
// while it waits for room. (The chunk's memory goes back to the encoder
// when gRPC lets go of it too: before the acknowledgement on the normal
// path; the buffers of a dead RPC that gRPC drops without freeing come
// back through the garbage collector, outside the window.)
//
// It is a byte window of the stream package (stream.NewByteWindow): waiters
// are served in FIFO order; a reservation larger than the window is
// admitted alone. A chunk that converts larger than its reservation
// (rows much larger than the ones before) takes the difference at once
// (grow) rather than wait holding converted records, which could deadlock
// when every holder did; it exceeds the window by at most that difference.
type recordWindow struct {
	win *stream.Window // a byte window: FIFO, oversize alone, grow

	live   atomic.Int64 // converted record bytes of chunks whose share is not yet back (tests)
	livePk atomic.Int64 // the most of live at once (tests)
	grown  atomic.Int64 // bytes taken beyond a reservation by grow (tests)
}

func newRecordWindow(limit int64) *recordWindow {
	return &recordWindow{win: stream.NewByteWindow(limit)}
}

// acquire reserves n bytes, waiting (FIFO) while they do not fit; on ctx's
// end it returns ctx's error holding nothing.
func (w *recordWindow) acquire(ctx context.Context, n int64) error {
	return w.win.Acquire(ctx, n, nil)
}

// waiting returns how many callers wait for room (tests).
func (w *recordWindow) waiting() int { return w.win.Waiting() }

// grow reserves n more bytes at once, fitting or not (see recordWindow).
func (w *recordWindow) grow(n int64) {
	w.win.Grow(n)
	w.grown.Add(n)
}

// release gives back n reserved bytes and admits the waiters that now fit.
func (w *recordWindow) release(n int64) {
	if n != 0 {
		w.win.Release(n)
	}
}

// usage returns the bytes reserved now.
func (w *recordWindow) usage() int64 {
	_, n := w.win.Usage()
	return n
}

// peakHeld returns the most bytes ever reserved at once.
func (w *recordWindow) peakHeld() int64 {
	_, n := w.win.Peak()
	return n
}

// settle turns a reservation of reserved bytes, taken before converting cb,
// into one of cb's size and returns the chunk's holder (see chunkHold).
func (w *recordWindow) settle(reserved int64, cb *convert.Batch) *chunkHold {
	h := &chunkHold{cb: cb}
	h.refs.Store(1)
	w.settleShare(&h.windowShare, reserved, int64(cb.Bytes))
	return h
}

// settleShare turns a reservation of reserved bytes, taken before a chunk
// was converted or encoded, into one of its real size n, owed by its sender
// (see windowShare).
func (w *recordWindow) settleShare(s *windowShare, reserved, n int64) {
	switch {
	case n < reserved:
		w.release(reserved - n)
	case n > reserved:
		w.grow(n - reserved)
	}
	v := w.live.Add(n)
	for p := w.livePk.Load(); v > p && !w.livePk.CompareAndSwap(p, v); p = w.livePk.Load() {
	}
	s.win, s.n = w, n
	s.owed.Store(1)
}

// windowShare is one chunk's n bytes in the record window. They are owed by
// the chunk's sender and by each request queued with them (owed) and go
// back when the last of those is done (resolved).
type windowShare struct {
	owed atomic.Int32
	win  *recordWindow
	n    int64
}

// queue counts one more request carrying the chunk, before it is handed
// to the stream (with resolved as its resolution callback); if the stream
// refuses it, call resolved.
func (s *windowShare) queue() { s.owed.Add(1) }

// resolved is the end of one owed share (a request resolved, or the
// sender's own); the last gives the bytes back to the window.
func (s *windowShare) resolved() {
	switch v := s.owed.Add(-1); {
	case v > 0:
		return
	case v < 0:
		panic("core: chunk window share returned twice")
	}
	s.win.live.Add(-s.n)
	s.win.release(s.n)
}

// chunkHold is one converted protobuf chunk: its window share, and as the
// stream's Holder its memory (refs: the sender's, the stream's per request,
// gRPC's per buffer written): the last Release returns it to the encoder.
type chunkHold struct {
	windowShare
	refs atomic.Int32
	cb   *convert.Batch
}

// Retain adds a reference to the chunk's memory.
func (h *chunkHold) Retain() { h.refs.Add(1) }

// Release drops a reference; the last one returns the chunk's memory.
func (h *chunkHold) Release() {
	switch v := h.refs.Add(-1); {
	case v > 0:
		return
	case v < 0:
		panic("core: chunk released more often than retained")
	}
	h.cb.Release()
}

// done is the sender's end: its window share and its memory reference.
func (h *chunkHold) done() {
	h.resolved()
	h.Release()
}

package stream

import (
	"context"
	"errors"
	"sync"
)

// errWindowAborted is returned by acquire when the abort channel closes.
var errWindowAborted = errors.New("window aborted")

// window is the in-flight flow control of a Client's streams (shared by
// them; also a byte budget elsewhere): at most maxReqs
// requests and maxBytes payload bytes between Send and their resolution
// (acknowledged or failed). Waiters are served in FIFO order so a large
// request is not starved by small ones. A request larger than maxBytes is
// admitted alone when the window is empty. A bytes-only window (no
// maxReqs) counts bytes alone: they may be given back in parts and taken
// beyond the limit without waiting (grow). Safe for concurrent use.
type window struct {
	mu        sync.Mutex
	bytesOnly bool
	maxReqs   int
	maxBytes  int64
	reqs      int
	bytes     int64
	waiters   []*waiter

	peakReqs  int // the most ever held at once (tests check the bound)
	peakBytes int64
}

type waiter struct {
	n     int64
	ready chan struct{} // closed when granted
}

func newWindow(maxReqs int, maxBytes int64) *window {
	return &window{maxReqs: maxReqs, maxBytes: maxBytes}
}

func newByteWindow(maxBytes int64) *window {
	return &window{bytesOnly: true, maxBytes: maxBytes}
}

// fits reports whether a request of n bytes can enter now. Caller holds mu.
func (w *window) fits(n int64) bool {
	if w.bytesOnly {
		return w.bytes == 0 || w.bytes+n <= w.maxBytes
	}
	if w.reqs >= w.maxReqs {
		return false
	}
	return w.reqs == 0 || w.bytes+n <= w.maxBytes
}

// acquire takes one request slot and n bytes, blocking while the window is
// full. It returns ctx's error if ctx ends first, or errWindowAborted if
// abort closes first; in both cases nothing is held.
func (w *window) acquire(ctx context.Context, n int64, abort <-chan struct{}) error {
	w.mu.Lock()
	if len(w.waiters) == 0 && w.fits(n) {
		w.take(n)
		w.mu.Unlock()
		return nil
	}
	wt := &waiter{n: n, ready: make(chan struct{})}
	w.waiters = append(w.waiters, wt)
	w.mu.Unlock()

	var err error
	select {
	case <-wt.ready:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-abort:
		err = errWindowAborted
	}
	w.mu.Lock()
	select {
	case <-wt.ready:
		// Granted while we were giving up: hand the slot back.
		w.mu.Unlock()
		w.release(n)
		return err
	default:
	}
	for i, x := range w.waiters {
		if x == wt {
			w.waiters = append(w.waiters[:i], w.waiters[i+1:]...)
			break
		}
	}
	// Removing a head waiter may let the next ones in.
	w.grantLocked()
	w.mu.Unlock()
	return err
}

// release returns one request slot (none in a bytes-only window) and n
// bytes and wakes waiters that fit.
func (w *window) release(n int64) {
	w.mu.Lock()
	if !w.bytesOnly {
		w.reqs--
	}
	w.bytes -= n
	if w.reqs < 0 || w.bytes < 0 {
		w.mu.Unlock()
		panic("stream: window released more than acquired")
	}
	w.grantLocked()
	w.mu.Unlock()
}

// grantLocked admits waiters in FIFO order while they fit.
func (w *window) grantLocked() {
	for len(w.waiters) > 0 && w.fits(w.waiters[0].n) {
		wt := w.waiters[0]
		w.waiters[0] = nil
		w.waiters = w.waiters[1:]
		w.take(wt.n)
		close(wt.ready)
	}
}

// grow takes n more bytes of a bytes-only window at once, fitting or not.
func (w *window) grow(n int64) {
	w.mu.Lock()
	w.take(n)
	w.mu.Unlock()
}

// take holds one request slot (none in a bytes-only window) and n bytes.
// Caller holds mu.
func (w *window) take(n int64) {
	if !w.bytesOnly {
		w.reqs++
	}
	w.bytes += n
	w.peakReqs = max(w.peakReqs, w.reqs)
	w.peakBytes = max(w.peakBytes, w.bytes)
}

// peak returns the most requests and bytes ever held at once.
func (w *window) peak() (int, int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peakReqs, w.peakBytes
}

// waiting returns how many callers wait for room.
func (w *window) waiting() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.waiters)
}

// usage returns the requests and bytes currently held.
func (w *window) usage() (int, int64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.reqs, w.bytes
}

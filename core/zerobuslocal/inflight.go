package zerobuslocal

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Bytes in flight. Options.MaxStoredRows bounds what the server keeps;
// what it holds on the way in is bounded here. Each stream's receive
// goroutine reads request messages ahead of its handler (up to 16 queued),
// and gRPC assembles a whole message in memory once its reading starts;
// without a bound, many clients sending 10 MB requests made the server
// hold hundreds of MB that no row bound counts. So the server has one
// budget of MaxInflightBytes for all streams:
//
//   - before a receive goroutine reads a message it is admitted, reserving
//     what it expects in order with the others: for a stream's first two
//     reads (create_stream or the Flight schema, then the first batch) one
//     request of the record cap (Options.MaxMessageBytes and its framing),
//     then the size of its last message (at least minAdmission). While it
//     waits it reads nothing, so its client is held back by HTTP/2 flow
//     control: at most one stream window (grpcStreamWindow) waits in the
//     connection;
//   - when the message has arrived the reservation becomes its size (the
//     rest given back, or a larger message taking more without waiting),
//     and the handler gives that back once it has stored or refused it;
//   - a stream whose client sends nothing within idleRelease of its
//     admission gives the reservation back as soon as another stream waits
//     for the budget (at once if one waits then, else when one comes), so
//     idle streams keep nobody waiting; their next message, when it comes,
//     takes its size without waiting. While nobody waits, an idle stream
//     keeps its reservation, and its next message comes in covered.
//
// So MaxInflightBytes is not a hard bound. gRPC tells a message's length
// only once RecvMsg has read it whole (grpc-go widens the stream's window
// to the length as soon as it has read the message's 5-byte prefix), and a
// stream has to be inside RecvMsg to see its next message come; so a read
// whose reservation does not cover its message takes the rest when the
// message has arrived: all of it when the reservation went to a waiting
// stream, the growth over the previous message otherwise. What holds is
// this: while the budget is over, no admission is granted (the gate grants
// only what fits, in order), so each stream adds at most one such message
// before the handlers bring the total back under. The server holds at most
// MaxInflightBytes plus one request per stream (a request counts at most
// MaxInflightBytes, and gRPC reads at most 2 × MaxMessageBytes + 1 MiB),
// plus a stream window (grpcStreamWindow) per stream waiting for
// admission. Streams whose requests do not grow stay within
// MaxInflightBytes while their reservations fit in it together (none is
// then taken from an idle stream), or while they send without pausing for
// idleRelease.

// MaxInflightBytes is how many bytes of request messages the server holds
// at once, across all streams, between reading and storing them.
const MaxInflightBytes = 32 << 20

// idleRelease is how long an admitted receive keeps its reservation while
// its client sends nothing and another stream waits for the budget.
const idleRelease = 50 * time.Millisecond

// minAdmission is the least an admission reserves once a stream's
// messages are known.
const minAdmission = 64 << 10

// errHoldEnded is returned by an admission after its RPC ended.
var errHoldEnded = errors.New("zerobuslocal: stream ended")

// byteGate is a weighted semaphore that serves its waiters in order (a
// large request is not starved by small ones).
type byteGate struct {
	mu      sync.Mutex
	size    int64
	used    int64
	peak    int64     // the most used has been (tests read it)
	waiters list.List // of *gateWaiter
	// Reads idle for idleRelease that keep their reservation while nobody
	// waits, with the generation of that reservation (gateHold.gen): the
	// first waiter makes them give it back.
	idle map[*gateHold]uint64
}

type gateWaiter struct {
	n     int64
	ready chan struct{} // closed when granted
}

func newByteGate(size int64) *byteGate { return &byteGate{size: size} }

// acquire takes n bytes (at most the gate's size: release the same
// clamped amount), waiting for them in order, or returns ctx.Err() having
// taken nothing.
func (g *byteGate) acquire(ctx context.Context, n int64) error {
	n = min(n, g.size)
	g.mu.Lock()
	if g.waiters.Len() == 0 && g.used+n <= g.size {
		g.take(n)
		g.mu.Unlock()
		return nil
	}
	w := &gateWaiter{n: n, ready: make(chan struct{})}
	e := g.waiters.PushBack(w)
	idle := g.idle
	g.idle = nil
	g.mu.Unlock()
	for h, gen := range idle {
		h.unreserve(gen)
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		select {
		case <-w.ready:
			// Granted meanwhile: give it back.
			g.used -= n
			g.grant()
		default:
			isFront := g.waiters.Front() == e
			g.waiters.Remove(e)
			if isFront {
				g.grant() // those behind it may fit now
			}
		}
		g.mu.Unlock()
		return ctx.Err()
	}
}

// release gives back n bytes taken with acquire or force.
func (g *byteGate) release(n int64) {
	g.mu.Lock()
	g.used -= n
	if g.used < 0 {
		g.mu.Unlock()
		panic("zerobuslocal: byteGate released more than acquired")
	}
	g.grant()
	g.mu.Unlock()
}

// grant wakes the waiters at the front that fit (g.mu held).
func (g *byteGate) grant() {
	for e := g.waiters.Front(); e != nil; e = g.waiters.Front() {
		w := e.Value.(*gateWaiter)
		if g.used+w.n > g.size {
			return
		}
		g.take(w.n)
		g.waiters.Remove(e)
		close(w.ready)
	}
}

// force takes n bytes without waiting (the gate may go over its size).
func (g *byteGate) force(n int64) {
	g.mu.Lock()
	g.take(n)
	g.mu.Unlock()
}

// take adds n to used (g.mu held).
func (g *byteGate) take(n int64) {
	g.used += n
	g.peak = max(g.peak, g.used)
}

// park keeps the idle reservation gen of h while nobody waits, and
// reports whether it did (false: h is to give it back now).
func (g *byteGate) park(h *gateHold, gen uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.waiters.Len() > 0 {
		return false
	}
	if g.idle == nil {
		g.idle = make(map[*gateHold]uint64)
	}
	if old, ok := g.idle[h]; !ok || gen > old { // a late call for an older one changes nothing
		g.idle[h] = gen
	}
	return true
}

// unpark forgets h's idle reservation (its RPC ended).
func (g *byteGate) unpark(h *gateHold) {
	g.mu.Lock()
	delete(g.idle, h)
	g.mu.Unlock()
}

// inUse is how many bytes are taken.
func (g *byteGate) inUse() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.used
}

// gateHold is what one RPC holds of the gate: its receive goroutine is
// admitted before each read and settles after it, its handler gives back
// what it handled, and end gives back the rest (a reservation, messages
// received but never handled) when the RPC ends.
type gateHold struct {
	g   *byteGate
	ctx context.Context // the RPC's: a wait ends with it
	est int64           // what the next admission reserves

	mu       sync.Mutex
	reads    int         // messages arrived
	reserved int64       // reserved by the admission of the read under way
	gen      uint64      // counts reservations and settlements: which reserved an idle release is for
	idle     *time.Timer // parks reserved, or gives it back, after idleRelease
	held     int64       // taken by messages read and not yet handled
	closed   bool
}

// newGateHold is an RPC's hold whose first two admissions reserve est
// bytes.
func newGateHold(ctx context.Context, g *byteGate, est int) *gateHold {
	h := &gateHold{g: g, ctx: ctx, est: min(int64(max(est, 1)), g.size)}
	h.idle = time.AfterFunc(time.Hour, h.idled)
	h.idle.Stop()
	return h
}

// admit waits until the next read may start and reserves for it; it fails
// when the RPC ends first. Only the receive goroutine calls it.
func (h *gateHold) admit() error {
	h.mu.Lock()
	est := h.est
	h.mu.Unlock()
	if err := h.g.acquire(h.ctx, est); err != nil {
		return err
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.g.release(est)
		return errHoldEnded
	}
	h.reserved += est
	h.gen++
	h.idle.Reset(idleRelease)
	h.mu.Unlock()
	return nil
}

// idled runs idleRelease after an admission whose message has not come:
// the reservation is given back if a stream waits for the budget, else
// parked until one does.
func (h *gateHold) idled() {
	h.mu.Lock()
	gen, n := h.gen, h.reserved
	h.mu.Unlock()
	if n == 0 {
		return
	}
	if !h.g.park(h, gen) {
		h.unreserve(gen)
		return
	}
	h.mu.Lock()
	ended := h.closed
	h.mu.Unlock()
	if ended { // end ran before park: its unpark found nothing to forget
		h.g.unpark(h)
	}
}

// unreserve gives back reservation gen if the read it was made for is
// still waiting for its message.
func (h *gateHold) unreserve(gen uint64) {
	h.mu.Lock()
	n := h.reserved
	if h.gen != gen || n == 0 {
		h.mu.Unlock()
		return
	}
	h.reserved = 0
	h.gen++
	h.mu.Unlock()
	h.g.release(n)
}

// arrived settles the read of an n-byte message: the message now holds n
// bytes (at most the gate's size), which it returns for give.
func (h *gateHold) arrived(n int) int64 {
	w := min(int64(max(n, 0)), h.g.size)
	h.mu.Lock()
	h.idle.Stop()
	r := h.reserved
	h.reserved = 0
	h.gen++
	if h.reads++; h.reads >= 2 {
		h.est = min(max(w, minAdmission), h.g.size)
	}
	if h.closed {
		h.mu.Unlock()
		if r > 0 {
			h.g.release(r)
		}
		return 0
	}
	h.held += w
	h.mu.Unlock()
	switch {
	case r > w:
		h.g.release(r - w)
	case w > r:
		h.g.force(w - r)
	}
	return w
}

// give gives back n bytes a message took (arrived's result).
func (h *gateHold) give(n int64) {
	h.mu.Lock()
	n = min(n, h.held)
	h.held -= n
	h.mu.Unlock()
	if n > 0 {
		h.g.release(n)
	}
}

// end gives back everything the RPC still holds; later admissions fail
// and later arrivals take nothing.
func (h *gateHold) end() {
	h.mu.Lock()
	h.idle.Stop()
	n := h.held + h.reserved
	h.held, h.reserved, h.closed = 0, 0, true
	h.gen++
	h.mu.Unlock()
	h.g.unpark(h)
	if n > 0 {
		h.g.release(n)
	}
}

// admissionBytes is what an admission reserves: one request of the record
// cap with its framing.
func admissionBytes(maxMessage int) int { return maxMessage + maxMessage/8 }

// admitErr is the receive error of a failed admission.
func admitErr(err error) error {
	if errors.Is(err, errHoldEnded) {
		return status.Error(codes.Canceled, "zerobuslocal: stream ended")
	}
	return status.FromContextError(err).Err()
}

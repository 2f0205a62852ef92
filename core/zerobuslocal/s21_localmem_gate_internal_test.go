package zerobuslocal

import (
	"context"
	"errors"
	"testing"
	"time"
)

// granted reports whether the acquire behind ch has returned.
func granted(ch <-chan error) bool { return len(ch) > 0 }

// waitFor polls cond (a condition, not a timing bound: the deadline only
// turns a hang into a failure).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: gave up", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func waiters(g *byteGate) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiters.Len()
}

// TestByteGateOrderAndCancel: waiters are served in order (a small request
// behind a large one waits for it), a request over the size takes the whole
// gate, and a cancelled wait takes nothing and lets those behind it in.
func TestByteGateOrderAndCancel(t *testing.T) {
	g := newByteGate(100)
	ctx := t.Context()
	if err := g.acquire(ctx, 60); err != nil {
		t.Fatal(err)
	}
	acq := func(ctx context.Context, n int64) <-chan error {
		ch := make(chan error, 1)
		before := waiters(g)
		go func() { ch <- g.acquire(ctx, n) }()
		waitFor(t, "the waiter to queue", func() bool { return waiters(g) == before+1 })
		return ch
	}
	big := acq(ctx, 500) // clamped to 100: waits for the whole gate
	small := acq(ctx, 10)
	if granted(small) {
		t.Fatal("a 10-byte request behind a waiting large one was granted first (40 bytes free)")
	}
	g.release(60)
	if err := <-big; err != nil {
		t.Fatal(err)
	}
	if got := g.inUse(); got != 100 {
		t.Fatalf("in use after the large grant: %d, want 100 (clamped)", got)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancelled := acq(cctx, 50)
	last := acq(ctx, 20)
	g.release(100) // small (10) fits, then cancelled (50) fits too, then last (20)
	waitFor(t, "the grants", func() bool { return g.inUse() == 80 })
	cancel()
	if err := <-cancelled; err != nil {
		// Granted before the cancel: it kept its bytes.
		t.Fatalf("cancelled after its grant: %v, want nil", err)
	}
	for _, ch := range []<-chan error{small, last} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
	g.release(10)
	g.release(50)
	g.release(20)
	if got := g.inUse(); got != 0 {
		t.Fatalf("in use after every release: %d, want 0", got)
	}

	// A wait cancelled before its grant takes nothing, and the one behind
	// it, which fits, is granted.
	if err := g.acquire(ctx, 90); err != nil {
		t.Fatal(err)
	}
	cctx, cancel = context.WithCancel(ctx)
	front := acq(cctx, 50)
	behind := acq(ctx, 10)
	cancel()
	if err := <-front; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v, want context.Canceled", err)
	}
	if err := <-behind; err != nil {
		t.Fatal(err)
	}
	if got, n := g.inUse(), waiters(g); got != 100 || n != 0 {
		t.Fatalf("after the cancel: %d in use, %d waiting; want 100 and 0", got, n)
	}
}

// TestGateHoldAdmitArriveGive: a stream's first two admissions reserve
// the size given (a request of the record cap), later ones the size of its
// last message (at least minAdmission); the arrival settles the
// reservation to the message's size (the rest given back, a larger message
// taking more without waiting); the handler gives that back; a read that
// gets no message within idleRelease keeps its reservation while no other
// stream waits, and gives it back when one does; and what
// an RPC still holds goes back at its end, after which admissions fail.
// Waits have a deadline (the RPC's context), so a wrong count fails
// instead of hanging.
func TestGateHoldAdmitArriveGive(t *testing.T) {
	const u = minAdmission
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	g := newByteGate(10 * u)
	h := newGateHold(ctx, g, 4*u)
	if err := h.admit(); err != nil {
		t.Fatal(err)
	}
	if got := g.inUse(); got != 4*u {
		t.Fatalf("in use after the first admission: %d, want %d", got, 4*u)
	}
	a := h.arrived(10) // create_stream: small
	if a != 10 || g.inUse() != 10 {
		t.Fatalf("arrived(10) = %d, in use %d; want 10 and 10", a, g.inUse())
	}
	if err := h.admit(); err != nil { // the second read still reserves 4u
		t.Fatal(err)
	}
	if got := g.inUse(); got != 10+4*u {
		t.Fatalf("in use after the second admission: %d, want %d", got, 10+4*u)
	}
	b := h.arrived(7 * u) // over the reservation: takes the rest without waiting
	if b != 7*u || g.inUse() != 10+7*u {
		t.Fatalf("arrived(7u) = %d, in use %d; want %d and %d", b, g.inUse(), 7*u, 10+7*u)
	}
	// The third admission reserves the last message's size, 7u: it waits
	// until the handler has given back enough.
	admitted := make(chan error, 1)
	go func() { admitted <- h.admit() }()
	waitFor(t, "the third admission to wait", func() bool { return waiters(g) == 1 })
	h.give(a)
	if granted(admitted) {
		t.Fatalf("admitted with %d free, want it to wait for %d", 10*u-g.inUse(), 7*u)
	}
	h.give(b)
	if err := <-admitted; err != nil {
		t.Fatal(err)
	}
	if got := g.inUse(); got != 7*u {
		t.Fatalf("in use after the third admission: %d, want %d", got, 7*u)
	}
	// No message comes: once another stream waits for 4u (3u free), the
	// reservation goes back, and the message that comes later takes its
	// size without waiting.
	h3 := newGateHold(ctx, g, 4*u)
	go func() { admitted <- h3.admit() }()
	if err := <-admitted; err != nil {
		t.Fatal(err)
	}
	if got := g.inUse(); got != 4*u {
		t.Fatalf("in use after the idle reservation went to another stream: %d, want %d", got, 4*u)
	}
	c := h.arrived(5)
	if c != 5 || g.inUse() != 4*u+5 {
		t.Fatalf("arrival after the idle release: %d, in use %d; want 5 and %d", c, g.inUse(), 4*u+5)
	}
	// Now a small last message: the next admission reserves minAdmission.
	if err := h.admit(); err != nil {
		t.Fatal(err)
	}
	if got := g.inUse(); got != 4*u+5+u {
		t.Fatalf("in use after an admission following a 5-byte message: %d, want %d", got, 4*u+5+u)
	}
	h3.end()

	// End: the reservation and the unhandled message go back.
	h2 := newGateHold(ctx, g, 4*u)
	if err := h2.admit(); err != nil {
		t.Fatal(err)
	}
	h.end()
	if got := g.inUse(); got != 4*u {
		t.Fatalf("in use after the first RPC's end: %d, want %d (the second's)", got, 4*u)
	}
	if err := h.admit(); !errors.Is(err, errHoldEnded) {
		t.Fatalf("admission after end: %v, want errHoldEnded", err)
	}
	if got := h.arrived(30); got != 0 || g.inUse() != 4*u {
		t.Fatalf("arrival after end: took %d, in use %d; want 0 and %d", got, g.inUse(), 4*u)
	}
	h2.end()
	if got := g.inUse(); got != 0 {
		t.Fatalf("in use after both ends: %d, want 0", got)
	}
}

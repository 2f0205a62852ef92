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

// TestGateHoldAdmitArriveGive: an admission reserves a request's worth in
// order with the others; the arrival settles it to the message's size (the
// rest given back, a larger message taking more without waiting); the
// handler gives that back; a read that gets no message within idleRelease
// gives its reservation back; and what an RPC still holds goes back at its
// end, after which admissions fail.
func TestGateHoldAdmitArriveGive(t *testing.T) {
	g := newByteGate(100)
	h := newGateHold(t.Context(), g, 40)
	if err := h.admit(); err != nil {
		t.Fatal(err)
	}
	if got := g.inUse(); got != 40 {
		t.Fatalf("in use after admission: %d, want 40", got)
	}
	a := h.arrived(10)
	if a != 10 || g.inUse() != 10 {
		t.Fatalf("arrived(10) = %d, in use %d; want 10 and 10", a, g.inUse())
	}
	if err := h.admit(); err != nil {
		t.Fatal(err)
	}
	b := h.arrived(70) // over the reservation: takes the rest without waiting
	if b != 70 || g.inUse() != 80 {
		t.Fatalf("arrived(70) = %d, in use %d; want 70 and 80", b, g.inUse())
	}
	// A second RPC's admission does not fit (80 + 40 > 100): it waits
	// until the first RPC's handler gives back.
	h2 := newGateHold(t.Context(), g, 40)
	admitted := make(chan error, 1)
	go func() { admitted <- h2.admit() }()
	waitFor(t, "the second admission to wait", func() bool { return waiters(g) == 1 })
	h.give(a)
	if granted(admitted) {
		t.Fatal("admitted with 30 bytes free, want it to wait for 40")
	}
	h.give(b)
	if err := <-admitted; err != nil {
		t.Fatal(err)
	}
	// No message comes: the reservation goes back by itself.
	waitFor(t, "the idle reservation to go back", func() bool { return g.inUse() == 0 })
	if got := h2.arrived(5); got != 5 || g.inUse() != 5 {
		t.Fatalf("arrival after the idle release: %d, in use %d; want 5 and 5", got, g.inUse())
	}

	// End: a reservation and an unhandled message go back.
	if err := h.admit(); err != nil {
		t.Fatal(err)
	}
	h.arrived(15)
	if err := h.admit(); err != nil {
		t.Fatal(err)
	}
	h.end()
	if got := g.inUse(); got != 5 {
		t.Fatalf("in use after the first RPC's end: %d, want 5 (the second's)", got)
	}
	if err := h.admit(); !errors.Is(err, errHoldEnded) {
		t.Fatalf("admission after end: %v, want errHoldEnded", err)
	}
	if got := h.arrived(30); got != 0 || g.inUse() != 5 {
		t.Fatalf("arrival after end: took %d, in use %d; want 0 and 5", got, g.inUse())
	}
	h2.end()
	if got := g.inUse(); got != 0 {
		t.Fatalf("in use after both ends: %d, want 0", got)
	}
}

package zerobuslocal

import (
	"context"
	"testing"
	"time"
)

// InflightPeak is the most of the in-flight budget taken since the server
// started or the last ResetInflightPeak.
func InflightPeak(s *Server) int64 {
	s.inflight.mu.Lock()
	defer s.inflight.mu.Unlock()
	return s.inflight.peak
}

// ResetInflightPeak starts InflightPeak again from what is taken now.
func ResetInflightPeak(s *Server) {
	s.inflight.mu.Lock()
	defer s.inflight.mu.Unlock()
	s.inflight.peak = s.inflight.used
}

// InflightState is what is taken of the in-flight budget and how many
// receives wait for it, read together.
func InflightState(s *Server) (inUse int64, waiting int) {
	s.inflight.mu.Lock()
	defer s.inflight.mu.Unlock()
	return s.inflight.used, s.inflight.waiters.Len()
}

// TestGateOverBudgetOneMessagePerStream is the bound the gate keeps
// (inflight.go): streams whose reads were given back while idle take their
// next message whole when it comes, so the gate goes over its size by up
// to one message per stream; but while it is over, no admission is
// granted, so no stream takes a second message before the handlers have
// brought the total back under, and then only what fits, in order.
func TestGateOverBudgetOneMessagePerStream(t *testing.T) {
	const u = minAdmission
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	g := newByteGate(10 * u)
	var hs [4]*gateHold
	var admitted [4]chan error
	for i := range hs {
		hs[i] = newGateHold(ctx, g, 4*u)
		if err := hs[i].admit(); err != nil { // create_stream
			t.Fatal(err)
		}
		hs[i].give(hs[i].arrived(10))
	}
	// The second reads reserve 4u each: two fit, two wait. The first two
	// give theirs back when no message comes (idleRelease), which lets the
	// other two in.
	for i := range hs {
		admitted[i] = make(chan error, 1)
		go func() { admitted[i] <- hs[i].admit() }()
	}
	for i := range hs {
		if err := <-admitted[i]; err != nil {
			t.Fatal(err)
		}
	}
	// Each stream's client now sends a 9u request at once: those whose
	// reservation went back take all of it, the others the rest over 4u.
	var w [4]int64
	for i := range hs {
		w[i] = hs[i].arrived(9 * u)
	}
	if got := g.inUse(); got != 4*9*u {
		t.Fatalf("in use after four 9u arrivals: %d, want %d (one message per stream, over the size %d)", got, 4*9*u, 10*u)
	}
	// Their next reads (9u each, the size of the last message) all wait:
	// the gate is over its size.
	for i := range hs {
		go func() { admitted[i] <- hs[i].admit() }()
		waitFor(t, "the next read to wait", func() bool { return waiters(g) == i+1 })
	}
	for i := range 3 {
		hs[i].give(w[i])
		if n := waiters(g); n != 4 {
			t.Fatalf("after %d of 4 messages were handled (%d in use): %d reads wait, want 4", i+1, g.inUse(), n)
		}
	}
	hs[3].give(w[3]) // 0 in use: the first 9u read fits, the second (18u) does not
	if err := <-admitted[0]; err != nil {
		t.Fatal(err)
	}
	// The others get in one after another as each admitted read, getting no
	// message, gives its reservation back: idle streams starve nobody.
	for i := 1; i < 4; i++ {
		if err := <-admitted[i]; err != nil {
			t.Fatal(err)
		}
	}
	g.mu.Lock()
	peak := g.peak
	g.mu.Unlock()
	if peak != 4*9*u {
		t.Fatalf("peak %d, want %d (the size %d plus at most one message per stream: %d)", peak, 4*9*u, 10*u, 10*u+4*9*u)
	}
	for _, h := range hs {
		h.end()
	}
	if got := g.inUse(); got != 0 {
		t.Fatalf("in use after every end: %d, want 0", got)
	}
}

// parked reports whether h's idle reservation is kept in g for a waiter.
func parked(g *byteGate, h *gateHold) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.idle[h]
	return ok
}

// TestIdleReadKeepsItsReservationUntilAnotherWaits: a read that gets no
// message within idleRelease keeps its reservation while no other stream
// waits for the budget, so the message that comes later is covered (the
// gate does not go over); when another stream waits, the idle reservation
// goes to it at once, and the message that comes later takes its size
// without waiting (over the budget by that one message).
func TestIdleReadKeepsItsReservationUntilAnotherWaits(t *testing.T) {
	const u = minAdmission
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	g := newByteGate(10 * u)
	h := newGateHold(ctx, g, 4*u)
	if err := h.admit(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the idle read to keep its reservation", func() bool { return parked(g, h) })
	if got := g.inUse(); got != 4*u {
		t.Fatalf("in use with an idle read and nobody waiting: %d, want %d (its reservation)", got, 4*u)
	}
	w := h.arrived(3 * u)
	if got := g.inUse(); w != 3*u || got != 3*u {
		t.Fatalf("a 3u message after the idle time: took %d, in use %d; want 3u (%d) and 3u", w, got, 3*u)
	}
	h.give(w)
	g.mu.Lock()
	peak := g.peak
	g.mu.Unlock()
	if peak != 4*u {
		t.Fatalf("peak %d, want %d (never over the reservation)", peak, 4*u)
	}

	// Idle again; another stream waits for 8u (6u free): the idle
	// reservation is given back to it.
	if err := h.admit(); err != nil { // reserves 4u (the second read)
		t.Fatal(err)
	}
	waitFor(t, "the idle read to keep its reservation", func() bool { return parked(g, h) })
	h2 := newGateHold(ctx, g, 8*u)
	if err := h2.admit(); err != nil {
		t.Fatal(err)
	}
	if got := g.inUse(); got != 8*u {
		t.Fatalf("in use after the idle reservation went to the waiting stream: %d, want %d", got, 8*u)
	}
	if parked(g, h) {
		t.Fatal("the given-back reservation is still kept for a waiter")
	}
	if w := h.arrived(3 * u); w != 3*u || g.inUse() != 11*u {
		t.Fatalf("a 3u message after the give-back: took %d, in use %d; want %d and %d (over by the message)", w, g.inUse(), 3*u, 11*u)
	}
	h.end()
	h2.end()
	if got := g.inUse(); got != 0 {
		t.Fatalf("in use after both ends: %d, want 0", got)
	}
	if parked(g, h) || parked(g, h2) {
		t.Fatal("an ended RPC's reservation is still kept for a waiter")
	}
}

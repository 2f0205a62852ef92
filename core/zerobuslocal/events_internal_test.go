package zerobuslocal

import "testing"

// TestEventRingWraps fills the event log past its bound: the oldest events
// go, Seq stays contiguous, and since() reads across the wrap.
func TestEventRingWraps(t *testing.T) {
	l := newEventLog()
	const extra = 10
	for i := 0; i < maxEvents+extra; i++ {
		l.add(Event{Kind: EventAckSent, Offset: int64(i)})
	}
	check := func(name string, evs []Event, wantFirst, wantLen int64) {
		t.Helper()
		if int64(len(evs)) != wantLen {
			t.Fatalf("%s: got %d events, want %d", name, len(evs), wantLen)
		}
		for i, e := range evs {
			if want := wantFirst + int64(i); e.Seq != want || e.Offset != want-1 {
				t.Fatalf("%s: event %d has Seq %d Offset %d, want %d and %d", name, i, e.Seq, e.Offset, want, want-1)
			}
		}
	}
	if c := cap(l.ring); c != maxEvents {
		t.Errorf("the ring's capacity is %d, want exactly maxEvents (%d): growth must not overshoot the bound", c, maxEvents)
	}
	evs, next, _ := l.since(0)
	check("since(0)", evs, extra+1, maxEvents)
	if next != maxEvents+extra+1 {
		t.Errorf("next: got %d, want %d", next, maxEvents+extra+1)
	}
	// From a Seq whose slot is just before the wrap point of the ring.
	from := int64(maxEvents)
	evs, _, changed := l.since(from)
	check("since(maxEvents)", evs, from, maxEvents+extra+1-from)
	select {
	case <-changed:
		t.Fatal("changed closed before the next add")
	default:
	}
	l.add(Event{Kind: EventAckSent, Offset: maxEvents + extra})
	select {
	case <-changed:
	default:
		t.Fatal("changed not closed by add")
	}
	evs, _, _ = l.since(next)
	check("since(next)", evs, next, 1)
}

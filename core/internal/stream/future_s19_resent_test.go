package stream

import (
	"slices"
	"testing"
	"time"
)

// TestFutureResentAndRecoveries: a unit written on one RPC has re-sent
// nothing and went through no recovery; written again on later RPCs of the
// same stream, it counts the records each re-send wrote and the RPCs left
// between its first and its last write (also one that failed before
// writing it again).
func TestFutureResentAndRecoveries(t *testing.T) {
	var st RPCState
	st.Install(time.Now())
	a := st.RPC()
	st.Install(time.Now())
	b := st.RPC()
	st.Install(time.Now())
	c := st.RPC()
	if a == 0 || b != a+1 || c != b+1 {
		t.Fatalf("RPC ids %d, %d, %d: want consecutive, not 0", a, b, c)
	}
	var other RPCState
	other.Install(time.Now())
	if o := other.RPC(); o>>32 == a>>32 {
		t.Fatalf("two streams share the id space %d (ids %d, %d)", o>>32, a, o)
	}

	once := newPending(10)
	once.Attempt(a, 10)
	if got := once.Recoveries(nil); len(got) != 0 || once.Resent() != 0 {
		t.Fatalf("written once: Recoveries %v, Resent %d; want none, 0", got, once.Resent())
	}

	p := newPending(10)
	p.Attempt(a, 10)
	p.Attempt(c, 4) // b failed before writing it; c wrote the 4 records left
	if got := p.Recoveries(nil); !slices.Equal(got, []uint64{a, b}) {
		t.Fatalf("Recoveries %v, want [%d %d]", got, a, b)
	}
	if p.Resent() != 4 || p.Attempts() != 2 {
		t.Fatalf("Resent %d, Attempts %d; want 4, 2", p.Resent(), p.Attempts())
	}
	if got := p.Recoveries([]uint64{7}); !slices.Equal(got, []uint64{7, a, b}) {
		t.Fatalf("Recoveries appends: %v", got)
	}
	never := newPending(3)
	if got := never.Recoveries(nil); len(got) != 0 || never.Resent() != 0 {
		t.Fatalf("never written: Recoveries %v, Resent %d", got, never.Resent())
	}
}

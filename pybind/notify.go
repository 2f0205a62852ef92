package pybind

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// Notifier lets one Python thread wait for many Pending sends at once (the
// asyncio sends): each Pending watched with Pending.Notify posts its id when
// it has progress to report or is resolved, and Wait returns the ids posted
// since the last call. Python then takes each one's news with a Wait that
// does not block, and hands the outcome to the send's event loop: no thread
// per send, and the event loop never submits a wait of its own.
type Notifier struct {
	mu     sync.Mutex
	posted []int64
	seen   map[int64]bool
	wake   chan struct{} // cap 1: something was posted
}

// NewNotifier makes a Notifier with nothing posted.
func NewNotifier() *Notifier {
	return &Notifier{seen: map[int64]bool{}, wake: make(chan struct{}, 1)}
}

func (n *Notifier) post(id int64) {
	n.mu.Lock()
	if !n.seen[id] {
		n.seen[id] = true
		n.posted = append(n.posted, id)
	}
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Wait blocks until an id is posted, at most timeoutMs (<= 0: until one
// is), and returns the ids posted since the last call, each once, as a JSON
// array ("[]" when the time ran out).
func (n *Notifier) Wait(timeoutMs int64) string {
	var ids []int64
	take := func() bool {
		n.mu.Lock()
		ids, n.posted = n.posted, nil
		clear(n.seen)
		n.mu.Unlock()
		return len(ids) > 0
	}
	if !waitUntil(timeoutMs, take, n.wake, nil) {
		return "[]"
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// waitUntil calls ready until it reports true, blocking between calls until
// wake or other (nil: never) fires, for at most timeoutMs (<= 0: no bound);
// it reports whether ready did (false: the time ran out). Pending.Wait and
// Notifier.Wait are this loop.
func waitUntil(timeoutMs int64, ready func() bool, wake, other <-chan struct{}) bool {
	var timer <-chan time.Time
	if timeoutMs > 0 {
		t := time.NewTimer(core.Millis(timeoutMs))
		defer t.Stop()
		timer = t.C
	}
	for !ready() {
		select {
		case <-wake:
		case <-other:
		case <-timer:
			return false
		}
	}
	return true
}

// Post makes Wait return id (Python wakes its waiting thread with it).
func (n *Notifier) Post(id int64) { n.post(id) }

// Notify posts id to n each time p has progress to report and once it is
// resolved (then it stops). Only the Notifier's thread should then wait on
// p, with Wait: the progress wake-ups go to n.
func (p *Pending) Notify(n *Notifier, id int64) {
	go func() {
		for {
			select {
			case <-p.wake:
				n.post(id)
			case <-p.fut.Ready():
				n.post(id)
				return
			}
		}
	}()
}

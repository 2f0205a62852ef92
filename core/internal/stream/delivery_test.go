package stream

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// resentAfterAck counts the rows stored more than once whose first copy's
// message the server had acknowledged (an ack_sent event on its RPC covering
// its wire offset): a client that reads every ack the server sent never
// re-sends those. It also returns the number of duplicate copies in total.
func resentAfterAck(e *env) (resent, dups int) {
	acked := map[string]int64{} // stream id -> highest acked offset
	for _, ev := range e.srv.Events() {
		if ev.Kind == zerobuslocal.EventAckSent && ev.Table == testTable {
			if off, ok := acked[ev.StreamID]; !ok || ev.Offset > off {
				acked[ev.StreamID] = ev.Offset
			}
		}
	}
	rows := e.srv.Rows(testTable) // arrival order
	count := make(map[int64]int, len(rows))
	for _, r := range rows {
		count[decodeID(e.t, r.Raw)]++
	}
	first := make(map[int64]bool, len(count))
	for _, r := range rows {
		id := decodeID(e.t, r.Raw)
		if first[id] {
			dups++
			continue
		}
		first[id] = true
		if off, ok := acked[r.StreamID]; ok && r.Offset <= off && count[id] > 1 {
			resent++
		}
	}
	return resent, dups
}

// TestCloseSignalThenUnavailableKeepsAcks is the regression test of rows
// stored twice although the server had acknowledged them: the server sends
// CloseStreamSignal and, when the announced duration is over, its last acks
// followed by UNAVAILABLE; 16 goroutines send meanwhile. The client must
// read those acks before it leaves the RPC, so no acknowledged row is
// re-sent. The fault repeats on every RPC (a few hundred rotations a run),
// which failed 3 runs in 4 under -race before the fix (a cancel at the end
// of the announced duration dropped the acks still in the client's buffers).
func TestCloseSignalThenUnavailableKeepsAcks(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	e.srv.SetAckPolicy(testTable, zerobuslocal.DelayedAcks(2*time.Millisecond, 3*time.Millisecond))
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, Code: codes.Unavailable,
		AfterMessages: 20, CloseAfter: 15 * time.Millisecond, Persistent: true})
	cfg := e.config()
	cfg.MaxInflightRequests = 64
	cfg.Retry.MaxAttempts = 1000 // every RPC ends by the fault; progress resets the count anyway
	c := e.client(cfg)
	s := e.open(c)
	ctx := context.Background()

	const senders, perSender, rows = 16, 250, 4
	reqs := make([][]sent, senders)
	var wg sync.WaitGroup
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < perSender; i++ {
				from := (g*perSender + i) * rows
				p, err := s.Send(ctx, rowsBatch(from, rows))
				if err != nil {
					e.note(err)
					t.Errorf("Send: %v", err)
					return
				}
				ids := make([]int64, rows)
				for k := range ids {
					ids[k] = int64(from + k)
				}
				reqs[g] = append(reqs[g], sent{ids: ids, p: p})
			}
		}(g)
	}
	wg.Wait()
	if err := s.Close(ctx); err != nil {
		e.note(err)
		t.Fatalf("Close: %v", err)
	}
	var all []sent
	for _, r := range reqs {
		all = append(all, r...)
	}
	if got := verifyDelivery(t, e, all); got != len(all) {
		t.Errorf("acknowledged: got %d of %d requests", got, len(all))
	}
	resent, dups := resentAfterAck(e)
	signals := countEvents(e, zerobuslocal.EventCloseSignalSent)
	t.Logf("%d close signals, %d duplicate rows, %d of them re-sent after the server acknowledged them", signals, dups, resent)
	if signals < 20 {
		t.Errorf("close signals: got %d, want >= 20 (the case must repeat)", signals)
	}
	if resent > 0 {
		t.Errorf("%d rows were re-sent although the server had acknowledged them", resent)
	}
}

// TestWithdrawAndNeverSent checks the "was it sent" rule: a request no RPC
// has carried can be withdrawn and is then NeverSent; a written one cannot be
// withdrawn and stays "maybe stored" even when the stream fails.
func TestWithdrawAndNeverSent(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	// No acks at all, and after the first message a close signal that
	// keeps the client draining (it sends nothing new) for a long time.
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks})
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, AfterMessages: 1, CloseAfter: time.Minute})
	c := e.client(e.config())
	s := e.open(c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p1, err := s.Send(ctx, rowsBatch(0, 3))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if _, err := e.srv.WaitFor(ctx, func(ev zerobuslocal.Event) bool { return ev.Kind == zerobuslocal.EventCloseSignalSent }); err != nil {
		t.Fatalf("no close signal: %v", err)
	}
	// The client stops writing once it has read the signal.
	deadline := time.Now().Add(10 * time.Second)
	var p2 *Pending
	from := 3
	for ; ; from += 2 {
		p2, err = s.Send(ctx, rowsBatch(from, 2))
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
		if p2.Attempts() == 0 || time.Now().After(deadline) {
			break
		}
	}
	if p2.NeverSent() {
		t.Errorf("NeverSent() = true for an unresolved request")
	}
	if !s.GiveUp(p2) {
		t.Fatalf("GiveUp of a queued, unwritten request: got false (attempts %d)", p2.Attempts())
	}
	if !p2.NeverSent() || !errors.Is(p2.Err(), ErrWithdrawn) {
		t.Errorf("withdrawn request: NeverSent %v, Err %v; want true, ErrWithdrawn", p2.NeverSent(), p2.Err())
	}
	if s.GiveUp(p1) {
		t.Errorf("GiveUp of a written request: got true")
	}
	if p1.NeverSent() {
		t.Errorf("NeverSent() = true for a written, unresolved request")
	}
	_ = c.Close() // aborts the stream: p1 fails
	if err := p1.Wait(ctx); err == nil {
		t.Fatalf("p1 acknowledged, want a failure")
	}
	if p1.NeverSent() {
		t.Errorf("NeverSent() = true for a request that was written before the stream failed")
	}
	if got := e.ids(); got[int64(from)] != 0 || got[int64(from+1)] != 0 {
		t.Errorf("withdrawn rows stored: %v", got)
	}
}

// TestTokenExpiresTwiceWithoutProgress: the token expires mid-stream, the
// refreshed one opens a new RPC and expires too before any ack came back.
// That second rejection is a new expiry, not a refused refresh: the stream
// refreshes again (within the retry budget) and delivers everything, where
// it used to fail with "rejected even after a refresh" and leave the rows
// in flight unknown.
func TestTokenExpiresTwiceWithoutProgress(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	e.srv.SetAckPolicy(testTable, zerobuslocal.DelayedAcks(50*time.Millisecond, 0))
	f := zerobuslocal.Fault{Kind: zerobuslocal.FaultExpireToken, AfterMessages: 3}
	e.srv.InjectFault(testTable, f)
	e.srv.InjectFault(testTable, f) // fires on the next RPC
	c := e.client(e.config())
	s := e.open(c)
	ctx := context.Background()
	reqs, err := sendRequests(ctx, s, 10, 2)
	if err != nil {
		e.note(err)
		t.Fatalf("Send: %v", err)
	}
	if err := s.Flush(ctx); err != nil {
		e.note(err)
		t.Fatalf("Flush: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		e.note(err)
		t.Fatalf("Close: %v", err)
	}
	if got := verifyDelivery(t, e, reqs); got != len(reqs) {
		t.Errorf("acknowledged: got %d of %d requests", got, len(reqs))
	}
	if got := len(e.sniff.tokens()); got != 3 {
		t.Errorf("tokens fetched: got %d, want 3 (one refresh per expiry)", got)
	}
	if got := countEvents(e, zerobuslocal.EventFaultFired); got != 2 {
		t.Errorf("faults fired: got %d, want 2", got)
	}
}

// TestTokenExpiringEveryRPCIsBounded: a server that accepts every fresh
// token and rejects it before acknowledging anything does not keep the
// stream refreshing forever: each such expiry uses the retry budget, and
// past it the stream fails with an *AuthError (protocol §4: the credentials
// are what fails), not a retry-exhausted error advising more retries.
func TestTokenExpiringEveryRPCIsBounded(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	e.srv.SetAckPolicy(testTable, zerobuslocal.DelayedAcks(time.Second, 0))
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultExpireToken, AfterMessages: 1, Persistent: true})
	cfg := e.config()
	cfg.Retry.MaxAttempts = 3
	c := e.client(cfg)
	s := e.open(c)
	ctx := context.Background()
	p, err := s.Send(ctx, rowsBatch(0, 2))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	err = p.Wait(ctx)
	e.note(err)
	var ae *AuthError
	var se *ServerError
	if !errors.As(err, &ae) || !errors.As(err, &se) || se.Code != codes.Unauthenticated || errors.As(err, new(*RetryExhaustedError)) {
		t.Fatalf("pending error: got %v (%T), want *AuthError with the UNAUTHENTICATED status", err, err)
	}
	if !strings.Contains(ae.What, "4 times in a row") {
		t.Errorf("AuthError.What = %q, want it to say 4 times in a row", ae.What)
	}
	if IsRetryable(err) {
		t.Errorf("IsRetryable = true")
	}
	if got := len(e.sniff.tokens()); got != 5 {
		t.Errorf("tokens fetched: got %d, want 5 (the first and one per expiry up to the budget)", got)
	}
	if p.NeverSent() {
		t.Errorf("NeverSent() = true for a request the server stored")
	}
	_ = s.Close(ctx)
}

// TestPermissionDeniedMidStreamRefreshesOnce: PERMISSION_DENIED on an open
// RPC gets one retry with a fresh token (protocol §4); when the RPC opened
// with the fresh token is refused the same way before any acknowledgement,
// the stream fails with an *AuthError at once. It used to treat the second
// refusal as an expiry and refresh again up to the retry budget, re-sending
// every unacknowledged request each time, and end in a
// *RetryExhaustedError.
func TestPermissionDeniedMidStreamRefreshesOnce(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	e.srv.SetAckPolicy(testTable, zerobuslocal.DelayedAcks(time.Second, 0))
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.PermissionDenied, AfterMessages: 1, Persistent: true})
	cfg := e.config()
	cfg.Retry.MaxAttempts = 5
	c := e.client(cfg)
	s := e.open(c)
	ctx := context.Background()
	p, err := s.Send(ctx, rowsBatch(0, 2))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	err = p.Wait(ctx)
	e.note(err)
	var ae *AuthError
	var se *ServerError
	if !errors.As(err, &ae) || !errors.As(err, &se) || se.Code != codes.PermissionDenied || errors.As(err, new(*RetryExhaustedError)) {
		t.Fatalf("pending error: got %v (%T), want *AuthError with the PERMISSION_DENIED status", err, err)
	}
	if !strings.Contains(ae.What, "lacks privileges on table "+testTable) {
		t.Errorf("AuthError.What = %q", ae.What)
	}
	if got := e.srv.Stats().StreamsCreated; got != 2 {
		t.Errorf("streams created: got %d, want 2 (the first and one retry)", got)
	}
	if got := len(e.sniff.tokens()); got != 2 {
		t.Errorf("tokens fetched: got %d, want 2", got)
	}
	if got := e.srv.RecordCount(testTable); got > 2*2 {
		t.Errorf("records stored: got %d, want at most 4 (one copy per RPC)", got)
	}
	_ = s.Close(ctx)
}

package stream

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// sent is one request a test handed to Send.
type sent struct {
	ids []int64
	p   *Pending
}

// sendRequests sends n requests of per rows each (ids from 0), stopping at
// the first Send error, which it returns.
func sendRequests(ctx context.Context, s *Stream, n, per int) ([]sent, error) {
	var out []sent
	for i := 0; i < n; i++ {
		recs := rowsBatch(i*per, per)
		p, err := s.Send(ctx, recs)
		if err != nil {
			return out, err
		}
		ids := make([]int64, per)
		for k := range ids {
			ids[k] = int64(i*per + k)
		}
		out = append(out, sent{ids: ids, p: p})
	}
	return out, nil
}

// verifyDelivery checks the delivery contract against the server's rows:
// every acknowledged row is stored, no row is stored twice unless its
// request was re-sent (Attempts > 1), and nothing unknown is stored. It
// returns how many requests were acknowledged.
func verifyDelivery(t *testing.T, e *env, reqs []sent) int {
	t.Helper()
	stored := e.ids()
	known := map[int64]bool{}
	acked := 0
	for i, r := range reqs {
		select {
		case <-r.p.Done():
		default:
			t.Fatalf("request %d unresolved", i)
		}
		ok := r.p.Err() == nil
		if ok {
			acked++
		}
		for _, id := range r.ids {
			known[id] = true
			n := stored[id]
			if ok && n == 0 {
				t.Errorf("request %d acknowledged but row %d not stored", i, id)
			}
			if n > 1 && r.p.Attempts() < 2 {
				t.Errorf("row %d stored %d times but request %d was sent only %d time(s)", id, n, i, r.p.Attempts())
			}
		}
	}
	for id := range stored {
		if !known[id] {
			t.Errorf("server stored unknown row %d", id)
		}
	}
	e.checkOffsets()
	return acked
}

func countEvents(e *env, kind zerobuslocal.EventKind) int {
	n := 0
	for _, ev := range e.srv.Events() {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// TestRecoverableFaults injects every fault the local server offers that a
// client must survive, sends 40 pipelined requests of 5 rows and checks that
// all rows arrive exactly as the delivery contract says.
func TestRecoverableFaults(t *testing.T) {
	tests := []struct {
		name        string
		faults      []zerobuslocal.Fault
		cfg         func(*Config)
		minStreams  int // server streams created at least
		wantResends bool
		check       func(t *testing.T, e *env, reqs []sent)
	}{
		{name: "unavailable at create", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError}}, minStreams: 1,
			check: func(t *testing.T, e *env, _ []sent) {
				if got := countEvents(e, zerobuslocal.EventStreamRejected); got != 1 {
					t.Errorf("rejected creates: got %d, want 1", got)
				}
			}},
		{name: "internal at create", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, Code: codes.Internal}}, minStreams: 1},
		{name: "unavailable mid-stream", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, AfterMessages: 5}}, minStreams: 2},
		{name: "internal mid-stream", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, Code: codes.Internal, AfterMessages: 5}}, minStreams: 2},
		{name: "resource exhausted mid-stream", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, Code: codes.ResourceExhausted, AfterMessages: 3}}, minStreams: 2},
		{name: "aborted mid-stream", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, Code: codes.Aborted, AfterMessages: 7}}, minStreams: 2},
		{name: "deadline exceeded mid-stream", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, Code: codes.DeadlineExceeded, AfterMessages: 2}}, minStreams: 2},
		{name: "unknown mid-stream", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, Code: codes.Unknown, AfterMessages: 2}}, minStreams: 2},
		{name: "two faults in a row", faults: []zerobuslocal.Fault{
			{Kind: zerobuslocal.FaultError, AfterMessages: 3},
			{Kind: zerobuslocal.FaultError, Code: codes.Internal, AfterMessages: 4},
		}, minStreams: 3},
		{name: "flapping server makes progress", faults: []zerobuslocal.Fault{
			{Kind: zerobuslocal.FaultError, AfterMessages: 4, Persistent: true},
		}, minStreams: 5},
		{name: "clean end of stream", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultEndStream, AfterMessages: 5}}, minStreams: 2},
		{name: "dropped connection", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 5}}, minStreams: 2},
		{name: "stalled acks", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 5}}, minStreams: 2,
			cfg: func(c *Config) { c.AckTimeout = 200 * time.Millisecond }, wantResends: true},
		{name: "close signal", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultCloseSignal, AfterMessages: 5, CloseAfter: 5 * time.Second}}, minStreams: 2,
			// A small window keeps requests queued when the signal comes.
			cfg: func(c *Config) { c.MaxInflightRequests = 3 },
			check: func(t *testing.T, e *env, reqs []sent) {
				// The client waits for the acks of what it sent before
				// moving, so with a responsive server nothing is re-sent.
				for i, r := range reqs {
					if r.p.Attempts() != 1 {
						t.Errorf("request %d: Attempts() = %d, want 1 (close signal handled without re-send)", i, r.p.Attempts())
					}
				}
				if got := countEvents(e, zerobuslocal.EventCloseSignalSent); got != 1 {
					t.Errorf("close signals: got %d, want 1", got)
				}
			}},
		// Acks stop after 3 requests and the signal comes with the 4th
		// stored, so at least that one is in flight unacknowledged when the
		// signal arrives and must be re-sent. (A signal at the 3rd could
		// find a slow client with everything it had sent acknowledged:
		// it then moves at once and re-sends nothing, as it should.)
		{name: "close signal with stalled acks", faults: []zerobuslocal.Fault{
			{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 3},
			{Kind: zerobuslocal.FaultCloseSignal, AfterMessages: 4, CloseAfter: 100 * time.Millisecond},
		}, minStreams: 2, wantResends: true},
		{name: "token expired mid-stream", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultExpireToken, AfterMessages: 5}}, minStreams: 2,
			check: func(t *testing.T, e *env, _ []sent) {
				if got := len(e.sniff.tokens()); got != 2 {
					t.Errorf("tokens fetched: got %d, want 2 (one refresh after expiry)", got)
				}
			}},
		{name: "token endpoint 500 once", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 500}}, minStreams: 1,
			check: func(t *testing.T, e *env, _ []sent) {
				if got := e.sniff.requests(); got != 2 {
					t.Errorf("token HTTP requests: got %d, want 2 (one retried 500)", got)
				}
			}},
		// Rate limiting (429) and a request timeout (408) pass: the token
		// request is retried, not reported as rejected credentials.
		{name: "token endpoint 429 once", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 429}}, minStreams: 1,
			check: func(t *testing.T, e *env, _ []sent) {
				if got := e.sniff.requests(); got != 2 {
					t.Errorf("token HTTP requests: got %d, want 2 (one retried 429)", got)
				}
			}},
		{name: "token endpoint 408 once", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 408}}, minStreams: 1,
			check: func(t *testing.T, e *env, _ []sent) {
				if got := e.sniff.requests(); got != 2 {
					t.Errorf("token HTTP requests: got %d, want 2 (one retried 408)", got)
				}
			}},
		{name: "token endpoint slower than CreateTimeout", faults: []zerobuslocal.Fault{{Kind: zerobuslocal.FaultTokenLatency, Latency: 5 * time.Second}},
			cfg: func(c *Config) { c.CreateTimeout = 300 * time.Millisecond }, minStreams: 1,
			check: func(t *testing.T, e *env, _ []sent) {
				if got := len(e.sniff.tokens()); got != 1 {
					t.Errorf("tokens fetched: got %d, want 1", got)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, c := faultedClient(t, tt.faults, tt.cfg)
			s := e.open(c)
			ctx := context.Background()
			reqs, err := sendRequests(ctx, s, 40, 5)
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
				t.Errorf("acknowledged requests: got %d, want %d", got, len(reqs))
			}
			if got := e.srv.Stats().StreamsCreated; got < int64(tt.minStreams) {
				t.Errorf("server streams created: got %d, want >= %d", got, tt.minStreams)
			}
			if tt.wantResends {
				resent := 0
				for _, r := range reqs {
					if r.p.Attempts() > 1 {
						resent++
					}
				}
				if resent == 0 {
					t.Errorf("no request was re-sent, want some (acks were withheld)")
				}
			}
			if got := e.srv.RecordCount(testTable); got < 200 {
				t.Errorf("stored rows: got %d, want >= 200", got)
			}
			if tt.check != nil {
				tt.check(t, e, reqs)
			}
		})
	}
}

// TestTerminalFaults covers failures the stream must not retry (or gives up
// on): pending requests fail with the server's error and Unacked returns
// exactly the records of the failed requests.
func TestTerminalFaults(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(e *env) // after the stream opened
		wantCode codes.Code
		wantType string // "server", "exhausted"
	}{
		{name: "invalid argument mid-stream", wantCode: codes.InvalidArgument, wantType: "server",
			setup: func(e *env) {
				e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.InvalidArgument, Message: "bad record", AfterMessages: 2})
			}},
		{name: "out of range mid-stream", wantCode: codes.OutOfRange, wantType: "server",
			setup: func(e *env) {
				e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.OutOfRange, AfterMessages: 2})
			}},
		{name: "not found mid-stream", wantCode: codes.NotFound, wantType: "server",
			setup: func(e *env) {
				e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.NotFound, AfterMessages: 2})
			}},
		{name: "unimplemented mid-stream", wantCode: codes.Unimplemented, wantType: "server",
			setup: func(e *env) {
				e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Unimplemented, AfterMessages: 2})
			}},
		{name: "recovery exhausted", wantCode: codes.Unavailable, wantType: "exhausted",
			setup: func(e *env) {
				// Every RPC fails after one message, before its ack is due:
				// no progress, so the retries run out.
				e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, AfterMessages: 1, Persistent: true})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, zerobuslocal.Options{})
			// Hold acks back so several requests are in flight when the
			// fault fires.
			e.srv.SetAckPolicy(testTable, zerobuslocal.DelayedAcks(20*time.Millisecond, 0))
			tt.setup(e) // stream faults are armed on streams created afterwards
			c := e.client(e.config())
			s := e.open(c)
			ctx := context.Background()
			reqs, sendErr := sendRequests(ctx, s, 40, 5)
			e.note(sendErr)
			flushErr := s.Flush(ctx)
			e.note(flushErr)
			if flushErr == nil {
				t.Fatalf("Flush: got nil, want the terminal error")
			}
			closeErr := s.Close(ctx)
			e.note(closeErr)
			if closeErr == nil {
				t.Errorf("Close after a terminal failure: got nil, want the error")
			}
			if s.Err() == nil {
				t.Errorf("Err(): got nil after a terminal failure")
			}
			var failed []sent
			for _, r := range reqs {
				if err := r.p.Err(); err != nil {
					e.note(err)
					failed = append(failed, r)
					var se *ServerError
					if !errors.As(err, &se) || se.Code != tt.wantCode {
						t.Errorf("pending error: got %v, want code %v", err, tt.wantCode)
					}
					var re *RetryExhaustedError
					if got := errors.As(err, &re); got != (tt.wantType == "exhausted") {
						t.Errorf("pending error %v: RetryExhaustedError = %v, want %v", err, got, tt.wantType == "exhausted")
					}
					if IsRetryable(err) {
						t.Errorf("IsRetryable(%v) = true for a terminal error", err)
					}
				}
			}
			if len(failed) == 0 {
				t.Fatalf("no request failed")
			}
			un := s.Unacked()
			if len(un) != len(failed) {
				t.Fatalf("Unacked: got %d sets, want %d (the failed requests)", len(un), len(failed))
			}
			for i := range un {
				for k, rec := range un[i] {
					if got := decodeID(t, rec); got != failed[i].ids[k] {
						t.Errorf("Unacked[%d][%d] id = %d, want %d", i, k, got, failed[i].ids[k])
					}
				}
			}
			verifyDelivery(t, e, reqs)
			if tt.wantType == "server" {
				if got := e.srv.Stats().StreamsCreated; got != 1 {
					t.Errorf("streams created: got %d, want 1 (no retry of %v)", got, tt.wantCode)
				}
			}
			if tt.wantType == "exhausted" {
				var re *RetryExhaustedError
				if errors.As(s.Err(), &re) && re.Attempts != DefaultMaxAttempts+1 {
					t.Errorf("RetryExhaustedError.Attempts = %d, want %d", re.Attempts, DefaultMaxAttempts+1)
				}
			}
			if _, err := s.Send(ctx, rowsBatch(1000, 1)); err == nil || errors.Is(err, ErrClosed) && s.Err() == nil {
				t.Errorf("Send after failure: got %v, want the terminal error", err)
			}
		})
	}
}

func TestPipelineBlockedBacksOffLonger(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	e.srv.InjectFault(testTable, zerobuslocal.PipelineBlockedFault())
	cfg := e.config()
	cfg.Retry.MaxAttempts = 2
	c := e.client(cfg)
	_, err := c.OpenStream(context.Background(), testDescriptor(), 1)
	e.note(err)
	var re *RetryExhaustedError
	if !errors.As(err, &re) {
		t.Fatalf("OpenStream: got %v, want *RetryExhaustedError", err)
	}
	if re.Attempts != 3 {
		t.Errorf("Attempts: got %d, want 3", re.Attempts)
	}
	var se *ServerError
	if !errors.As(err, &se) || se.Code != codes.ResourceExhausted {
		t.Errorf("last error: got %v, want RESOURCE_EXHAUSTED", err)
	}
	e.mu.Lock()
	bases := append([]time.Duration(nil), e.backoff...)
	e.mu.Unlock()
	want := cfg.Retry.BaseDelay * blockedFactor
	if len(bases) != 2 {
		t.Fatalf("backoff calls: got %d, want 2", len(bases))
	}
	for i, b := range bases {
		if b != want {
			t.Errorf("backoff %d base: got %s, want %s (10x base for error 6006)", i, b, want)
		}
	}
}

func TestSchemaMismatchFailsFast(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	other := testDescriptor()
	other.Field[1].Name = ptr("t")
	if err := e.srv.CreateTable(testTable, other); err != nil {
		t.Fatal(err)
	}
	c := e.client(e.config())
	_, err := c.OpenStream(context.Background(), testDescriptor(), 1)
	e.note(err)
	var se *ServerError
	if !errors.As(err, &se) {
		t.Fatalf("OpenStream: got %v, want *ServerError", err)
	}
	if se.Code != codes.InvalidArgument || se.Reason != "SCHEMA_VALIDATION_FAILED" || len(se.Causes) == 0 {
		t.Errorf("ServerError = %+v, want INVALID_ARGUMENT, SCHEMA_VALIDATION_FAILED, causes", *se)
	}
	if got := countEvents(e, zerobuslocal.EventStreamRejected); got != 1 {
		t.Errorf("create attempts: got %d, want 1 (schema errors are not retried)", got)
	}
}

func ptr[T any](v T) *T { return &v }

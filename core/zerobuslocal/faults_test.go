package zerobuslocal_test

import (
	"errors"
	"io"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// tryCreate opens a stream and returns the create error (nil on success).
func tryCreate(t *testing.T, s *zerobuslocal.Server, tok, table string) (*stream, error) {
	t.Helper()
	st := openStream(t, dial(t, s), tok, table)
	st.send(createReq(table, eventsDesc(), zerobuspb.RecordType_PROTO))
	m, err := st.c.Recv()
	if err != nil {
		return st, err
	}
	if m.GetCreateStreamResponse().GetStreamId() == "" {
		t.Fatalf("first response: got %v, want create_stream_response", m)
	}
	return st, nil
}

func TestFaultAtCreate(t *testing.T) {
	tests := []struct {
		name   string
		fault  zerobuslocal.Fault
		code   codes.Code
		substr string
		fails  int // streams that fail before one succeeds (persistent: cleared after 3)
	}{
		{"default code", zerobuslocal.Fault{Kind: zerobuslocal.FaultError}, codes.Unavailable, "injected", 1},
		{"internal", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Internal, Message: "boom"}, codes.Internal, "boom", 1},
		{"invalid argument", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.InvalidArgument}, codes.InvalidArgument, "", 1},
		{"permission denied", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.PermissionDenied}, codes.PermissionDenied, "", 1},
		{"not found", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.NotFound}, codes.NotFound, "", 1},
		{"out of range", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.OutOfRange}, codes.OutOfRange, "", 1},
		{"unimplemented", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Unimplemented}, codes.Unimplemented, "", 1},
		{"persistent", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Aborted, Persistent: true}, codes.Aborted, "", 3},
		{"pipeline blocked", zerobuslocal.PipelineBlockedFault(), codes.ResourceExhausted, "6006", 3},
		{"expire token", zerobuslocal.Fault{Kind: zerobuslocal.FaultExpireToken}, codes.Unauthenticated, "expired", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, zerobuslocal.Options{})
			s.InjectFault(testTable, tc.fault)
			s.InjectFault("main.default.unrelated", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Persistent: true})
			for i := 0; i < tc.fails; i++ {
				_, err := tryCreate(t, s, token(t, s, testTable), testTable)
				wantStatus(t, err, tc.code, tc.substr)
			}
			if tc.fault.Persistent {
				s.ClearFaults(testTable)
			}
			st, err := tryCreate(t, s, token(t, s, testTable), testTable)
			if err != nil {
				t.Fatalf("stream after the fault: %v", err)
			}
			st.send(recordReq(0, encode(t, event(t, 1, ""))))
			st.expectAck(0)
			if err := st.finish(); err != nil {
				t.Fatal(err)
			}
			if got := s.Stats().FaultsFired; got != int64(tc.fails) {
				t.Errorf("FaultsFired: got %d, want %d", got, tc.fails)
			}
			if _, err := s.WaitFor(ctxT(t), func(e zerobuslocal.Event) bool {
				return e.Kind == zerobuslocal.EventFaultFired && e.Fault == tc.fault.Kind && e.Table == testTable
			}); err != nil {
				t.Error("no fault_fired event")
			}
		})
	}
}

func TestFaultExpireTokenRevokesIt(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	s.InjectFault("", zerobuslocal.Fault{Kind: zerobuslocal.FaultExpireToken, AfterMessages: 1}) // "" = any table
	tok := token(t, s, testTable)
	st, err := tryCreate(t, s, tok, testTable)
	if err != nil {
		t.Fatal(err)
	}
	st.send(recordReq(0, encode(t, event(t, 1, ""))))
	st.expectAck(0)
	wantStatus(t, st.drain(), codes.Unauthenticated, "expired")
	_, err = tryCreate(t, s, tok, testTable)
	wantStatus(t, err, codes.Unauthenticated, "invalid or revoked")
	if _, err := tryCreate(t, s, token(t, s, testTable), testTable); err != nil {
		t.Errorf("fresh token: %v", err)
	}
}

// TestFaultAfterMessages: N messages are stored and acked, then the fault.
func TestFaultAfterMessages(t *testing.T) {
	tests := []struct {
		name  string
		fault zerobuslocal.Fault
		check func(t *testing.T, err error)
	}{
		{"error", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Internal, AfterMessages: 2}, func(t *testing.T, err error) {
			wantStatus(t, err, codes.Internal, "")
		}},
		{"resource exhausted", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.ResourceExhausted, AfterMessages: 2}, func(t *testing.T, err error) {
			wantStatus(t, err, codes.ResourceExhausted, "")
		}},
		{"clean end", zerobuslocal.Fault{Kind: zerobuslocal.FaultEndStream, AfterMessages: 2}, func(t *testing.T, err error) {
			if err != nil {
				t.Errorf("end: got %v, want a clean end of stream (io.EOF)", err)
			}
		}},
		{"dropped connection", zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 2}, func(t *testing.T, err error) {
			wantStatus(t, err, codes.Unavailable, "")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, zerobuslocal.Options{})
			s.InjectFault(testTable, tc.fault)
			st, err := tryCreate(t, s, token(t, s, testTable), testTable)
			if err != nil {
				t.Fatal(err)
			}
			rec := encode(t, event(t, 1, ""))
			st.send(recordReq(0, rec))
			st.send(recordReq(1, rec))
			// Every kind, the dropped connection too, delivers the acks
			// due before it fires.
			st.expectAck(0)
			st.expectAck(1)
			tc.check(t, st.drain())
			if got := s.RecordCount(testTable); got != 2 {
				t.Errorf("RecordCount: got %d, want 2", got)
			}
			// The server keeps working for the next stream (one-shot fault).
			st2, err := tryCreate(t, s, token(t, s, testTable), testTable)
			if err != nil {
				t.Fatalf("next stream: %v", err)
			}
			st2.send(recordReq(0, rec))
			st2.expectAck(0)
			if err := st2.finish(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFaultAfterTime(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Unavailable, After: 20 * time.Millisecond, Message: "timed"})
	st, err := tryCreate(t, s, token(t, s, testTable), testTable)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, st.drain(), codes.Unavailable, "timed")
}

func TestFaultStallAcks(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 1})
	st, err := tryCreate(t, s, token(t, s, testTable), testTable)
	if err != nil {
		t.Fatal(err)
	}
	rec := encode(t, event(t, 1, ""))
	st.send(recordReq(0, rec))
	st.expectAck(0)
	st.send(recordReq(1, rec))
	st.send(recordReq(2, rec))
	if err := s.WaitForCount(ctxT(t), 3, func(e zerobuslocal.Event) bool { return e.Kind == zerobuslocal.EventMessageStored }); err != nil {
		t.Fatal(err)
	}
	// Half-close: a stalled stream ends without the missing acks.
	if err := st.c.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if m, err := st.c.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("after stall: got %v %v, want end of stream and no ack", m, err)
	}
	if got := s.RecordCount(testTable); got != 3 {
		t.Errorf("RecordCount: got %d, want 3 (stalled acks still store)", got)
	}
	if got := s.Stats().AcksSent; got != 1 {
		t.Errorf("AcksSent: got %d, want 1", got)
	}
}

func (s *stream) expectCloseSignal(want time.Duration) {
	s.t.Helper()
	m := s.recv()
	cs := m.GetCloseStreamSignal()
	if cs == nil || cs.GetDuration().AsDuration() != want {
		s.t.Fatalf("response: got %v, want close_stream_signal of %v", m, want)
	}
}

func TestFaultCloseSignal(t *testing.T) {
	t.Run("after messages, client moves away", func(t *testing.T) {
		s := start(t, zerobuslocal.Options{})
		s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, AfterMessages: 2, CloseAfter: time.Minute})
		st, err := tryCreate(t, s, token(t, s, testTable), testTable)
		if err != nil {
			t.Fatal(err)
		}
		rec := encode(t, event(t, 1, ""))
		st.send(recordReq(0, rec))
		st.send(recordReq(1, rec))
		st.expectAck(0)
		st.expectAck(1)
		st.expectCloseSignal(time.Minute)
		st.send(recordReq(2, rec)) // still accepted and acked during the grace period
		st.expectAck(2)
		if err := st.finish(); err != nil {
			t.Errorf("end: got %v, want clean", err)
		}
		if got := s.Stats().CloseSignals; got != 1 {
			t.Errorf("CloseSignals: got %d, want 1", got)
		}
	})
	t.Run("forced close with OK", func(t *testing.T) {
		s := start(t, zerobuslocal.Options{})
		s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, CloseAfter: 10 * time.Millisecond})
		st, err := tryCreate(t, s, token(t, s, testTable), testTable)
		if err != nil {
			t.Fatal(err)
		}
		st.expectCloseSignal(10 * time.Millisecond) // at create: right after the stream id
		if err := st.drain(); err != nil {
			t.Errorf("forced close: got %v, want clean end", err)
		}
	})
	t.Run("forced close with status, time trigger", func(t *testing.T) {
		s := start(t, zerobuslocal.Options{})
		s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, After: 5 * time.Millisecond, CloseAfter: 10 * time.Millisecond, Code: codes.Unavailable})
		st, err := tryCreate(t, s, token(t, s, testTable), testTable)
		if err != nil {
			t.Fatal(err)
		}
		st.expectCloseSignal(10 * time.Millisecond)
		wantStatus(t, st.drain(), codes.Unavailable, "CloseStreamSignal")
	})
}

func TestCloseEndsOpenStreams(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	st, err := tryCreate(t, s, token(t, s, testTable), testTable)
	if err != nil {
		t.Fatal(err)
	}
	st.send(recordReq(0, encode(t, event(t, 1, ""))))
	st.expectAck(0)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	err = st.drain()
	if code := status.Code(err); code != codes.Unavailable {
		t.Errorf("after Close: got %v, want UNAVAILABLE", err)
	}
	if got := s.RecordCount(testTable); got != 1 {
		t.Errorf("rows after Close: got %d, want 1", got)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

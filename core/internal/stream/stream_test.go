package stream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

func TestHappyPathConcurrentSenders(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	c := e.client(e.config())
	s := e.open(c)
	if s.ID() == "" {
		t.Errorf("ID() is empty after OpenStream")
	}
	ctx := context.Background()

	const workers, perWorker = 4, 50
	var (
		mu  sync.Mutex
		all []*Pending
		wg  sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				base := (w*perWorker + i) * 10
				// Alternate single records and batches.
				n := 1 + i%10
				p, err := s.Send(ctx, rowsBatch(base, n))
				if err != nil {
					e.note(err)
					t.Errorf("Send: %v", err)
					return
				}
				mu.Lock()
				all = append(all, p)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	want := map[int64]int{}
	for w := 0; w < workers; w++ {
		for i := 0; i < perWorker; i++ {
			base := (w*perWorker + i) * 10
			for k := 0; k < 1+i%10; k++ {
				want[int64(base+k)] = 1
			}
		}
	}
	for i, p := range all {
		select {
		case <-p.Done():
		default:
			t.Fatalf("pending %d not resolved after Flush", i)
		}
		if err := p.Err(); err != nil {
			t.Errorf("pending %d: Err() = %v, want nil", i, err)
		}
		if got := p.Attempts(); got != 1 {
			t.Errorf("pending %d: Attempts() = %d, want 1", i, got)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Errorf("second Close: %v, want nil (idempotent)", err)
	}
	if _, err := s.Send(ctx, rowsBatch(0, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: got %v, want ErrClosed", err)
	}
	if err := s.Flush(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: got %v, want ErrClosed", err)
	}
	if got := s.Unacked(); got != nil {
		t.Errorf("Unacked after clean close: got %d sets, want none", len(got))
	}
	got := e.ids()
	if len(got) != len(want) {
		t.Errorf("server stored %d distinct ids, want %d", len(got), len(want))
	}
	for id, n := range got {
		if want[id] != 1 || n != 1 {
			t.Errorf("id %d stored %d times (wanted: %v)", id, n, want[id] == 1)
		}
	}
	e.checkOffsets()
	if n := len(e.srv.Events()); n == 0 {
		t.Errorf("no server events")
	}
	var halfClosed bool
	for _, ev := range e.srv.Events() {
		if ev.Kind == zerobuslocal.EventClientHalfClosed {
			halfClosed = true
		}
		if ev.Kind == zerobuslocal.EventStreamEnded && ev.Code != codes.OK {
			t.Errorf("stream ended with %v (%s), want OK after Close", ev.Code, ev.Message)
		}
	}
	if !halfClosed {
		t.Errorf("the server never saw the client half-close")
	}
}

func TestJSONStream(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	cfg := e.config()
	cfg.HTTPClient = nil // the default token client must not leak connections either
	c := e.client(cfg)
	ctx := context.Background()
	s, err := c.OpenStream(ctx, nil, zerobuspb.RecordType_JSON)
	if err != nil {
		t.Fatalf("OpenStream(JSON): %v", err)
	}
	if _, err := s.Send(ctx, rowsBatch(0, 1)); err == nil {
		t.Errorf("Send on a JSON stream: got nil error")
	}
	p1, err := s.SendJSON(ctx, []string{`{"id":1}`})
	if err != nil {
		t.Fatalf("SendJSON: %v", err)
	}
	p2, err := s.SendJSON(ctx, []string{`{"id":2}`, `{"id":3}`})
	if err != nil {
		t.Fatalf("SendJSON: %v", err)
	}
	for _, err := range waitAll(t, []*Pending{p1, p2}) {
		if err != nil {
			t.Errorf("pending: %v", err)
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	rows := e.srv.Rows(testTable)
	var got []string
	for _, r := range rows {
		got = append(got, string(r.Raw))
		if !r.JSON {
			t.Errorf("row %s not marked JSON", r.Raw)
		}
	}
	want := []string{`{"id":1}`, `{"id":2}`, `{"id":3}`}
	if len(got) != len(want) {
		t.Fatalf("rows: got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d: got %q, want %q", i, got[i], want[i])
		}
	}
	if rows[0].Offset != 0 || rows[1].Offset != 1 || rows[2].Offset != 1 || rows[2].Index != 1 {
		t.Errorf("offsets/indexes: got (%d,%d) (%d,%d) (%d,%d), want (0,0) (1,0) (1,1)",
			rows[0].Offset, rows[0].Index, rows[1].Offset, rows[1].Index, rows[2].Offset, rows[2].Index)
	}
}

func TestOpenStreamArguments(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	c := e.client(e.config())
	ctx := context.Background()
	tests := []struct {
		name string
		open func() error
	}{
		{"proto without descriptor", func() error { _, err := c.OpenStream(ctx, nil, zerobuspb.RecordType_PROTO); return err }},
		{"json with descriptor", func() error {
			_, err := c.OpenStream(ctx, testDescriptor(), zerobuspb.RecordType_JSON)
			return err
		}},
		{"avro", func() error { _, err := c.OpenStream(ctx, nil, zerobuspb.RecordType_AVRO); return err }},
		{"unspecified", func() error {
			_, err := c.OpenStream(ctx, nil, zerobuspb.RecordType_RECORD_TYPE_UNSPECIFIED)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.open(); err == nil {
				t.Errorf("got nil error, want a usage error")
			}
		})
	}
	if got := e.sniff.requests(); got != 0 {
		t.Errorf("token requests: got %d, want 0 (no network for bad arguments)", got)
	}
}

func TestMessageTooLarge(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	cfg := e.config()
	cfg.MaxMessageBytes = 1000
	c := e.client(cfg)
	s := e.open(c)
	ctx := context.Background()
	_, err := s.Send(ctx, [][]byte{make([]byte, 600), make([]byte, 600)})
	var me *MessageTooLargeError
	if !errors.As(err, &me) {
		t.Fatalf("Send: got %v, want *MessageTooLargeError", err)
	}
	if me.Limit != 1000 || me.Records != 2 || me.Size <= 1200 {
		t.Errorf("MessageTooLargeError = %+v, want Limit 1000, Records 2, Size > 1200", *me)
	}
	if IsRetryable(err) {
		t.Errorf("IsRetryable(too large) = true")
	}
	if _, err := s.Send(ctx, nil); err == nil {
		t.Errorf("Send(nil): got nil error")
	}
	p, err := s.Send(ctx, [][]byte{encodeRow(7, "ok")})
	if err != nil {
		t.Fatalf("Send small: %v", err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestBackpressureAndAbort(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	// Acks never come on this stream.
	cfg := e.stalledConfig()
	cfg.MaxInflightRequests = 2
	c := e.client(cfg)
	s := e.open(c)
	ctx := context.Background()
	p1, err := s.Send(ctx, rowsBatch(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.Send(ctx, rowsBatch(2, 3))
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err = s.Send(short, rowsBatch(5, 1))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third Send with a full window: got %v, want context.DeadlineExceeded", err)
	}
	short, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
	err = s.Close(short)
	cancel()
	if err == nil {
		t.Fatalf("Close with unacked requests and an expiring ctx: got nil error")
	}
	e.note(err)
	for i, p := range []*Pending{p1, p2} {
		if perr := p.Wait(ctx); !errors.Is(perr, ErrClosed) {
			t.Errorf("pending %d: got %v, want ErrClosed", i, perr)
		}
	}
	un := s.Unacked()
	if len(un) != 2 || len(un[0]) != 1 || len(un[1]) != 3 {
		t.Fatalf("Unacked: got %d sets, want [1 3] records", len(un))
	}
	if got := decodeID(t, un[1][2]); got != 4 {
		t.Errorf("Unacked()[1][2] id = %d, want 4", got)
	}
	if _, err := s.Send(ctx, rowsBatch(9, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after aborted Close: got %v, want ErrClosed", err)
	}
	if used, bytes := s.win.usage(); used != 0 || bytes != 0 {
		t.Errorf("window after abort: %d requests, %d bytes held, want 0", used, bytes)
	}
}

func TestClientCloseAbortsStreams(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	cfg := e.stalledConfig()
	c := e.client(cfg)
	s := e.open(c)
	ctx := context.Background()
	p, err := s.Send(ctx, rowsBatch(1, 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Client.Close: %v", err)
	}
	if err := p.Wait(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("pending after Client.Close: got %v, want ErrClosed", err)
	}
	if len(s.Unacked()) != 1 {
		t.Errorf("Unacked: got %d sets, want 1", len(s.Unacked()))
	}
	if _, err := c.OpenStream(ctx, testDescriptor(), zerobuspb.RecordType_PROTO); !errors.Is(err, ErrClosed) {
		t.Errorf("OpenStream after Client.Close: got %v, want ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Client.Close: %v", err)
	}
}

// After the server ends an idle RPC the stream reconnects lazily on the
// next Send, and Close of an idle stream needs no RPC.
func TestIdleReconnectAndClose(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultEndStream, AfterMessages: 2})
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultEndStream, AfterMessages: 1})
	c := e.client(e.config())
	s := e.open(c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	first := s.ID()
	reqs, err := sendRequests(ctx, s, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.WaitForCount(ctx, 1, func(ev zerobuslocal.Event) bool { return ev.Kind == zerobuslocal.EventStreamEnded }); err != nil {
		t.Fatal(err)
	}
	p, err := s.Send(ctx, rowsBatch(100, 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("Send after the idle RPC ended: %v", err)
	}
	if s.ID() == first {
		t.Errorf("ID() did not change after reconnecting")
	}
	if err := e.srv.WaitForCount(ctx, 2, func(ev zerobuslocal.Event) bool { return ev.Kind == zerobuslocal.EventStreamEnded }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close of an idle stream: %v", err)
	}
	reqs = append(reqs, sent{ids: []int64{100, 101}, p: p})
	if got := verifyDelivery(t, e, reqs); got != 3 {
		t.Errorf("acknowledged: got %d, want 3", got)
	}
	if got := e.srv.Stats().StreamsCreated; got != 2 {
		t.Errorf("streams created: got %d, want 2", got)
	}
}

// TestUnackedFramed: records of framed requests (one record, several
// records across two buffers) that a stream ends without acknowledging are
// returned by Unacked as they were sent, although the caller's Records
// arrays were cleared after SendFramed.
func TestUnackedFramed(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	cfg := e.stalledConfig()
	c := e.client(cfg)
	s := e.open(c)
	ctx := context.Background()
	var resolved atomic.Int32
	var want [][][]byte
	for i, n := range []int{1, 3} {
		recs := make([][]byte, n)
		for k := range recs {
			recs[k] = encodeRow(int64(10*i+k), fmt.Sprintf("row-%d", 10*i+k))
		}
		want = append(want, append([][]byte(nil), recs...))
		f, h := framed(recs, 1+i)
		var p *Pending
		f.Resolved = func() {
			resolved.Add(1)
			if isResolved(p) {
				t.Error("Resolved called after the Pending resolved")
			}
		}
		var err error
		if p, err = s.SendFramed(ctx, f); err != nil {
			t.Fatal(err)
		}
		clear(f.Records)
		h.Release()
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err := s.Close(short)
	cancel()
	if err == nil {
		t.Fatal("Close with stalled acks and an expiring ctx: got nil error")
	}
	e.note(err)
	if c := resolved.Load(); c != 2 {
		t.Errorf("Resolved called %d times for 2 failed requests, want 2", c)
	}
	un := s.Unacked()
	if len(un) != len(want) {
		t.Fatalf("Unacked: %d sets, want %d", len(un), len(want))
	}
	for i := range want {
		if len(un[i]) != len(want[i]) {
			t.Fatalf("Unacked()[%d]: %d records, want %d", i, len(un[i]), len(want[i]))
		}
		for k := range want[i] {
			if !bytes.Equal(un[i][k], want[i][k]) {
				t.Errorf("Unacked()[%d][%d] = %x, want %x", i, k, un[i][k], want[i][k])
			}
		}
	}
}

func isResolved(p *Pending) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

package stream

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// poisonHold is a Holder that overwrites its buffer when the last
// reference goes, as reuse by a pool would, and records misuse: a Retain
// after that, or more Releases than Retains.
type poisonHold struct {
	mu     sync.Mutex
	refs   int
	buf    []byte
	misuse []string
}

func (h *poisonHold) Retain() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.refs == 0 {
		h.misuse = append(h.misuse, "retained after its last release")
	}
	h.refs++
}

func (h *poisonHold) Release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refs--
	switch {
	case h.refs < 0:
		h.misuse = append(h.misuse, "released more often than retained")
	case h.refs == 0:
		for i := range h.buf {
			h.buf[i] = 0xff // reused by someone else
		}
	}
}

func (h *poisonHold) state() (int, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.refs, h.misuse
}

// framed builds a Framed request of records, framed in one buffer split
// into parts slices, held by a poisonHold with one reference (the caller's).
func framed(records [][]byte, parts int) (Framed, *poisonHold) {
	var buf []byte
	var starts []int
	for _, r := range records {
		buf = protowire.AppendTag(buf, 1, protowire.BytesType)
		buf = protowire.AppendVarint(buf, uint64(len(r)))
		starts = append(starts, len(buf))
		buf = append(buf, r...)
	}
	f := Framed{}
	for i, r := range records {
		f.Records = append(f.Records, buf[starts[i]:starts[i]+len(r):starts[i]+len(r)])
	}
	cut := len(buf) * 2 / 3
	if parts == 1 {
		cut = len(buf)
	}
	f.Frames = [][]byte{buf[:cut:cut]}
	if cut < len(buf) {
		f.Frames = append(f.Frames, buf[cut:])
	}
	h := &poisonHold{refs: 1, buf: buf}
	f.Hold = h
	return f, h
}

// TestFramedCodecMatchesProtoMarshal: a framed request is written byte for
// byte as proto.Marshal writes the generated message (single record and
// batch, one or two buffers, small and large varints), decodes to it, and
// gRPC's references to the records are all dropped once it frees them.
func TestFramedCodecMatchesProtoMarshal(t *testing.T) {
	big := encodeRow(7, strings.Repeat("x", 5000))
	s := &Stream{rt: zerobuspb.RecordType_PROTO}
	cases := []struct {
		name    string
		records [][]byte
		parts   int
	}{
		{"one small record", [][]byte{encodeRow(1, "a")}, 1},
		{"one large record", [][]byte{big}, 1},
		{"batch in one buffer", rowsBatch(0, 50), 1},
		{"batch in two buffers", append(rowsBatch(0, 100), big), 2},
	}
	for _, tc := range cases {
		for _, off := range []int64{0, 1, 127, 128, 1 << 40} {
			t.Run(fmt.Sprintf("%s/offset=%d", tc.name, off), func(t *testing.T) {
				f, h := framed(tc.records, tc.parts)
				req := &request{records: f.Records, frames: f.Frames, hold: f.Hold}
				data, err := rpcCodec.Marshal(s.wireMsg(req, off))
				if err != nil {
					t.Fatal(err)
				}
				got := data.Materialize()
				want, err := proto.Marshal(s.message(req, off))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("framed codec wrote %d bytes that differ from proto.Marshal's %d", len(got), len(want))
				}
				var back zerobuspb.EphemeralStreamRequest
				if err := proto.Unmarshal(got, &back); err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(&back, s.message(req, off)) {
					t.Fatal("framed request decodes to another message")
				}
				data.Free()
				if refs, misuse := h.state(); refs != 1 || misuse != nil {
					t.Fatalf("after gRPC freed the request: %d references (want the caller's 1), misuse %v", refs, misuse)
				}
			})
		}
	}
}

// TestFramedReplayAfterRelease: framed requests survive faults that make
// the stream re-send them on a new RPC while the buffers of resolved
// requests are overwritten (as a pool reusing them would): every row is
// stored as sent, each buffer is released exactly when nothing refers to it
// any more, and none is touched after that.
func TestFramedReplayAfterRelease(t *testing.T) {
	stall := func(c *Config) { c.AckTimeout = 200 * time.Millisecond }
	faults := []struct {
		name       string
		faults     []zerobuslocal.Fault
		cfg        func(*Config)
		wantResend bool // the fault certainly leaves written requests unacknowledged
	}{
		{"no fault", nil, nil, false},
		{"unavailable mid-stream", []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, AfterMessages: 5}}, nil, false},
		{"two faults", []zerobuslocal.Fault{{Kind: zerobuslocal.FaultError, AfterMessages: 3}, {Kind: zerobuslocal.FaultError, Code: codes.Internal, AfterMessages: 4}}, nil, false},
		{"dropped connection", []zerobuslocal.Fault{{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 5}}, nil, false},
		{"stalled acks", []zerobuslocal.Fault{{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 5}}, stall, true},
		{"stalled acks then unavailable", []zerobuslocal.Fault{
			{Kind: zerobuslocal.FaultStallAcks},
			{Kind: zerobuslocal.FaultError, Code: codes.Unavailable, AfterMessages: 4},
		}, stall, true},
	}
	for _, tc := range faults {
		t.Run(tc.name, func(t *testing.T) {
			e, c := faultedClient(t, tc.faults, tc.cfg)
			s := e.open(c)
			ctx := context.Background()
			const n, per = 40, 6
			var reqs []sent
			var holds []*poisonHold
			resolved := make([]atomic.Int32, n)
			for i := range n {
				recs := make([][]byte, per)
				ids := make([]int64, per)
				for k := range recs {
					ids[k] = int64(i*per + k)
					recs[k] = encodeRow(ids[k], fmt.Sprintf("row-%d-%s", ids[k], strings.Repeat("p", 300)))
				}
				f, h := framed(recs, 1+i%2)
				f.Resolved = func() { resolved[i].Add(1) }
				p, err := s.SendFramed(ctx, f)
				if err != nil {
					e.note(err)
					t.Fatalf("SendFramed %d: %v", i, err)
				}
				h.Release() // the caller is done: only the stream holds it now
				// f.Records is read only during SendFramed: the caller may
				// reuse its array at once (core returns it to the encoder).
				clear(f.Records)
				reqs = append(reqs, sent{ids: ids, p: p})
				holds = append(holds, h)
			}
			if err := s.Close(ctx); err != nil {
				e.note(err)
				t.Fatalf("Close: %v", err)
			}
			if got := verifyDelivery(t, e, reqs); got != n {
				t.Errorf("acknowledged requests: got %d, want %d", got, n)
			}
			for i := range resolved {
				if c := resolved[i].Load(); c != 1 {
					t.Errorf("request %d: Resolved called %d times, want once (re-sends included)", i, c)
				}
			}
			resent := 0
			for _, r := range reqs {
				if r.p.Attempts() > 1 {
					resent++
				}
			}
			if tc.wantResend && resent == 0 {
				t.Error("no request was re-sent: the fault did not exercise a replay")
			}
			// Every stored row is exactly what was sent (a poisoned buffer
			// would store 0xff bytes or fail validation).
			for _, r := range e.srv.Rows(testTable) {
				id := decodeID(t, r.Raw)
				if want := encodeRow(id, fmt.Sprintf("row-%d-%s", id, strings.Repeat("p", 300))); !bytes.Equal(r.Raw, want) {
					t.Fatalf("row %d stored as %x", id, r.Raw[:min(len(r.Raw), 32)])
				}
			}
			// Without a fault every reference comes back; after one, gRPC
			// may drop the bytes of a dead RPC without freeing them: those
			// buffers are left to the garbage collector, never reused.
			waitReleased(t, holds, tc.faults == nil)
		})
	}
}

// waitReleased checks that no request's buffer was released twice or
// used after its release, and with all, waits until every one is released.
func waitReleased(t *testing.T, holds []*poisonHold, all bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	if !all {
		deadline = time.Now().Add(200 * time.Millisecond)
	}
	for i, h := range holds {
		for {
			refs, misuse := h.state()
			if misuse != nil {
				t.Fatalf("request %d: %v", i, misuse)
			}
			if refs == 0 {
				break
			}
			if time.Now().After(deadline) {
				if all {
					t.Fatalf("request %d: still %d references after Close", i, refs)
				}
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// Stream is one logical ingest stream to a table. It runs over a sequence of
// RPCs: when an RPC fails retryably or the server sends CloseStreamSignal,
// the stream moves to a new RPC and re-sends every unacknowledged request
// (renumbered from wire offset 0); acknowledged requests are never re-sent,
// so delivery is at-least-once (a lost acknowledgement can duplicate rows).
//
// Callers enqueue requests with Send; one sender and one receiver goroutine
// per RPC do the network I/O, and a supervisor goroutine handles recovery.
// All methods are safe for concurrent use; no lock is held across network
// I/O.
type Stream struct {
	c    *Client
	desc []byte
	rt   zerobuspb.RecordType
	tel  *telemetry.Telemetry
	win  *window

	ctx    context.Context // canceled by abort and when the stream ends
	cancel context.CancelFunc
	done   chan struct{} // closed once the stream has ended (finish)
	wake   chan struct{} // 1-slot kick for the supervisor

	mu          sync.Mutex
	q           []*request // unresolved requests in order
	sent        int        // q[:sent] are written on the current RPC
	cur         *rpc       // current RPC, nil between RPCs
	nextOffset  int64      // next wire offset on cur
	ackedUpTo   int64      // highest acknowledgement on cur (-1: none)
	ackWentDown bool       // an acknowledgement below ackedUpTo was logged (once per stream)
	st          RPCState   // cur's recovery state (CloseStreamSignal, ack timeout, clean close)
	id          string

	end        Ending // how the stream ends (Close, terminal error, abort cause)
	unackedSet [][][]byte
	closeOnce  sync.Once
	closed     chan struct{} // closed when the first Close has its result
	closeErr   error
}

// request is one ingest message: a single record or a batch.
type request struct {
	records [][]byte // PROTO (SendFramed: only a single record, else nil)
	frames  [][]byte // records pre-encoded (SendFramed), else nil
	hold    Holder   // keeps records and frames alive (SendFramed), or nil
	onDone  func()   // Framed.Resolved, or nil
	json    []string // JSON
	size    int64    // payload bytes (window accounting)
	p       *Pending
	offset  int64             // wire offset on the RPC it was last written to
	sentAt  time.Time         // when it was last written
	sc      trace.SpanContext // the sender's span (invalid if none)
	kept    bool              // records kept for Unacked: hold never released
}

// rpc is one EphemeralStream call.
type rpc struct {
	cs     zerobuspb.Zerobus_EphemeralStreamClient
	ctx    context.Context
	cancel context.CancelCauseFunc
	cred   string // the credential it was opened with
	id     string // server stream id
	RPCSignals
	wg sync.WaitGroup
}

func newStream(c *Client, desc []byte, rt zerobuspb.RecordType) *Stream {
	ctx, cancel := context.WithCancel(context.Background())
	return &Stream{
		c:      c,
		desc:   desc,
		rt:     rt,
		tel:    c.tel,
		win:    c.win,
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		closed: make(chan struct{}),
		wake:   make(chan struct{}, 1),
	}
}

// pendingCtx is the context for logs and spans about the stream's pending
// work when no caller is on the stack (recovery, server signals): the
// stream's own context carrying the span context of the oldest unresolved
// request's sender, so those records join the trace of a SendBatch they
// affect. Without pending requests (or spans) it is the stream's context.
// It must not be called with s.mu held.
func (s *Stream) pendingCtx() context.Context {
	return PendingCtx(s.ctx, &s.mu, &s.q, func(u *request) trace.SpanContext { return u.sc })
}

func (s *Stream) kick() { Kick(s.wake) }

// sender writes queued requests to r in order, assigning wire offsets.
func (s *Stream) sender(r *rpc) {
	defer r.wg.Done()
	for {
		s.mu.Lock()
		if s.cur != r {
			s.mu.Unlock()
			return
		}
		if wait, half := s.st.SenderWaits(s.sent, len(s.q)); wait {
			s.mu.Unlock()
			if !SenderIdle(r.ctx, &r.RPCSignals, half, r.cs.CloseSend, s.classify) {
				return
			}
			continue
		}
		req := s.q[s.sent]
		armTimer := s.sent == 0
		if armTimer {
			// Requests go in flight: the ack timeout starts now.
			s.st.Heard(time.Now())
		}
		s.sent++
		off := s.nextOffset
		s.nextOffset++
		req.offset = off
		req.sentAt = time.Now()
		// Counted under the lock: GiveUp sees every attempt or none.
		req.p.Attempt(s.st.RPC(), req.p.Records())
		s.mu.Unlock()
		if armTimer {
			s.kick()
		}

		if err := r.cs.SendMsg(s.wireMsg(req, off)); err != nil {
			if errors.Is(err, io.EOF) {
				// The RPC ended; the receiver reports its status.
				return
			}
			r.Fail(s.classify(err, "send"))
			return
		}
	}
}

// message builds the wire message for req at wire offset off.
func (s *Stream) message(req *request, off int64) *zerobuspb.EphemeralStreamRequest {
	if s.rt == zerobuspb.RecordType_JSON {
		if len(req.json) == 1 {
			return &zerobuspb.EphemeralStreamRequest{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
				OffsetId: proto.Int64(off), Record: &zerobuspb.IngestRecordRequest_JsonRecord{JsonRecord: req.json[0]}}}}
		}
		return &zerobuspb.EphemeralStreamRequest{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: &zerobuspb.IngestRecordBatchRequest{
			OffsetId: proto.Int64(off), Batch: &zerobuspb.IngestRecordBatchRequest_JsonBatch{JsonBatch: &zerobuspb.JsonRecordBatch{Records: req.json}}}}}
	}
	if len(req.records) == 1 {
		return &zerobuspb.EphemeralStreamRequest{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
			OffsetId: proto.Int64(off), Record: &zerobuspb.IngestRecordRequest_ProtoEncodedRecord{ProtoEncodedRecord: req.records[0]}}}}
	}
	return &zerobuspb.EphemeralStreamRequest{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: &zerobuspb.IngestRecordBatchRequest{
		OffsetId: proto.Int64(off), Batch: &zerobuspb.IngestRecordBatchRequest_ProtoEncodedBatch{ProtoEncodedBatch: &zerobuspb.ProtoEncodedRecordBatch{Records: req.records}}}}}
}

// receiver reads acknowledgements and signals from r.
func (s *Stream) receiver(r *rpc) {
	defer r.wg.Done()
	for {
		resp, err := r.cs.Recv()
		if err != nil {
			r.Fail(RecvEnd(err, r.ctx, func() bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				return s.cur == r && s.st.CleanEnd(len(s.q))
			}, s.classify))
			return
		}
		switch p := resp.GetPayload().(type) {
		case *zerobuspb.EphemeralStreamResponse_IngestRecordResponse:
			if err := s.ack(r, p.IngestRecordResponse.GetDurabilityAckUpToOffset()); err != nil {
				r.Fail(err)
				return
			}
		case *zerobuspb.EphemeralStreamResponse_CloseStreamSignal:
			d := p.CloseStreamSignal.GetDuration().AsDuration()
			s.mu.Lock()
			if s.cur == r {
				s.st.Drain(d)
			}
			s.mu.Unlock()
			s.tel.Logger().InfoContext(s.pendingCtx(), "zerobus: server sent CloseStreamSignal", "table", s.c.cfg.TableName, "stream_id", r.id, "duration", d)
			s.kick()
		default:
			s.tel.Logger().DebugContext(s.pendingCtx(), "zerobus: ignoring unexpected response", "table", s.c.cfg.TableName, "type", fmt.Sprintf("%T", p))
		}
	}
}

// ack resolves every request with wire offset <= upTo on r. An
// acknowledgement below an earlier one on r (acknowledgements are
// cumulative: a server bug) resolves nothing and changes nothing; the first
// of a stream is logged as a warning (logAckDown).
func (s *Stream) ack(r *rpc, upTo int64) error {
	now := time.Now()
	s.mu.Lock()
	if s.cur != r {
		s.mu.Unlock()
		return nil
	}
	s.st.Heard(now)
	if upTo >= s.nextOffset {
		next := s.nextOffset
		s.mu.Unlock()
		return &ServerError{Code: codes.Internal, Message: fmt.Sprintf("protocol error: acknowledgement up to offset %d, but only offsets below %d were sent", upTo, next)}
	}
	if upTo < s.ackedUpTo {
		prev, first := s.ackedUpTo, !s.ackWentDown
		s.ackWentDown = true
		s.mu.Unlock()
		if first {
			s.logAckDown(r, prev, upTo)
		}
		return nil
	}
	s.ackedUpTo = upTo
	n := 0
	for n < s.sent && s.q[n].offset <= upTo {
		n++
	}
	if n == 0 {
		s.mu.Unlock()
		return nil
	}
	acked := make([]*request, n)
	copy(acked, s.q[:n])
	clear(s.q[:n])
	s.q = s.q[n:]
	s.sent -= n
	s.st.Progressed()
	wakeSup := s.st.WakeOnAck()
	s.mu.Unlock()
	if wakeSup {
		s.kick()
	}
	s.resolve(acked, nil, now)
	return nil
}

// logAckDown warns that the server acknowledged up to offset got on r after
// acknowledging up to prev, a higher one: the lower acknowledgement is
// ignored (what it covers was durable already; nothing becomes undurable).
func (s *Stream) logAckDown(r *rpc, prev, got int64) {
	s.tel.Logger().WarnContext(s.pendingCtx(), "zerobus: the server's acknowledgement went down; ignoring it (acknowledgements are cumulative: a server bug; logged once per stream)",
		"table", s.c.cfg.TableName, "stream_id", r.id, "acked_up_to_offset", prev, "ack_up_to_offset", got)
}

// resolve completes requests (err nil = acknowledged) and frees their window.
func (s *Stream) resolve(reqs []*request, err error, now time.Time) {
	if len(reqs) == 0 {
		return
	}
	var bytes int64
	ctx := context.Background()
	table := telemetry.KeyTable.String(s.c.cfg.TableName)
	for _, req := range reqs {
		bytes += req.size
		s.win.release(req.size)
		if err == nil && !req.sentAt.IsZero() {
			s.tel.AckDuration.Record(ctx, now.Sub(req.sentAt).Seconds(), metricAttrs(table, transportAttr))
		}
		if req.onDone != nil {
			req.onDone()
		}
		req.p.Resolve(err)
		if req.hold != nil && !req.kept {
			req.hold.Release()
		}
	}
	s.tel.InflightRequests.Add(ctx, -int64(len(reqs)), metricAttrs(table, transportAttr))
	s.tel.InflightBytes.Add(ctx, -bytes, metricAttrs(table, transportAttr))
}

// abortCause is the error unresolved requests fail with after an abort.
func (s *Stream) abortCause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end.AbortCause()
}

// abort stops the stream at once: unresolved requests fail with err.
func (s *Stream) abort(err error) {
	s.mu.Lock()
	s.end.SetAbort(err)
	s.mu.Unlock()
	s.cancel()
	<-s.done
}

// finish ends the stream once: unresolved requests fail with err (ErrClosed
// if nil), their records are kept for Unacked.
func (s *Stream) finish(err error) {
	s.mu.Lock()
	if !s.end.Finish(err) {
		s.mu.Unlock()
		return
	}
	reqs := s.q
	s.q = nil
	s.sent = 0
	s.cur = nil
	for _, req := range reqs {
		s.unackedSet = append(s.unackedSet, req.recordBytes())
		req.kept = true // Unacked returns the records: they stay alive
	}
	s.mu.Unlock()
	if err == nil {
		err = ErrClosed
	}
	s.resolve(reqs, err, time.Now())
	s.cancel()
	s.c.forget(s)
	close(s.done)
}

// recordBytes returns the request's records as byte slices.
func (r *request) recordBytes() [][]byte {
	if r.frames != nil && r.records == nil {
		return unframe(r.frames)
	}
	if r.json == nil {
		return r.records
	}
	out := make([][]byte, len(r.json))
	for i, j := range r.json {
		out[i] = []byte(j)
	}
	return out
}

package flightstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// Pending is the future of one batch handed to Send. It resolves when the
// server has acknowledged every record of the batch (Err nil) or when the
// stream fails terminally or is aborted (Err is the cause); Durable then
// says how many leading rows were acknowledged before the failure. Safe for
// concurrent use.
type Pending struct {
	stream.Future
	rows    int
	bytes   int
	durable atomic.Int64
}

// Bytes is the size of the batch's IPC body.
func (p *Pending) Bytes() int { return p.bytes }

// Rows is the number of rows of the batch.
func (p *Pending) Rows() int { return p.rows }

// Durable is the number of leading rows of the batch the server has
// acknowledged as durable so far (all of them once Err is nil).
func (p *Pending) Durable() int { return int(p.durable.Load()) }

// batch is one physical batch in the queue.
type batch struct {
	header, body []byte    // the whole batch, encoded
	held         *heldBody // body's memory, if from Config.Alloc
	size         int64     // window bytes (len(body))
	resolved     func()    // the caller's, called once at resolution (Queue)
	p            *Pending
	connStart    int64 // records on the current RPC before this batch's part
	sentFrom     int64 // first row of the part written on the current RPC
	sentAt       time.Time
	sc           trace.SpanContext
}

// Stream is one logical Flight ingest stream for one Arrow schema, over a
// sequence of DoPut RPCs (see the package documentation).
type Stream struct {
	c      *Client
	schema *arrow.Schema
	header []byte // IPC schema message
	win    *stream.Window

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{}

	mu          sync.Mutex
	q           []*batch // unresolved, in order
	sent        int      // q[:sent] are written on cur
	cur         *rpc
	nextOffset  int64
	connRecords int64           // records written on cur
	ackedRecs   int64           // ack_up_to_records on cur
	ackWentDown bool            // an ack_up_to_records below ackedRecs was logged (once per stream)
	st          stream.RPCState // cur's recovery state (announced end, ack timeout, clean close)
	end         stream.Ending   // how the stream ends (Close, terminal error, abort cause)

	closeOnce sync.Once
	closed    chan struct{}
	closeErr  error
}

// rpc is one DoPut call.
type rpc struct {
	cs     flight.FlightService_DoPutClient
	ctx    context.Context
	cancel context.CancelCauseFunc
	cred   string
	stream.RPCSignals
	wg sync.WaitGroup
}

func newStream(c *Client, schema *arrow.Schema) *Stream {
	ctx, cancel := context.WithCancel(context.Background())
	return &Stream{
		c:      c,
		schema: schema,
		header: schemaHeader(schema),
		win:    c.win,
		ctx:    ctx,
		cancel: cancel,
		done:   make(chan struct{}),
		closed: make(chan struct{}),
		wake:   make(chan struct{}, 1),
	}
}

func (s *Stream) kick() { stream.Kick(s.wake) }

// Schema is the stream's Arrow schema.
func (s *Stream) Schema() *arrow.Schema { return s.schema }

// Send encodes rec (whose schema must equal the stream's) as one IPC
// message and queues it; it blocks while the window is full. rec is not
// retained (see Queue). A batch whose IPC body exceeds the
// client's MaxMessageBytes is rejected with *stream.MessageTooLargeError
// (send smaller slices).
func (s *Stream) Send(ctx context.Context, rec arrow.RecordBatch) (*Pending, error) {
	e, err := s.Encode(rec)
	if err != nil {
		return nil, err
	}
	return s.Queue(ctx, e, nil)
}

// Encoded is a batch encoded by Encode and not yet queued.
type Encoded struct {
	rows         int // of the record batch it was encoded from
	header, body []byte
	held         *heldBody
}

// Size is the IPC body's length: the batch's window bytes.
func (e *Encoded) Size() int64 { return int64(len(e.body)) }

// Held is the memory the batch's IPC body holds: its allocation from
// Config.Alloc (the arena region, which may be larger than the body), or
// the body's length when it is Go memory.
func (e *Encoded) Held() int64 {
	if e.held != nil {
		return e.held.holds
	}
	return int64(len(e.body))
}

// Encode encodes rec (whose schema must equal the stream's) as one IPC
// message, for Queue. A body larger than the client's MaxMessageBytes is
// rejected with *stream.MessageTooLargeError (encode smaller slices).
//
// A panic while rec's arrays are read (malformed Arrow data) is an error
// wrapping ErrUnreadable.
func (s *Stream) Encode(rec arrow.RecordBatch) (_ *Encoded, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: encoding Arrow IPC: %v", ErrUnreadable, r)
		}
	}()
	if !sameTypes(rec.Schema(), s.schema) {
		return nil, fmt.Errorf("zerobus: flight Send: the batch's schema %s differs from the stream's %s", rec.Schema(), s.schema)
	}
	if err := s.sendErr(); err != nil {
		return nil, err
	}
	header, body, held, err := s.c.encodeHeld(rec, s.c.alloc)
	if err != nil {
		return nil, err
	}
	if limit := s.c.scfg.MaxMessageBytes; len(body) > limit {
		held.Release()
		return nil, &stream.MessageTooLargeError{Size: len(body), Limit: limit, Records: int(rec.NumRows())}
	}
	return &Encoded{rows: int(rec.NumRows()), header: header, body: body, held: held}, nil
}

// Queue queues an encoded batch; it blocks while the window is full. The
// batch keeps its IPC message only, not the record batch it was encoded
// from (the caller may release that at once): a replay of a partly
// acknowledged batch decodes the message for its suffix. resolved, if not nil,
// is called once when the batch resolves (acknowledged, failed or
// withdrawn), before its Pending does; it is not called when Queue
// returns an error.
func (s *Stream) Queue(ctx context.Context, e *Encoded, resolved func()) (*Pending, error) {
	b := &batch{header: e.header, body: e.body, held: e.held, size: e.Size(), resolved: resolved, sc: trace.SpanContextFromContext(ctx)}
	e.held = nil // the batch's reference now
	if err := s.win.Acquire(ctx, b.size, s.done); err != nil {
		b.held.Release()
		if serr := s.sendErr(); serr != nil {
			return nil, serr
		}
		return nil, err
	}
	b.p = &Pending{rows: e.rows, bytes: len(e.body)}
	b.p.Init()
	s.mu.Lock()
	if s.end.Refuses() {
		s.mu.Unlock()
		s.win.Release(b.size)
		b.held.Release()
		if err := s.sendErr(); err != nil {
			return nil, err
		}
		return nil, stream.ErrClosed
	}
	s.q = append(s.q, b)
	r := s.cur
	s.mu.Unlock()
	s.c.tel.InflightRequests.Add(context.Background(), 1, s.c.metricAttrs())
	s.c.tel.InflightBytes.Add(context.Background(), b.size, s.c.metricAttrs())
	if r != nil {
		r.Kick()
	} else {
		s.kick()
	}
	return b.p, nil
}

// sendErr is the error Send returns now, or nil.
func (s *Stream) sendErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end.SendErr()
}

// GiveUp is for a caller that stops waiting for p (its ctx ended): the
// stream never writes p's batch again (see stream.Stream.GiveUp, the same
// rule). A batch no RPC has carried yet is withdrawn (resolved with
// stream.ErrWithdrawn; GiveUp reports true). A written one reports false:
// queued for a replay after a recovery it is dropped at once (resolved with
// stream.ErrAbandoned, its durable prefix kept); carried by the current RPC
// it stays until acknowledged or until the stream leaves that RPC, which
// drops it instead of replaying it. Its body is released once; p's
// Attempts, Resent and Recoveries are final when GiveUp returns.
func (s *Stream) GiveUp(p *Pending) (withdrawn bool) {
	s.mu.Lock()
	var b *batch
	var what stream.GaveUp
	s.q, b, what = stream.GiveUp(s.q, s.sent, &p.Future, func(b *batch) *stream.Future { return &b.p.Future })
	s.mu.Unlock()
	switch what {
	case stream.GaveUpWithdrawn:
		s.resolve([]*batch{b}, stream.ErrWithdrawn, time.Now())
	case stream.GaveUpDropped:
		s.resolve([]*batch{b}, stream.ErrAbandoned, time.Now())
	default:
		return false
	}
	s.kick()
	return what == stream.GaveUpWithdrawn
}

// Flush waits until every batch sent so far is resolved (bounded by ctx and
// FlushTimeout); it returns the stream's terminal error, if any.
func (s *Stream) Flush(ctx context.Context) error {
	ctx, cancel := stream.WithFlushTimeout(ctx, s.c.scfg.FlushTimeout)
	defer cancel()
	for {
		s.mu.Lock()
		if len(s.q) == 0 || s.end.Finished() {
			s.mu.Unlock()
			return s.Err()
		}
		p := s.q[len(s.q)-1].p
		s.mu.Unlock()
		select {
		case <-p.Done():
		case <-s.done:
		case <-ctx.Done():
			if _, resolved := p.Outcome(ctx); resolved {
				continue // resolved as ctx ended: the queue decides, not ctx
			}
			return fmt.Errorf("zerobus: flight flush: %w", stream.CtxErr(ctx))
		}
	}
}

// Close flushes, half-closes the RPC, waits for the server to end it and
// releases everything. If ctx ends first the stream is aborted. Idempotent.
func (s *Stream) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closeErr = s.close(ctx)
		close(s.closed)
	})
	<-s.closed
	return s.closeErr
}

func (s *Stream) close(ctx context.Context) error {
	s.mu.Lock()
	s.end.StartClose()
	s.mu.Unlock()
	if err := s.Flush(ctx); err != nil {
		s.abort(err)
		return err
	}
	s.mu.Lock()
	s.st.RequestClose()
	s.mu.Unlock()
	s.kick()
	ctx, cancel := stream.WithFlushTimeout(ctx, s.c.scfg.FlushTimeout)
	defer cancel()
	select {
	case <-s.done:
	case <-ctx.Done():
		s.abort(fmt.Errorf("zerobus: flight close: %w", stream.CtxErr(ctx)))
	}
	return s.Err()
}

// Err is the terminal error once the stream has ended (nil after a clean
// close or while it runs).
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end.Failed()
}

// Done is closed when the stream has ended.
func (s *Stream) Done() <-chan struct{} { return s.done }

// String describes the stream.
func (s *Stream) String() string {
	return fmt.Sprintf("flightstream.Stream{table=%s}", s.c.scfg.TableName)
}

// abort stops the stream at once: unresolved batches fail with err.
func (s *Stream) abort(err error) {
	s.mu.Lock()
	s.end.SetAbort(err)
	s.mu.Unlock()
	s.cancel()
	<-s.done
}

func (s *Stream) abortCause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end.AbortCause()
}

// resolve completes batches and frees their window share.
func (s *Stream) resolve(bs []*batch, err error, now time.Time) {
	if len(bs) == 0 {
		return
	}
	var n int64
	ctx := context.Background()
	for _, b := range bs {
		n += b.size
		s.win.Release(b.size)
		if err == nil && !b.sentAt.IsZero() {
			s.c.tel.AckDuration.Record(ctx, now.Sub(b.sentAt).Seconds(), s.c.metricAttrs())
		}
		b.held.Release() // the sender and gRPC hold their own references
		b.header, b.body, b.held = nil, nil, nil
		if b.resolved != nil {
			b.resolved()
		}
		b.p.Resolve(err)
	}
	s.c.tel.InflightRequests.Add(ctx, -int64(len(bs)), s.c.metricAttrs())
	s.c.tel.InflightBytes.Add(ctx, -n, s.c.metricAttrs())
}

// finish ends the stream once; unresolved batches fail with err (ErrClosed
// if nil), keeping their durable prefix count.
func (s *Stream) finish(err error) {
	s.mu.Lock()
	if !s.end.Finish(err) {
		s.mu.Unlock()
		return
	}
	bs := s.q
	s.q = nil
	s.sent = 0
	s.cur = nil
	s.mu.Unlock()
	if err == nil {
		err = stream.ErrClosed
	}
	s.resolve(bs, err, time.Now())
	s.cancel()
	s.c.forget(s)
	close(s.done)
}

// sender writes queued batches to r in order, one offset_id each.
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
			if !stream.SenderIdle(r.ctx, &r.RPCSignals, half, r.cs.CloseSend, s.c.sc.Classify) {
				return
			}
			continue
		}
		b := s.q[s.sent]
		armTimer := s.sent == 0
		now := time.Now()
		if armTimer {
			s.st.Heard(now)
		}
		s.sent++
		off := s.nextOffset
		s.nextOffset++
		from := b.p.durable.Load()
		b.sentFrom = from
		b.connStart = s.connRecords
		s.connRecords += int64(b.p.rows) - from
		b.sentAt = now
		header, body, held := b.header, b.body, b.held
		held.Retain() // b is queued, so it holds its reference: the body stays until Send has handed it to gRPC
		rows := int64(b.p.rows)
		// Counted under the lock: GiveUp sees every attempt or none.
		b.p.Attempt(s.st.RPC(), int(rows-from))
		s.mu.Unlock()
		if armTimer {
			s.kick()
		}
		if from > 0 {
			// Replay of a partially acknowledged batch: only its suffix.
			var err error
			header, body, err = s.c.suffix(s.header, header, body, from, rows)
			held.Release() // the suffix is Go memory
			held = nil
			if err != nil {
				r.Fail(err)
				return
			}
		}
		meta := []byte(`{"offset_id":` + strconv.FormatInt(off, 10) + `}`)
		err := r.cs.SendMsg(&sendData{FlightData: &flight.FlightData{DataHeader: header, DataBody: body, AppMetadata: meta}, held: held})
		held.Release()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return // the receiver reports the status
			}
			r.Fail(s.c.sc.Classify(err, "send"))
			return
		}
	}
}

// putResult is the JSON app_metadata of a PutResult.
type putResult struct {
	AckUpToOffset         *int64 `json:"ack_up_to_offset"`
	AckUpToRecords        *int64 `json:"ack_up_to_records"`
	CloseStreamDurationMs *int64 `json:"close_stream_duration_ms"`
}

// parsePutResult decodes pr's app_metadata. The counts are cumulative from
// READY's {-1, 0}: an ack_up_to_records below 0 or ack_up_to_offset below
// -1 is a protocol error, as is a close_stream_duration_ms below 0 or past
// what a time.Duration holds.
func parsePutResult(pr *flight.PutResult) (putResult, error) {
	var a putResult
	if err := json.Unmarshal(pr.GetAppMetadata(), &a); err != nil || a.AckUpToRecords == nil || a.AckUpToOffset == nil {
		return a, &stream.ServerError{Code: codes.Internal, Message: fmt.Sprintf(
			"protocol error: PutResult app_metadata %.200q is not JSON {\"ack_up_to_offset\": k, \"ack_up_to_records\": r}", pr.GetAppMetadata())}
	}
	bad := ""
	switch d := a.CloseStreamDurationMs; {
	case *a.AckUpToRecords < 0:
		bad = fmt.Sprintf("ack_up_to_records %d is negative", *a.AckUpToRecords)
	case *a.AckUpToOffset < -1:
		bad = fmt.Sprintf("ack_up_to_offset %d is below -1", *a.AckUpToOffset)
	case d != nil && (*d < 0 || *d > int64(math.MaxInt64/time.Millisecond)):
		bad = fmt.Sprintf("close_stream_duration_ms %d is not a duration", *d)
	}
	if bad != "" {
		return a, &stream.ServerError{Code: codes.Internal, Message: fmt.Sprintf(
			"protocol error: PutResult app_metadata %.200q: %s", pr.GetAppMetadata(), bad)}
	}
	return a, nil
}

// receiver reads acknowledgements from r.
func (s *Stream) receiver(r *rpc) {
	defer r.wg.Done()
	for {
		pr, err := r.cs.Recv()
		if err != nil {
			r.Fail(stream.RecvEnd(err, r.ctx, func() bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				return s.cur == r && s.st.CleanEnd(len(s.q))
			}, s.c.sc.Classify))
			return
		}
		a, err := parsePutResult(pr)
		if err != nil {
			r.Fail(err)
			return
		}
		if err := s.ack(r, *a.AckUpToRecords, *a.AckUpToOffset); err != nil {
			r.Fail(err)
			return
		}
		if a.CloseStreamDurationMs != nil {
			d := time.Duration(*a.CloseStreamDurationMs) * time.Millisecond
			s.mu.Lock()
			if s.cur == r {
				s.st.Drain(d)
			}
			s.mu.Unlock()
			s.c.tel.Logger().InfoContext(s.pendingCtx(), "zerobus: server announced the end of the flight stream",
				"table", s.c.scfg.TableName, "close_stream_duration", d)
			s.kick()
		}
	}
}

// ack applies ack_up_to_records = recs (ack_up_to_offset off) on r:
// batches wholly covered resolve; a batch covered in part records its
// durable prefix. A count below an earlier one on r (the counts are
// cumulative: a server bug) changes nothing, no durable prefix shrinks; the
// first of a stream is logged as a warning (logAckDown).
func (s *Stream) ack(r *rpc, recs, off int64) error {
	now := time.Now()
	s.mu.Lock()
	if s.cur != r {
		s.mu.Unlock()
		return nil
	}
	s.st.Heard(now)
	if recs > s.connRecords {
		sent := s.connRecords
		s.mu.Unlock()
		return &stream.ServerError{Code: codes.Internal, Message: fmt.Sprintf(
			"protocol error: acknowledgement up to %d records, but only %d were sent on this stream", recs, sent)}
	}
	if recs < s.ackedRecs {
		prev, first, n := s.ackedRecs, !s.ackWentDown, s.st.RPC()
		s.ackWentDown = true
		s.mu.Unlock()
		if first {
			s.logAckDown(n, prev, recs, off)
		}
		return nil
	}
	if recs == s.ackedRecs {
		s.mu.Unlock()
		return nil
	}
	s.ackedRecs = recs
	s.st.Progressed()
	n := 0
	for n < s.sent {
		b := s.q[n]
		end := b.connStart + int64(b.p.rows) - b.sentFrom
		if recs >= end {
			b.p.durable.Store(int64(b.p.rows))
			n++
			continue
		}
		if recs > b.connStart {
			b.p.durable.Store(b.sentFrom + recs - b.connStart)
		}
		break
	}
	acked := make([]*batch, n)
	copy(acked, s.q[:n])
	clear(s.q[:n])
	s.q = s.q[n:]
	s.sent -= n
	wake := s.st.WakeOnAck()
	s.mu.Unlock()
	if wake {
		s.kick()
	}
	s.resolve(acked, nil, now)
	return nil
}

// logAckDown warns that the server acknowledged got records (at
// ack_up_to_offset off) on RPC n (stream.RPCState.RPC: the stream's number
// in the process, logged as "stream", and the RPC's within it) after
// acknowledging prev, more: the lower count is ignored (what it covers was
// durable already; no durable prefix shrinks).
func (s *Stream) logAckDown(n uint64, prev, got, off int64) {
	s.c.tel.Logger().WarnContext(s.pendingCtx(), "zerobus: the server's acknowledgement went down; ignoring it (ack_up_to_records is cumulative: a server bug; logged once per stream)",
		"table", s.c.scfg.TableName, "transport", TransportName, "stream", n>>32, "rpc", n&(1<<32-1), "acked_up_to_records", prev, "ack_up_to_records", got, "ack_up_to_offset", off)
}

// pendingCtx is the stream's context with the span context of the oldest
// unresolved batch's sender (for logs and spans of recovery).
func (s *Stream) pendingCtx() context.Context {
	return stream.PendingCtx(s.ctx, &s.mu, &s.q, func(u *batch) trace.SpanContext { return u.sc })
}

// sameTypes reports whether a and b have the same field names and types
// (metadata and nullability aside: the IPC message carries no schema).
func sameTypes(a, b *arrow.Schema) bool {
	if a == b {
		return true
	}
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i, f := range a.Fields() {
		g := b.Field(i)
		if f.Name != g.Name || !arrow.TypeEqual(f.Type, g.Type) {
			return false
		}
	}
	return true
}

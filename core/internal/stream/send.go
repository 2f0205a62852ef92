package stream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/plural"
)

// Send enqueues one request carrying records (one record is sent as
// ingest_record, several as one all-or-nothing ingest_record_batch) on a
// PROTO stream and returns its Pending. It blocks while the in-flight window
// (MaxInflightRequests, MaxInflightBytes) is full, until ctx ends. The
// records must stay unmodified until the Pending resolves. It fails with
// *MessageTooLargeError if the request would exceed MaxMessageBytes, with
// ErrClosed after Close, and with the terminal error after a failure.
func (s *Stream) Send(ctx context.Context, records [][]byte) (*Pending, error) {
	if s.rt != zerobuspb.RecordType_PROTO {
		return nil, errors.New("zerobus: Send needs a PROTO stream; use SendJSON on a JSON stream")
	}
	if len(records) == 0 {
		return nil, errors.New("zerobus: Send: no records")
	}
	payload, err := requestPayload(records, s.c.cfg.MaxMessageBytes)
	if err != nil {
		return nil, err
	}
	return s.enqueue(ctx, &request{records: records, size: payload}, len(records))
}

// SendFramed is Send for records already framed as a request body (see
// Framed): the request is written by reference to f.Frames, without
// copying the records. The stream retains f.Hold (if set) until the
// request is resolved and gRPC has written its bytes; f.Frames (and the
// records' bytes) must stay unmodified until then. f.Records is read only
// during the call (sizes and limits), so the caller may reuse the array
// that holds it once SendFramed returns.
func (s *Stream) SendFramed(ctx context.Context, f Framed) (*Pending, error) {
	if s.rt != zerobuspb.RecordType_PROTO {
		return nil, errors.New("zerobus: SendFramed needs a PROTO stream; use SendJSON on a JSON stream")
	}
	if len(f.Records) == 0 || len(f.Frames) == 0 {
		return nil, errors.New("zerobus: SendFramed: no records")
	}
	payload, err := requestPayload(f.Records, s.c.cfg.MaxMessageBytes)
	if err != nil {
		return nil, err
	}
	if f.Hold != nil {
		f.Hold.Retain()
	}
	req := &request{frames: f.Frames, hold: f.Hold, onDone: f.Resolved, size: payload}
	if len(f.Records) == 1 {
		// A single record goes out as ingest_record: keep it (not the
		// caller's array).
		req.records = [][]byte{f.Records[0]}
	}
	p, err := s.enqueue(ctx, req, len(f.Records))
	if err != nil && f.Hold != nil {
		f.Hold.Release()
	}
	return p, err
}

// SendJSON is Send for JSON streams: each string is one JSON object.
func (s *Stream) SendJSON(ctx context.Context, records []string) (*Pending, error) {
	if s.rt != zerobuspb.RecordType_JSON {
		return nil, errors.New("zerobus: SendJSON needs a JSON stream; use Send on a PROTO stream")
	}
	if len(records) == 0 {
		return nil, errors.New("zerobus: SendJSON: no records")
	}
	payload, err := requestPayload(records, s.c.cfg.MaxMessageBytes)
	if err != nil {
		return nil, err
	}
	return s.enqueue(ctx, &request{json: records, size: payload}, len(records))
}

// requestPayload returns the record bytes of one request carrying records,
// or a *MessageTooLargeError when the encoded request would exceed limit.
func requestPayload[T []byte | string](records []T, limit int) (int64, error) {
	var payload int64
	inner := 0
	for _, r := range records {
		payload += int64(len(r))
		inner += protowire.SizeTag(1) + protowire.SizeBytes(len(r))
	}
	if size := encodedSize(len(records), inner, len(records[0])); size > limit {
		return 0, &MessageTooLargeError{Size: size, Limit: limit, Records: len(records)}
	}
	return payload, nil
}

// encodedSize is an upper bound of the encoded EphemeralStreamRequest: n
// records whose repeated-field encoding takes inner bytes (first is the
// first record's length, used when n == 1).
func encodedSize(n, inner, first int) int {
	const offsetField = 1 + 10 // tag + the longest varint
	var msg int
	if n == 1 {
		msg = offsetField + protowire.SizeTag(2) + protowire.SizeBytes(first)
	} else {
		msg = offsetField + protowire.SizeTag(2) + protowire.SizeBytes(inner)
	}
	return protowire.SizeTag(2) + protowire.SizeBytes(msg)
}

// enqueue admits req through the window and queues it for the sender.
func (s *Stream) enqueue(ctx context.Context, req *request, n int) (*Pending, error) {
	if err := s.sendErr(); err != nil {
		return nil, err
	}
	if err := s.win.acquire(ctx, req.size, s.done); err != nil {
		if errors.Is(err, errWindowAborted) {
			if err := s.sendErr(); err != nil {
				return nil, err
			}
			return nil, ErrClosed
		}
		return nil, err
	}
	req.p = newPending(n)
	// Logs and spans about this request's later fate (a recovery that
	// re-sends it) join the sender's trace.
	req.sc = trace.SpanContextFromContext(ctx)
	s.mu.Lock()
	if s.end.Refuses() {
		s.mu.Unlock()
		s.win.release(req.size)
		if err := s.sendErr(); err != nil {
			return nil, err
		}
		return nil, ErrClosed
	}
	s.q = append(s.q, req)
	r := s.cur
	s.mu.Unlock()
	table := telemetry.KeyTable.String(s.c.cfg.TableName)
	s.tel.InflightRequests.Add(context.Background(), 1, metricAttrs(table, transportAttr))
	s.tel.InflightBytes.Add(context.Background(), req.size, metricAttrs(table, transportAttr))
	if r != nil {
		r.Kick()
	} else {
		s.kick()
	}
	return req.p, nil
}

// GiveUp is for a caller that stops waiting for p (its ctx ended): the
// stream never writes p's request again. A request no RPC has carried yet
// is withdrawn (resolved with ErrWithdrawn; GiveUp reports true: certainly
// not stored). A written one may have been stored and GiveUp reports
// false: queued for a re-send after a recovery, it is dropped at once
// (resolved with ErrAbandoned); carried by the current RPC, it stays until
// acknowledged (resolved normally) or until the stream leaves that RPC,
// which drops it instead of re-sending it on the next. Either way its
// window share and buffers are freed once, and p's Attempts, Resent and
// Recoveries are final when GiveUp returns. Safe for concurrent use.
func (s *Stream) GiveUp(p *Pending) (withdrawn bool) {
	s.mu.Lock()
	var req *request
	var what GaveUp
	s.q, req, what = GiveUp(s.q, s.sent, &p.Future, func(req *request) *Future { return &req.p.Future })
	s.mu.Unlock()
	switch what {
	case GaveUpWithdrawn:
		s.resolve([]*request{req}, ErrWithdrawn, time.Now())
	case GaveUpDropped:
		s.resolve([]*request{req}, ErrAbandoned, time.Now())
	default:
		return false
	}
	s.kick() // a Close waiting for an empty queue may proceed
	return what == GaveUpWithdrawn
}

// sendErr is the error Send returns now, or nil if sending is possible.
func (s *Stream) sendErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end.SendErr()
}

// Flush blocks until every request sent before the call is resolved, ctx
// ends, or FlushTimeout passes. It returns nil if they were all acknowledged,
// else the stream's terminal error or the context error.
func (s *Stream) Flush(ctx context.Context) error {
	ctx, cancel := WithFlushTimeout(ctx, s.c.cfg.FlushTimeout)
	defer cancel()
	return s.flush(ctx)
}

// FlushTimeoutError is why a context bounded by WithFlushTimeout ended when
// the bound (Config.FlushTimeout, the flush_timeout_ms setting) ran out
// rather than the caller's context. It is a context.DeadlineExceeded
// (errors.Is), so it counts as the context ending (ContextEnded).
type FlushTimeoutError struct{ Timeout time.Duration }

func (e *FlushTimeoutError) Error() string {
	return fmt.Sprintf("flush_timeout_ms (%d ms) passed before every request was acknowledged; raise flush_timeout_ms or check the server", e.Timeout.Milliseconds())
}

// Unwrap returns context.DeadlineExceeded.
func (e *FlushTimeoutError) Unwrap() error { return context.DeadlineExceeded }

// WithFlushTimeout bounds ctx by d (the flush timeout) so that CtxErr tells
// the bound running out from ctx ending.
func WithFlushTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, &FlushTimeoutError{Timeout: d})
}

// CtxErr is the error of something ctx ended, nil while it has not:
// ctx.Err() with its cause's words (a *FlushTimeoutError when the bound of
// WithFlushTimeout ended it, a caller's named timeout, a caller's own
// cancel cause). context.Canceled / DeadlineExceeded stay in the chain
// whatever the cause is.
func CtxErr(ctx context.Context) error {
	err := ctx.Err()
	cause := context.Cause(ctx)
	if err == nil || cause == nil || errors.Is(cause, err) {
		if cause != nil && err != nil {
			return cause
		}
		return err
	}
	return &ctxCause{err: err, cause: cause}
}

// ctxCause is a ctx's error with a cause that does not wrap it.
type ctxCause struct{ err, cause error }

func (e *ctxCause) Error() string   { return e.cause.Error() + " (" + e.err.Error() + ")" }
func (e *ctxCause) Unwrap() []error { return []error{e.err, e.cause} }

func (s *Stream) flush(ctx context.Context) error {
	for {
		s.mu.Lock()
		if s.end.Finished() {
			err := s.end.Failed()
			s.mu.Unlock()
			if err == nil {
				err = ErrClosed
			}
			return err
		}
		if len(s.q) == 0 {
			s.mu.Unlock()
			return nil
		}
		last := s.q[len(s.q)-1].p
		s.mu.Unlock()
		err, ok := last.Outcome(ctx)
		if !ok {
			s.mu.Lock()
			n := len(s.q)
			s.mu.Unlock()
			return fmt.Errorf("zerobus: flush: %s still unacknowledged: %w", plural.Of(n, "request"), CtxErr(ctx))
		}
		if !errors.Is(err, ErrWithdrawn) && !errors.Is(err, ErrAbandoned) {
			return err
		}
		// Withdrawn or dropped after its sender gave up on it: wait for
		// what is still queued.
	}
}

// Close flushes (bounded by ctx and FlushTimeout), half-closes the RPC and
// drains it to the end, then releases the stream's goroutines. If the flush
// or drain does not finish in time the stream is aborted: unresolved
// requests fail and Unacked returns their records. It returns nil after a
// clean close, else the flush error or the stream's terminal error.
// Idempotent: later calls wait for the first and return its result. After
// Close, Send returns ErrClosed.
func (s *Stream) Close(ctx context.Context) error {
	first := false
	s.closeOnce.Do(func() { first = true })
	if !first {
		select {
		case <-s.closed:
		case <-ctx.Done():
			return CtxErr(ctx)
		}
		return s.closeErr
	}
	defer close(s.closed)
	s.mu.Lock()
	s.end.StartClose()
	s.mu.Unlock()
	ferr := s.Flush(ctx)
	if ferr == nil {
		s.mu.Lock()
		s.st.RequestClose()
		s.mu.Unlock()
		s.kick()
		select {
		case <-s.done:
		case <-ctx.Done():
			ferr = fmt.Errorf("zerobus: close: the server did not end the stream in time: %w", CtxErr(ctx))
		}
	}
	if ferr != nil {
		s.abort(fmt.Errorf("zerobus: stream closed before acknowledgement: %w", ErrClosed))
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.end.Failed() != nil && !errors.Is(s.end.Failed(), ErrClosed) && ferr == nil:
		s.closeErr = s.end.Failed()
	case ferr != nil:
		s.closeErr = ferr
	}
	return s.closeErr
}

// Unacked returns the record sets (one per request, in send order) that were
// never acknowledged, once the stream has ended by a failure or an abort;
// nil while the stream runs or after a clean close. For JSON streams each
// record is the UTF-8 text.
func (s *Stream) Unacked() [][][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.end.Finished() {
		return nil
	}
	return s.unackedSet
}

// ID returns the server's id of the current (or last) RPC's stream.
func (s *Stream) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Err returns the terminal error once the stream has failed, else nil.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.end.Finished() && s.end.Failed() != nil && !errors.Is(s.end.Failed(), ErrClosed) {
		return s.end.Failed()
	}
	return nil
}

// Done is closed when the stream has ended (closed, aborted or failed).
func (s *Stream) Done() <-chan struct{} { return s.done }

// String describes the stream without secrets.
func (s *Stream) String() string {
	return fmt.Sprintf("stream.Stream{table=%s id=%s}", s.c.cfg.TableName, s.ID())
}

// Format prints String for every verb.
func (s *Stream) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

package flightstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// open creates the first RPC and starts the supervisor.
func (s *Stream) open(ctx context.Context) (err error) {
	ctx, span := s.c.tel.Start(ctx, "zerobus.stream.create", s.c.attrs...)
	defer func() { telemetry.End(span, err) }()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	rt := s.c.sc.NewRetrier()
	r, err := s.connect(cctx, rt)
	if err != nil {
		if s.ctx.Err() != nil && ctx.Err() == nil {
			err = errClientClosed
		}
		s.finish(err)
		return err
	}
	s.install(r)
	go s.supervise(rt)
	return nil
}

// connect creates an RPC, retrying per the client's rule; ctx bounds it.
func (s *Stream) connect(ctx context.Context, rt *stream.Retrier) (*rpc, error) {
	log := s.c.tel.Logger()
	table := s.c.scfg.TableName
	for {
		r, cred, err := s.createOnce(ctx)
		outcome := "success"
		if err != nil {
			outcome = "failure"
		}
		s.c.tel.StreamCreations.Add(context.Background(), 1, s.c.metricAttrs(telemetry.KeyOutcome.String(outcome)))
		if err == nil {
			log.DebugContext(ctx, "zerobus: flight stream created", "table", table)
			return r, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("zerobus: stream creation stopped: %w (last error: %v)", ctx.Err(), err)
		}
		delay, terr := rt.OnFailure(ctx, err, cred, false)
		if terr != nil {
			log.WarnContext(ctx, stream.LogStreamCreationFailed, "transport", "arrow_flight", "table", table, "error", terr)
			return nil, terr
		}
		s.c.tel.Retries.Add(context.Background(), 1, s.c.metricAttrs(telemetry.KeyErrorKind.String(stream.ErrorKind(err))))
		log.WarnContext(ctx, "zerobus: flight stream creation failed; retrying", "table", table,
			"attempt", rt.Fails(), "delay", delay, "error", err)
		if serr := stream.Sleep(ctx, delay); serr != nil {
			return nil, fmt.Errorf("zerobus: stream creation stopped: %w (last error: %v)", serr, err)
		}
	}
}

// createOnce opens one DoPut, sends the schema (no FlightDescriptor) and
// waits for READY, bounded by CreateTimeout and ctx. The RPC outlives ctx
// (it keeps only ctx's span context).
func (s *Stream) createOnce(ctx context.Context) (_ *rpc, cred string, err error) {
	timeout := s.c.scfg.CreateTimeout
	o := stream.OpenRPC(ctx, s.ctx, timeout, stream.CreateTimeout("READY from the Flight service", timeout))
	defer func() { o.End(err) }()
	classify := func(err error) error {
		return o.Classify(err, func(err error) error { return s.c.sc.Classify(err, "create") })
	}
	md, cred, err := s.c.sc.Metadata(o.Ctx)
	if err != nil {
		return nil, cred, o.MetadataErr(err)
	}
	cs, err := s.c.fc.DoPut(metadata.NewOutgoingContext(o.Ctx, md), s.c.callOpts...)
	if err != nil {
		return nil, cred, classify(err)
	}
	if err := cs.Send(&flight.FlightData{DataHeader: s.header}); err != nil {
		recv := func() error { _, err := cs.Recv(); return err }
		return nil, cred, stream.SendFailed(cs, err, recv, classify)
	}
	pr, err := cs.Recv()
	if err != nil {
		return nil, cred, stream.MarkAnswered(cs, classify(err))
	}
	a, err := parsePutResult(pr)
	if err != nil {
		return nil, cred, err
	}
	if *a.AckUpToOffset != -1 || *a.AckUpToRecords != 0 {
		return nil, cred, &stream.ServerError{Code: codes.Internal, Message: fmt.Sprintf(
			"protocol error: the first PutResult is not READY (ack_up_to_offset %d, ack_up_to_records %d)", *a.AckUpToOffset, *a.AckUpToRecords)}
	}
	if err := o.Opened(); err != nil {
		return nil, cred, err
	}
	return &rpc{cs: cs, ctx: o.Ctx, cancel: o.Cancel, cred: cred, RPCSignals: stream.NewRPCSignals()}, cred, nil
}

// install makes r current; every unresolved batch is (re)sent on it from
// its durable prefix on.
func (s *Stream) install(r *rpc) {
	s.mu.Lock()
	s.cur = r
	s.sent = 0
	s.nextOffset = 0
	s.connRecords = 0
	s.ackedRecs = 0
	s.st.Install(time.Now())
	s.mu.Unlock()
	r.wg.Add(2)
	go s.sender(r)
	go s.receiver(r)
}

// detach stops r and waits for its goroutines; the batches whose caller
// gave up on them (GiveUp) are dropped (resolved with
// stream.ErrAbandoned), never replayed.
func (s *Stream) detach(r *rpc, cause error) (progress bool, pending int) {
	r.cancel(cause)
	r.wg.Wait()
	s.mu.Lock()
	if s.cur == r {
		s.cur = nil
	}
	s.sent = 0
	s.nextOffset = 0
	s.connRecords = 0
	s.ackedRecs = 0
	var dropped []*batch
	s.q, dropped = stream.DropAbandoned(s.q, func(b *batch) *stream.Future { return &b.p.Future })
	progress, pending = s.st.Detach(), len(s.q)
	s.mu.Unlock()
	s.resolve(dropped, stream.ErrAbandoned, time.Now())
	return progress, pending
}

var errRotate = errors.New("zerobus: moving to a new flight RPC after close_stream_duration_ms")

// supervise runs until the stream ends (stream.Supervise: the same rules
// as the protobuf transport, with record-level acknowledgements).
func (s *Stream) supervise(rt *stream.Retrier) {
	s.mu.Lock()
	r := s.cur
	s.mu.Unlock()
	stream.Supervise[*rpc](supervised{s}, r, rt, errRotate, stream.SuperviseText{
		Rotating:   "zerobus: server closed the flight stream; moving to a new RPC",
		Failed:     "zerobus: flight stream failed",
		Recovering: "zerobus: flight RPC failed; recovering",
		Unit:       "record",
	})
}

// supervised is Stream as stream.Supervise drives it.
type supervised struct{ s *Stream }

func (a supervised) Context() context.Context               { return a.s.ctx }
func (a supervised) PendingCtx() context.Context            { return a.s.pendingCtx() }
func (a supervised) Logger() *slog.Logger                   { return a.s.c.tel.Logger() }
func (a supervised) Watch(r *rpc) (stream.Event, error)     { return a.s.watch(r) }
func (a supervised) Detach(r *rpc, cause error) (bool, int) { return a.s.detach(r, cause) }
func (a supervised) Install(r *rpc)                         { a.s.install(r) }
func (a supervised) Idle() error                            { return a.s.idle() }
func (a supervised) CleanDone() bool                        { return a.s.isCleanDone() }
func (a supervised) Finish(err error)                       { a.s.finish(err) }
func (a supervised) AbortCause() error                      { return a.s.abortCause() }
func (a supervised) Cred(r *rpc) string                     { return r.cred }
func (a supervised) LogAttrs(*rpc) []any                    { return []any{"table", a.s.c.scfg.TableName} }
func (a supervised) Reconnect(rt *stream.Retrier, reason string) (*rpc, error) {
	return a.s.reconnect(rt, reason)
}
func (a supervised) CountRetry(err error) {
	a.s.c.tel.Retries.Add(context.Background(), 1, a.s.c.metricAttrs(telemetry.KeyErrorKind.String(stream.ErrorKind(err))))
}

// reconnect opens the next RPC under a "zerobus.stream.recover" span.
func (s *Stream) reconnect(rt *stream.Retrier, reason string) (_ *rpc, err error) {
	ctx, span := s.c.tel.Start(s.pendingCtx(), "zerobus.stream.recover", append(s.c.attrs, telemetry.KeyErrorKind.String(reason))...)
	defer func() { telemetry.End(span, err) }()
	r, err := s.connect(ctx, rt)
	if err == nil {
		s.c.tel.StreamRecoveries.Add(context.WithoutCancel(ctx), 1, s.c.metricAttrs(
			telemetry.KeyOutcome.String("success"), telemetry.KeyErrorKind.String(reason)))
	}
	return r, err
}

// idle waits for queued batches, a clean close or an abort.
func (s *Stream) idle() error {
	if !s.st.Idle(s.ctx, &s.mu, func() int { return len(s.q) }, s.wake) {
		return s.abortCause()
	}
	return nil
}

func (s *Stream) isCleanDone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.CleanDone(len(s.q))
}

// watch blocks until something ends r (see stream.RPCState.Watch).
func (s *Stream) watch(r *rpc) (stream.Event, error) {
	return s.st.Watch(s.ctx, &s.mu, s.c.scfg.AckTimeout, func() (int, int) { return s.sent, len(s.q) }, r.Kick, s.wake, r.Ended())
}

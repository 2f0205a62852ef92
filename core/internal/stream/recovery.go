package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// LogStreamCreationFailed is the message of the WARN record logged when
// stream creation gives up (its error is then the caller's); core exports
// it for a command that prints that error and drops the record.
const LogStreamCreationFailed = "zerobus: stream creation failed"

// retryState counts consecutive failures since the last progress.
type retryState struct {
	fails       int
	authRetried bool
}

// open creates the first RPC and starts the supervisor.
func (s *Stream) open(ctx context.Context) (err error) {
	ctx, span := s.tel.Start(ctx, "zerobus.stream.create", telemetry.KeyTable.String(s.c.cfg.TableName), transportAttr)
	defer func() { telemetry.End(span, err) }()
	// The caller's ctx and the stream's own (Client.Close) both stop it.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	rt := s.c.NewRetrier()
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

// connect creates an RPC, retrying per the policy. ctx bounds the whole
// sequence.
func (s *Stream) connect(ctx context.Context, rt *Retrier) (*rpc, error) {
	log := s.tel.Logger()
	for {
		r, cred, err := s.createOnce(ctx)
		outcome := "success"
		if err != nil {
			outcome = "failure"
		}
		s.tel.StreamCreations.Add(context.Background(), 1, metricAttrs(
			telemetry.KeyTable.String(s.c.cfg.TableName), transportAttr, telemetry.KeyOutcome.String(outcome)))
		if err == nil {
			log.DebugContext(ctx, "zerobus: stream created", "table", s.c.cfg.TableName, "stream_id", r.id)
			return r, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("zerobus: stream creation stopped: %w (last error: %v)", ctx.Err(), err)
		}
		delay, terr := rt.OnFailure(ctx, err, cred, false)
		if terr != nil {
			log.WarnContext(ctx, LogStreamCreationFailed, "table", s.c.cfg.TableName, "error", terr)
			return nil, terr
		}
		s.tel.Retries.Add(context.Background(), 1, metricAttrs(
			telemetry.KeyTable.String(s.c.cfg.TableName), transportAttr, telemetry.KeyErrorKind.String(errorKind(err))))
		log.WarnContext(ctx, "zerobus: stream creation failed; retrying", "table", s.c.cfg.TableName,
			"attempt", rt.Fails(), "delay", delay, "error", err)
		if serr := sleepCtx(ctx, delay); serr != nil {
			return nil, fmt.Errorf("zerobus: stream creation stopped: %w (last error: %v)", serr, err)
		}
	}
}

// onFailure is the retry rule shared by every transport of the client (see
// Retrier).
func (c *Client) onFailure(ctx context.Context, st *retryState, err error, cred string, accepted bool) (time.Duration, error) {
	var ae *AuthError
	if errors.As(err, &ae) {
		return 0, err
	}
	if code := codeOf(err); isAuthCode(code) {
		if accepted && st.authRetried && code == codes.Unauthenticated {
			// The refreshed token opened an RPC and is rejected now
			// (UNAUTHENTICATED): it expired in turn, which is not a
			// refused refresh. Refresh again, within the retry budget,
			// so a server that keeps doing this is still bounded; past
			// it, the credentials are what fails (an *AuthError, as
			// after a refused refresh). PERMISSION_DENIED is a missing
			// grant, not an expiry: after its one refresh it is final
			// wherever it comes (protocol §4, §6).
			st.fails++
			if st.fails > c.retry.MaxAttempts {
				return 0, &AuthError{What: c.expiredWhat(st.fails), Err: err}
			}
			st.authRetried = false
		}
		if !st.authRetried {
			st.authRetried = true
			c.auth.invalidate(cred)
			c.tel.Logger().InfoContext(ctx, "zerobus: server rejected the credentials; retrying once with fresh ones",
				"table", c.cfg.TableName, "code", CodeName(code))
			return 0, nil
		}
		return 0, &AuthError{What: c.authWhat(code), Err: err}
	}
	if !IsRetryable(err) {
		return 0, err
	}
	st.fails++
	if st.fails > c.retry.MaxAttempts {
		return 0, &RetryExhaustedError{Attempts: st.fails, Last: err}
	}
	return c.retry.delay(st.fails, isPipelineBlocked(err)), nil
}

// authWhat explains a server-side auth rejection.
func (c *Client) authWhat(code codes.Code) string {
	custom := c.auth.provider != nil
	switch {
	case code == codes.PermissionDenied && custom:
		return fmt.Sprintf("the identity behind HeadersProvider lacks privileges on table %s (needs USE CATALOG, USE SCHEMA, SELECT and MODIFY)", c.cfg.TableName)
	case code == codes.PermissionDenied:
		return fmt.Sprintf("service principal %q lacks privileges on table %s (needs USE CATALOG, USE SCHEMA, SELECT and MODIFY)", c.cfg.ClientID, c.cfg.TableName)
	case custom:
		return "the Zerobus server rejected the authorization from HeadersProvider"
	default:
		return fmt.Sprintf("the Zerobus server rejected the OAuth token of client %q even after a refresh (check that the token is for this workspace and endpoint)", c.cfg.ClientID)
	}
}

// expiredWhat explains a server that accepted each refreshed token and
// then rejected it (UNAUTHENTICATED) before anything was acknowledged, n
// times in a row.
func (c *Client) expiredWhat(n int) string {
	if c.auth.provider != nil {
		return fmt.Sprintf("the Zerobus server accepted the authorization from HeadersProvider and rejected it again before acknowledging anything, %d times in a row", n)
	}
	return fmt.Sprintf("the Zerobus server accepted each refreshed OAuth token of client %q and rejected it again before acknowledging anything, %d times in a row (check that the token is for this workspace and endpoint)", c.cfg.ClientID, n)
}

// createOnce opens one RPC and performs the create handshake, bounded by
// CreateTimeout (token fetch included) and ctx. It returns the credential
// used so a rejection can invalidate it.
//
// The RPC outlives ctx: its context is canceled by the stream's (abort,
// Client.Close) and by the returned rpc's cancel, never by ctx once the
// handshake is done. It carries ctx's span context, so the token fetch and
// the RPC's logs join the caller's trace, but no other value of ctx.
func (s *Stream) createOnce(ctx context.Context) (_ *rpc, cred string, err error) {
	timeout := s.c.cfg.CreateTimeout
	o := OpenRPC(ctx, s.ctx, timeout, CreateTimeout("stream id", timeout))
	defer func() { o.End(err) }()
	// Map an error seen while the RPC's context was canceled to the real cause.
	classify := func(err error, op string) error {
		return o.Classify(err, func(err error) error { return s.classify(err, op) })
	}

	md, cred, err := s.c.auth.metadata(o.Ctx)
	if err != nil {
		return nil, cred, o.MetadataErr(err)
	}
	cs, err := s.c.rpc.EphemeralStream(metadata.NewOutgoingContext(o.Ctx, md), grpc.ForceCodecV2(rpcCodec))
	if err != nil {
		return nil, cred, classify(err, "create")
	}
	req := &zerobuspb.CreateIngestStreamRequest{
		TableName:  proto.String(s.c.cfg.TableName),
		RecordType: s.rt.Enum(),
	}
	if s.rt == zerobuspb.RecordType_PROTO {
		req.DescriptorProto = s.desc
	}
	if err := cs.Send(&zerobuspb.EphemeralStreamRequest{Payload: &zerobuspb.EphemeralStreamRequest_CreateStream{CreateStream: req}}); err != nil {
		recv := func() error { _, err := cs.Recv(); return err }
		return nil, cred, SendFailed(cs, err, recv, func(err error) error { return classify(err, "create") })
	}
	resp, err := cs.Recv()
	if err != nil {
		return nil, cred, MarkAnswered(cs, classify(err, "create"))
	}
	cr := resp.GetCreateStreamResponse()
	if cr == nil {
		return nil, cred, &ServerError{Code: codes.Internal, Message: fmt.Sprintf("protocol error: first response is %T, want create_stream_response", resp.GetPayload())}
	}
	if err := o.Opened(); err != nil {
		return nil, cred, err
	}
	return &rpc{
		cs:         cs,
		ctx:        o.Ctx,
		cancel:     o.Cancel,
		cred:       cred,
		id:         cr.GetStreamId(),
		RPCSignals: NewRPCSignals(),
	}, cred, nil
}

// classify turns an RPC error into our error types.
func (s *Stream) classify(err error, op string) error { return s.c.Classify(err, op) }

// SendFailed is the error of an RPC whose first Send failed: io.EOF there
// means the server already ended the RPC (a handler failing at once), so
// its status is read and classified like a failed Recv, the server's answer
// marked as such (MarkAnswered); any other error is the transport's.
// recv is the stream's typed Recv, returning its error.
func SendFailed(cs grpc.ClientStream, err error, recv func() error, classify func(error) error) error {
	if !errors.Is(err, io.EOF) {
		return classify(err)
	}
	if rerr := recv(); rerr != nil { // the status
		err = rerr
	}
	return MarkAnswered(cs, classify(err))
}

// MarkAnswered marks an UNAVAILABLE *ConnectionError as the server's own answer
// when the RPC received response headers or trailers before it ended:
// grpc-go reports a refused or broken connection with the same code, but
// then nothing came from the server. Trailers count on their own because a
// trailers-only response (a handler failing at once, a proxy, a server
// shutting down) has no headers: Header() gives nil metadata for it.
func MarkAnswered(cs grpc.ClientStream, err error) error {
	var ce *ConnectionError
	var se *ServerError
	if errors.As(err, &ce) && errors.As(ce.Err, &se) && se.Code == codes.Unavailable {
		md, herr := cs.Header()
		if (herr == nil && md != nil) || len(cs.Trailer()) > 0 {
			ce.Answered = true
		}
	}
	return err
}

// Classify turns an RPC error of op ("create", "send", "recv") into this
// package's error types (*ServerError, *ConnectionError), scrubbed of
// secrets. Transports built on the client (flightstream) use it too.
// UNAVAILABLE for a failed handshake while the last TLS handshake failed on
// the certificate is that *CertificateError (not retryable); the wording
// check keeps a later failure that never reached a handshake (the server
// gone) from being reported as the old certificate.
func (c *Client) Classify(err error, op string) error {
	if errors.Is(err, io.EOF) {
		return &ConnectionError{Op: op, Err: errServerEOF}
	}
	if se := c.red.serverError(err); se != nil {
		if se.Code == codes.Unavailable {
			if ce := c.dials.cert.Load(); ce != nil && strings.Contains(se.Message, "handshake") {
				return ce
			}
			if te := transportError(se.Message); te != nil {
				// grpc-go's own status for a connection that could not be
				// opened or broke: nothing answered
				if !c.ep.tls && plaintextToTLS(se.Message, te.Cause) {
					// a TLS server closes (or resets) a plaintext HTTP/2
					// client's connection before its preface; a transient
					// drop looks the same, so it stays retryable
					te.Cause += " before the server's HTTP/2 preface (if the server speaks TLS, use https:// in endpoint)"
				}
				return &ConnectionError{Op: op, Err: te}
			}
			return &ConnectionError{Op: op, Err: se}
		}
		return se
	}
	return &ConnectionError{Op: op, Err: c.red.cleanErr(err)}
}

// plaintextToTLS reports whether grpc-go's status message msg (its
// TransportError cut to cause) is what a plaintext client meets at a TLS
// port: the connection closed or reset before the server's HTTP/2 preface
// came (a server that dropped an RPC after its preface is not meant).
func plaintextToTLS(msg, cause string) bool {
	if !strings.HasSuffix(cause, "EOF") && !strings.HasSuffix(cause, "connection reset by peer") {
		return false
	}
	return strings.Contains(msg, "error reading server preface")
}

// install makes r the current RPC and starts its sender and receiver.
func (s *Stream) install(r *rpc) {
	s.mu.Lock()
	s.cur = r
	s.sent = 0
	s.nextOffset = 0
	s.ackedUpTo = -1
	s.id = r.id
	s.st.Install(time.Now())
	s.mu.Unlock()
	r.wg.Add(2)
	go s.sender(r)
	go s.receiver(r)
}

// detach stops r and waits for its goroutines; unacknowledged requests
// become unsent, except those whose caller gave up on them (GiveUp): they
// are dropped (resolved with ErrAbandoned), never written again. It reports
// whether r had made progress and how many requests remain.
func (s *Stream) detach(r *rpc, cause error) (progress bool, pending int) {
	r.cancel(cause)
	r.wg.Wait()
	s.mu.Lock()
	if s.cur == r {
		s.cur = nil
	}
	s.sent = 0
	s.nextOffset = 0
	s.ackedUpTo = -1
	var dropped []*request
	s.q, dropped = DropAbandoned(s.q, func(req *request) *Future { return &req.p.Future })
	progress, pending = s.st.Detach(), len(s.q)
	s.mu.Unlock()
	s.resolve(dropped, ErrAbandoned, time.Now())
	return progress, pending
}

// errRotate is the cancel cause of an RPC left after CloseStreamSignal.
var errRotate = errors.New("zerobus: moving to a new RPC after CloseStreamSignal")

// supervise runs until the stream ends: it watches the current RPC, moves to
// a new one on close signals and retryable failures, and finishes the stream
// (see Supervise).
func (s *Stream) supervise(rt *Retrier) {
	s.mu.Lock()
	r := s.cur
	s.mu.Unlock()
	Supervise[*rpc](supervised{s}, r, rt, errRotate, SuperviseText{
		Rotating:   "zerobus: server asked to close the stream; moving to a new RPC",
		Failed:     "zerobus: stream failed",
		Recovering: "zerobus: stream RPC failed; recovering",
		Unit:       "request",
		IdleEnd:    "zerobus: idle RPC ended",
	})
}

// supervised is Stream as Supervise drives it.
type supervised struct{ s *Stream }

func (a supervised) Context() context.Context               { return a.s.ctx }
func (a supervised) PendingCtx() context.Context            { return a.s.pendingCtx() }
func (a supervised) Logger() *slog.Logger                   { return a.s.tel.Logger() }
func (a supervised) Watch(r *rpc) (Event, error)            { return a.s.watch(r) }
func (a supervised) Detach(r *rpc, cause error) (bool, int) { return a.s.detach(r, cause) }
func (a supervised) Install(r *rpc)                         { a.s.install(r) }
func (a supervised) Reconnect(rt *Retrier, reason string) (*rpc, error) {
	return a.s.reconnect(rt, reason)
}
func (a supervised) Idle() error        { return a.s.idle() }
func (a supervised) CleanDone() bool    { return a.s.isCleanDone() }
func (a supervised) Finish(err error)   { a.s.finish(err) }
func (a supervised) AbortCause() error  { return a.s.abortCause() }
func (a supervised) Cred(r *rpc) string { return r.cred }
func (a supervised) LogAttrs(r *rpc) []any {
	return []any{"table", a.s.c.cfg.TableName, "stream_id", r.id}
}
func (a supervised) CountRetry(err error) {
	a.s.tel.Retries.Add(context.Background(), 1, metricAttrs(
		telemetry.KeyTable.String(a.s.c.cfg.TableName), transportAttr, telemetry.KeyErrorKind.String(errorKind(err))))
}

// reconnect opens the next RPC under a "zerobus.stream.recover" span, a
// child of the oldest pending request's sender span (see pendingCtx). A
// success counts one zerobus.stream.recoveries, labelled with reason (why
// the previous RPC was left: "close_signal" or an error kind); each move to
// a new RPC is counted exactly once, whether it happens at once (requests
// pending) or lazily on the next Send.
func (s *Stream) reconnect(rt *Retrier, reason string) (_ *rpc, err error) {
	ctx, span := s.tel.Start(s.pendingCtx(), "zerobus.stream.recover", telemetry.KeyTable.String(s.c.cfg.TableName),
		transportAttr, telemetry.KeyErrorKind.String(reason))
	defer func() { telemetry.End(span, err) }()
	r, err := s.connect(ctx, rt)
	if err == nil {
		s.tel.StreamRecoveries.Add(context.WithoutCancel(ctx), 1, metricAttrs(telemetry.KeyTable.String(s.c.cfg.TableName), transportAttr,
			telemetry.KeyOutcome.String("success"), telemetry.KeyErrorKind.String(reason)))
	}
	return r, err
}

// idle waits until requests are queued (returns nil), the stream is closed
// with nothing pending (returns nil; isCleanDone reports true) or aborted
// (returns the cause).
func (s *Stream) idle() error {
	if !s.st.Idle(s.ctx, &s.mu, func() int { return len(s.q) }, s.wake) {
		return s.abortCause()
	}
	return nil
}

// isCleanDone reports whether Close asked to end and nothing is pending.
func (s *Stream) isCleanDone() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.CleanDone(len(s.q))
}

// watch blocks until something ends the current RPC r (see RPCState.Watch).
func (s *Stream) watch(r *rpc) (Event, error) {
	return s.st.Watch(s.ctx, &s.mu, s.c.cfg.AckTimeout, func() (int, int) { return s.sent, len(s.q) }, r.Kick, s.wake, r.Ended())
}

package stream

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// Hooks for other transports built on a Client (core/internal/flightstream):
// they share its connection (TLS, proxy tunnel, user agent, message caps),
// its credentials (token cache and refresh, HeadersProvider), its error
// classification and redaction, its retry rule and its flow-control window,
// so that every transport behaves alike and each rule is written once.

// Conn returns the client's lazily dialled gRPC connection.
func (c *Client) Conn() grpc.ClientConnInterface { return c.conn }

// Metadata returns the request metadata of a new RPC (authorization, table
// name) and the credential it carries, for Retrier.OnFailure.
func (c *Client) Metadata(ctx context.Context) (metadata.MD, string, error) {
	return c.auth.metadata(ctx)
}

// Settings returns the client's configuration with defaults filled in.
func (c *Client) Settings() Config { return *c.cfg }

// Telemetry returns the client's telemetry.
func (c *Client) Telemetry() *telemetry.Telemetry { return c.tel }

// Retrier applies the client's retry rule (Config.Retry, one retry with a
// fresh credential on UNAUTHENTICATED / PERMISSION_DENIED) to a sequence of
// failures. Not safe for concurrent use.
type Retrier struct {
	c  *Client
	st retryState
}

// NewRetrier returns a Retrier with no failures counted.
func (c *Client) NewRetrier() *Retrier { return &Retrier{c: c} }

// OnFailure returns the delay before the next attempt after err, or the
// terminal error (*AuthError, *RetryExhaustedError, or err itself when it is
// not retryable). cred is the credential of the failed RPC; accepted
// reports that the server had accepted it (the RPC failed later).
func (r *Retrier) OnFailure(ctx context.Context, err error, cred string, accepted bool) (time.Duration, error) {
	return r.c.onFailure(ctx, &r.st, err, cred, accepted)
}

// Progress restarts the failure count (an acknowledgement arrived).
func (r *Retrier) Progress() { r.st = retryState{} }

// Fails is the number of consecutive failures counted.
func (r *Retrier) Fails() int { return r.st.fails }

// ErrorKind is the low-cardinality telemetry label of err.
func ErrorKind(err error) string { return errorKind(err) }

// Sleep waits d or until ctx ends (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error { return sleepCtx(ctx, d) }

// AckTimeoutError is the *ConnectionError of an RPC on which nothing
// arrived for after while inflight requests were waiting (retryable).
func AckTimeoutError(after time.Duration, inflight int) error {
	return &ConnectionError{Op: "ack-timeout", Err: &ackTimeoutError{after: after, inflight: inflight}}
}

// ServerEOFError is the *ConnectionError of an RPC the server ended without
// a status while acknowledgements were still expected (retryable).
func ServerEOFError(op string) error { return &ConnectionError{Op: op, Err: errServerEOF} }

// Window is the in-flight flow control of a client's streams: at most a number of
// requests and of bytes between admission and resolution; see window.
type Window struct{ w *window }

// NewWindow returns a window of maxReqs requests and maxBytes bytes.
func NewWindow(maxReqs int, maxBytes int64) *Window {
	return &Window{w: newWindow(maxReqs, maxBytes)}
}

// NewByteWindow returns a window of maxBytes bytes and no request limit:
// bytes may be released in parts and taken beyond the limit with Grow.
func NewByteWindow(maxBytes int64) *Window { return &Window{w: newByteWindow(maxBytes)} }

// Grow takes n more bytes of a byte window at once, fitting or not.
func (w *Window) Grow(n int64) { w.w.grow(n) }

// Waiting returns how many callers wait for room in w.
func (w *Window) Waiting() int { return w.w.waiting() }

// Peak returns the most requests and bytes ever held in w at once.
func (w *Window) Peak() (int, int64) { return w.w.peak() }

// Acquire takes one slot and n bytes, blocking while the window is full; it
// returns ctx's error, or ErrClosed if abort closes first (nothing held).
func (w *Window) Acquire(ctx context.Context, n int64, abort <-chan struct{}) error {
	err := w.w.acquire(ctx, n, abort)
	if err == errWindowAborted {
		return fmt.Errorf("%w: the stream ended while waiting for window space", ErrClosed)
	}
	return err
}

// Release returns one slot and n bytes.
func (w *Window) Release(n int64) { w.w.release(n) }

// Window returns the client's in-flight window, shared by all its streams
// (other transports on the client share it too when they keep its limits).
func (c *Client) Window() *Window { return &Window{w: c.win} }

// Usage returns the requests and bytes currently held in w.
func (w *Window) Usage() (int, int64) { return w.w.usage() }

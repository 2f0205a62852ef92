package stream

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Retry defaults.
const (
	DefaultMaxAttempts = 5
	DefaultBaseDelay   = 100 * time.Millisecond
	DefaultMaxDelay    = 30 * time.Second
	// blockedFactor multiplies the base delay when the server reports that
	// pipeline creation is temporarily blocked (Zerobus error 6006).
	blockedFactor = 10
)

// RetryPolicy bounds how a stream is re-created after a retryable failure
// (at OpenStream and when recovering an open stream). The zero value means
// the defaults.
type RetryPolicy struct {
	// MaxAttempts is how many times a failed creation or recovery is retried
	// in a row before giving up with *RetryExhaustedError. Default 5 (so at
	// most 6 tries); a negative value disables retries. The count restarts
	// once the new RPC makes progress (an acknowledgement arrives).
	MaxAttempts int
	// BaseDelay is the first backoff step. Default 100ms.
	BaseDelay time.Duration
	// MaxDelay caps every delay. Default 30s.
	MaxDelay time.Duration
	// Backoff returns the delay before retry number attempt (1-based). Nil
	// means FullJitter. Tests set it to return tiny delays.
	Backoff func(attempt int, base, max time.Duration) time.Duration
}

// withDefaults fills zero fields.
func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxAttempts < 0 {
		p.MaxAttempts = 0
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.MaxDelay < p.BaseDelay {
		p.MaxDelay = p.BaseDelay
	}
	if p.Backoff == nil {
		p.Backoff = FullJitter
	}
	return p
}

// delay is the wait before retry number attempt; blocked lengthens it for
// "pipeline creation temporarily blocked".
func (p RetryPolicy) delay(attempt int, blocked bool) time.Duration {
	base := p.BaseDelay
	if blocked {
		base *= blockedFactor
		if base > p.MaxDelay {
			base = p.MaxDelay
		}
	}
	d := p.Backoff(attempt, base, p.MaxDelay)
	if d < 0 {
		d = 0
	}
	if d > p.MaxDelay {
		d = p.MaxDelay
	}
	return d
}

// FullJitter is exponential backoff with full jitter: a uniformly random
// delay in [0, min(max, base·2^(attempt-1))]. It is safe for concurrent use.
func FullJitter(attempt int, base, max time.Duration) time.Duration {
	return rand.N(expCap(attempt, base, max) + 1)
}

// expCap is min(max, base·2^(attempt-1)) without overflow.
func expCap(attempt int, base, max time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base
	for i := 1; i < attempt; i++ {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	if d > max {
		return max
	}
	return d
}

// IsRetryable reports whether err is a failure that another attempt (a new
// RPC) may fix: transport errors, a missing acknowledgement, and every gRPC
// status RetryableCode accepts. Authentication errors, exhausted retries,
// oversize requests, a host name that does not resolve, a TLS certificate
// that fails verification (*CertificateError), ErrClosed and a
// context that ended (ContextEnded) are not retryable; a context error wins
// over any connection error or status code in the same chain.
// A *TokenError is retryable when its Retryable field says so (the token
// client's own decision, which counts a token request's timeout as
// retryable).
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, ErrClosed) {
		return false
	}
	var (
		ae *AuthError
		re *RetryExhaustedError
		te *TokenError
		me *MessageTooLargeError
		ce *ConnectionError
		se *ServerError
		hn *HostNotFoundError
		cf *CertificateError
	)
	switch {
	case errors.As(err, &ae), errors.As(err, &re), errors.As(err, &me), errors.As(err, &hn), errors.As(err, &cf):
		return false
	case errors.As(err, &te):
		return te.Retryable
	case ContextEnded(err):
		return false
	case errors.As(err, &ce):
		return true
	case errors.As(err, &se):
		return RetryableCode(se.Code) && !SizeLimitStatus(se.Code, se.Message)
	}
	if st, ok := status.FromError(err); ok {
		return RetryableCode(st.Code()) && !SizeLimitStatus(st.Code(), st.Message())
	}
	return false
}

// SizeLimitStatus reports whether a status is gRPC's own refusal of a
// message over a size limit (RESOURCE_EXHAUSTED "grpc: received message
// larger than max (N vs. M)"): the same request is refused the same way on
// every attempt, so it is not retried, unlike RESOURCE_EXHAUSTED for
// throttling. The message must start with one of grpc-go's own texts
// (sizeLimitPrefixes); a server's throttling message that merely contains
// the words ("… larger than max …") is not one.
func SizeLimitStatus(c codes.Code, msg string) bool {
	if c != codes.ResourceExhausted {
		return false
	}
	for _, p := range sizeLimitPrefixes {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// sizeLimitPrefixes are the starts of grpc-go's RESOURCE_EXHAUSTED texts for
// a message over a size limit (rpc_util.go, stream.go, server.go of
// google.golang.org/grpc): a receiver's limit (the server's, reported to the
// client, also after decompression) and a sender's (the client's own
// MaxCallSendMsgSize has no "grpc: " prefix).
var sizeLimitPrefixes = []string{
	"grpc: received message larger than max",
	"grpc: received message after decompression larger than max",
	"grpc: message after decompression larger than max",
	"grpc: trying to send message larger than max",
	"trying to send message larger than max",
}

// RetryableCode is the retry rule for a gRPC status code the server (or a
// proxy in between) ended an RPC with (protocol §6): every code except OK,
// INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, OUT_OF_RANGE,
// UNIMPLEMENTED and NOT_FOUND is retryable.
//
// CANCELED is retryable on purpose: a CANCELED status that arrives from the
// other side means the server or a proxy dropped the RPC (shutdown, drain,
// load balancer), which a new RPC can get past. The caller's own
// cancellation is a different thing: it reaches the retry decision as a Go
// context error (see ContextEnded) and is never retried. Every layer (this
// package, core.IsRetryable, the CLIs) uses this one function.
func RetryableCode(c codes.Code) bool {
	switch c {
	case codes.OK, codes.InvalidArgument, codes.Unauthenticated, codes.PermissionDenied,
		codes.OutOfRange, codes.Unimplemented, codes.NotFound:
		return false
	}
	return true
}

// ContextEnded reports whether err's chain holds context.Canceled or
// context.DeadlineExceeded: a context (the caller's, or a timeout derived
// from it) ended the operation. Such an error is final: it is never retried,
// whatever gRPC status may also be in the chain.
func ContextEnded(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// isAuthCode reports whether c calls for one retry with a fresh token.
func isAuthCode(c codes.Code) bool {
	return c == codes.Unauthenticated || c == codes.PermissionDenied
}

// codeOf returns the status code carried by err, or codes.Unknown.
func codeOf(err error) codes.Code {
	var se *ServerError
	if errors.As(err, &se) {
		return se.Code
	}
	return codes.Unknown
}

// isPipelineBlocked reports the Zerobus "pipeline creation temporarily
// blocked" condition (error 6006 in the status message), which gets a longer
// backoff.
func isPipelineBlocked(err error) bool {
	var se *ServerError
	if !errors.As(err, &se) {
		return false
	}
	m := strings.ToLower(se.Message)
	return strings.Contains(m, "6006") || strings.Contains(m, "pipeline creation temporarily blocked")
}

// errorKind is a short low-cardinality label for telemetry.
func errorKind(err error) string {
	var (
		ae *AuthError
		te *TokenError
		ce *ConnectionError
		se *ServerError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ae):
		return "auth"
	case errors.As(err, new(*HostNotFoundError)):
		return "host_not_found"
	case errors.As(err, new(*CertificateError)):
		return "certificate"
	case errors.As(err, &te):
		return "token"
	case errors.As(err, &ce):
		var at *ackTimeoutError
		if errors.As(err, &at) {
			return "ack_timeout"
		}
		return "connection"
	case errors.As(err, &se):
		return strings.ToLower(se.Code.String())
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	}
	return "other"
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

package core

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// TestCoreRetryRuleIsTheStreamRule: core.IsRetryable is stream.IsRetryable
// (the one rule) on this package's typed errors, whatever stream error
// their chain holds: a connection failure, a failed transmission or a token
// failure that carries a cause the stream rule calls final (an unknown host,
// a certificate, a refused credential, a closed stream, an oversize request,
// the caller's context) is final in core too, and vice versa.
func TestCoreRetryRuleIsTheStreamRule(t *testing.T) {
	causes := map[string]error{
		"plain":        errors.New("connection reset"),
		"host":         &stream.HostNotFoundError{Host: "nohost.invalid", Setting: "Endpoint", Err: errors.New("no such host")},
		"certificate":  &stream.CertificateError{Host: "h.invalid", Setting: "Endpoint", Err: x509.UnknownAuthorityError{}},
		"auth":         &stream.AuthError{What: "the HTTP proxy refused the CONNECT tunnel"},
		"closed":       fmt.Errorf("x: %w", stream.ErrClosed),
		"too large":    &stream.MessageTooLargeError{Size: 2, Limit: 1, Records: 1},
		"canceled":     context.Canceled,
		"deadline":     fmt.Errorf("x: %w", context.DeadlineExceeded),
		"token yes":    &stream.TokenError{URL: "u", StatusCode: 503, Retryable: true},
		"token no":     &stream.TokenError{URL: "u", StatusCode: 400},
		"server 14":    &stream.ServerError{Code: codes.Unavailable, Message: "m"},
		"server 3":     &stream.ServerError{Code: codes.InvalidArgument, Message: "m"},
		"stream conn":  &stream.ConnectionError{Op: "create", Err: errors.New("reset")},
		"conn on host": &stream.ConnectionError{Op: "create", Err: &stream.HostNotFoundError{Host: "h", Setting: "Endpoint"}},
	}
	for name, cause := range causes {
		wrappers := map[string]struct {
			core error
			same error // the stream error the core error stands for
		}{
			"ConnectionError":   {&ConnectionError{Endpoint: "e", Err: cause}, &stream.ConnectionError{Op: "connect", Err: cause}},
			"TokenRefreshError": {&TokenRefreshError{URL: "u", StatusCode: 503, Retryable: true, Err: cause}, &stream.TokenError{URL: "u", StatusCode: 503, Retryable: true, Err: cause}},
			"exhausted":         {&RetryExhaustedError{Attempts: 2, Last: &ConnectionError{Err: cause}}, &stream.ConnectionError{Op: "connect", Err: cause}},
		}
		for wname, w := range wrappers {
			if got, want := IsRetryable(w.core), stream.IsRetryable(w.same); got != want {
				t.Errorf("%s around %s: core.IsRetryable = %v, stream.IsRetryable = %v", wname, name, got, want)
			}
		}
		// fromStream's error and the stream error: one answer.
		if got, want := IsRetryable(fromStream(cause, "t", "e")), stream.IsRetryable(cause); got != want {
			t.Errorf("fromStream(%s): core.IsRetryable = %v, stream.IsRetryable = %v", name, got, want)
		}
	}
	// The documented answers for core's own wrappers of a final cause.
	for name, err := range map[string]error{
		"connection on a closed stream":   &ConnectionError{Err: stream.ErrClosed},
		"connection refused by proxy":     &ConnectionError{Err: &stream.AuthError{What: "proxy"}},
		"token on an unknown host":        &TokenRefreshError{Retryable: true, Err: causes["host"]},
		"transmission on an unknown host": &TransmissionError{Code: codes.Unavailable, Err: causes["host"]},
	} {
		if IsRetryable(err) {
			t.Errorf("%s: IsRetryable = true, want false", name)
		}
	}
}

package core

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// A retry budget spent on one failure carries one hint: the connection's
// own (what to check) for an endpoint that could not be reached, the retry
// hint where the server answered (it is unhealthy, retrying may help).
func TestRetryExhaustedCarriesOneHint(t *testing.T) {
	const retryHint = "(raise retry_max_attempts or check server health)"
	const reachHint = "(check the endpoint URL, network and TLS settings)"
	refused := &ConnectionError{Endpoint: "http://127.0.0.1:1", Err: &stream.ConnectionError{Op: "create",
		Err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")}}
	answered := &ConnectionError{Endpoint: "http://127.0.0.1:1", Err: &stream.ConnectionError{Op: "create", Answered: true,
		Err: &stream.ServerError{Code: codes.Unavailable, Message: "draining"}}}
	for _, tc := range []struct {
		name string
		last error
		hint string
	}{
		{"connection refused", refused, reachHint},
		{"server answered UNAVAILABLE", answered, retryHint},
		{"transmission failure", &TransmissionError{Code: codes.Unavailable, Err: errors.New("busy")}, retryHint},
	} {
		msg := (&RetryExhaustedError{Attempts: 5, Last: tc.last}).Error()
		hints := strings.Count(msg, retryHint) + strings.Count(msg, reachHint)
		if hints != 1 || !strings.HasSuffix(msg, tc.hint) {
			t.Errorf("%s: %q\nwant one hint, %s", tc.name, msg, tc.hint)
		}
	}
}

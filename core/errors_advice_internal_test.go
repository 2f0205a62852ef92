package core

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
)

// RESOURCE_EXHAUSTED is throttling, except when gRPC itself refused a
// message over its size limit: then the advice is the request size.
func TestResourceExhaustedAdvice(t *testing.T) {
	for _, tc := range []struct{ message, want, notWant string }{
		{"rate limit exceeded", "the server is throttling", "max_message_bytes"},
		{"grpc: received message larger than max (10046704 vs. 9437184)", "lower max_message_bytes", "throttling"},
	} {
		got := (&TransmissionError{Code: codes.ResourceExhausted, Message: tc.message}).Error()
		if !strings.Contains(got, tc.want) || strings.Contains(got, tc.notWant) {
			t.Errorf("Error() = %q; want it to say %q, not %q", got, tc.want, tc.notWant)
		}
	}
}

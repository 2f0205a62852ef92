package stream

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// gRPC's own size-limit refusals (grpc-go's texts, as the server or this
// client's gRPC produce them) are final; a RESOURCE_EXHAUSTED whose text only
// contains "larger than max" somewhere (a throttling message) is retried as
// throttling is: the check matched the words anywhere before.
func TestSizeLimitStatusMatchesGRPCTextsOnly(t *testing.T) {
	for msg, want := range map[string]bool{
		"grpc: received message larger than max (10046704 vs. 9437184)":                             true,
		"grpc: received message larger than max length allowed on current machine (5 vs. 4)":        true,
		"grpc: received message after decompression larger than max 4194304":                        true,
		"grpc: message after decompression larger than max (5000000 vs. 4194304)":                   true,
		"grpc: trying to send message larger than max (10046704 vs. 9437184)":                       true,
		"trying to send message larger than max (10046704 vs. 9437184)":                             true,
		"ingest quota: this request is larger than max burst allowed, retry later":                  false,
		"throttled: queue larger than max; grpc: received message larger than max is not the cause": false,
		"rate limit exceeded": false,
	} {
		if got := SizeLimitStatus(codes.ResourceExhausted, msg); got != want {
			t.Errorf("SizeLimitStatus(RESOURCE_EXHAUSTED, %q) = %t, want %t", msg, got, want)
		}
		if got := IsRetryable(status.Error(codes.ResourceExhausted, msg)); got == want {
			t.Errorf("IsRetryable(RESOURCE_EXHAUSTED %q) = %t, want %t", msg, got, !want)
		}
	}
	if SizeLimitStatus(codes.Internal, "grpc: received message larger than max (5 vs. 4)") {
		t.Error("SizeLimitStatus(INTERNAL, …) = true: only RESOURCE_EXHAUSTED is a size limit")
	}
}

package core

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// TestRetryRuleOneForBothLayers runs every gRPC code and the context errors
// through the stream layer's rule and through core's (on the error core
// makes of the stream error, and on a TransmissionError built directly) and
// checks that they agree and match the documented rule.
func TestRetryRuleOneForBothLayers(t *testing.T) {
	notRetryable := map[codes.Code]bool{
		codes.OK: true, codes.InvalidArgument: true, codes.Unauthenticated: true, codes.PermissionDenied: true,
		codes.OutOfRange: true, codes.Unimplemented: true, codes.NotFound: true,
	}
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		want := !notRetryable[c]
		if c == codes.Canceled && !want {
			t.Fatal("the rule says a CANCELED status from the server is retryable")
		}
		se := &stream.ServerError{Code: c, Message: "m"}
		got := map[string]bool{
			"stream.RetryableCode":            stream.RetryableCode(c),
			"stream.IsRetryable(ServerError)": stream.IsRetryable(se),
			"stream.IsRetryable(status)":      stream.IsRetryable(status.Error(c, "m")),
			"core.IsRetryable(fromStream)":    IsRetryable(fromStream(se, "t", "e")),
			"core.IsRetryable(status)":        IsRetryable(fromStream(status.Error(c, "m"), "t", "e")),
			"core.IsRetryable(Transmission)":  IsRetryable(&TransmissionError{Code: c}),
			"core.IsRetryable(exhausted)":     IsRetryable(&RetryExhaustedError{Attempts: 3, Last: &TransmissionError{Code: c}}),
		}
		if c == codes.OK { // status.Error(OK) is nil: nothing to retry
			delete(got, "stream.IsRetryable(status)")
			delete(got, "core.IsRetryable(status)")
		}
		for name, g := range got {
			if g != want {
				t.Errorf("%s for %s = %v, want %v", name, c, g, want)
			}
		}
		if k := KindOf(fromStream(se, "t", "e")); c != codes.OK && k != KindTransmission {
			t.Errorf("KindOf(server %s) = %s, want transmission", c, k)
		}
	}

	// The caller's context ending is never retryable, in either layer, even
	// when a retryable status (CANCELED, UNAVAILABLE) is in the same chain.
	ctxErrs := map[string]error{
		"canceled":                 context.Canceled,
		"deadline":                 context.DeadlineExceeded,
		"wrapped canceled":         fmt.Errorf("sending: %w", context.Canceled),
		"canceled + CANCELED":      errors.Join(&stream.ServerError{Code: codes.Canceled}, context.Canceled),
		"deadline + UNAVAILABLE":   errors.Join(&stream.ServerError{Code: codes.Unavailable}, context.DeadlineExceeded),
		"connection + canceled":    errors.Join(&stream.ConnectionError{Err: errors.New("x")}, context.Canceled),
		"exhausted, last canceled": &RetryExhaustedError{Attempts: 2, Last: context.Canceled},
	}
	for name, err := range ctxErrs {
		if stream.IsRetryable(err) {
			t.Errorf("stream.IsRetryable(%s) = true, want false", name)
		}
		if IsRetryable(err) || IsRetryable(fromStream(err, "t", "e")) {
			t.Errorf("core.IsRetryable(%s) = true, want false", name)
		}
		if !stream.ContextEnded(err) {
			t.Errorf("stream.ContextEnded(%s) = false", name)
		}
	}
	// A token request's timeout stays the token client's decision in both layers.
	for _, retryable := range []bool{true, false} {
		te := &stream.TokenError{URL: "u", Retryable: retryable, Err: context.DeadlineExceeded}
		if stream.IsRetryable(te) != retryable || IsRetryable(fromStream(te, "t", "e")) != retryable {
			t.Errorf("token timeout with Retryable=%v: stream %v, core %v", retryable, stream.IsRetryable(te), IsRetryable(fromStream(te, "t", "e")))
		}
	}
	// A certificate that fails verification is final in both layers, also
	// when it reaches them as the cause of another stream error; core makes
	// it a fatal *ConnectionError naming the host, the setting and tls_ca_file.
	cert := &stream.CertificateError{Host: "h.example", Setting: "Endpoint", Err: x509.UnknownAuthorityError{}}
	for name, err := range map[string]error{
		"certificate":         cert,
		"wrapped certificate": &stream.ConnectionError{Op: "create", Err: cert},
		"exhausted on it":     &stream.RetryExhaustedError{Attempts: 1, Last: cert},
	} {
		ce := fromStream(err, "t", "https://h.example")
		if stream.IsRetryable(err) || IsRetryable(ce) {
			t.Errorf("%s: stream %v, core %v; want not retryable", name, stream.IsRetryable(err), IsRetryable(ce))
		}
		if name != "exhausted on it" && (KindOf(ce) != KindConnection || !KindOf(ce).Fatal()) {
			t.Errorf("%s: kind %s", name, KindOf(ce))
		}
		if msg := ce.Error(); !strings.Contains(msg, "TLS handshake with h.example (endpoint) failed") || !strings.Contains(msg, "ZEROBUS_TLS_CA_FILE") {
			t.Errorf("%s: message %q", name, msg)
		}
	}
	if k := stream.ErrorKind(cert); k != "certificate" {
		t.Errorf("telemetry kind %q", k)
	}
	for _, err := range []error{context.Canceled, context.DeadlineExceeded, fmt.Errorf("x: %w", context.Canceled)} {
		if k := KindOf(fromStream(err, "t", "e")); k != KindCanceled {
			t.Errorf("KindOf(%v) = %s, want canceled", err, k)
		}
	}
}

// TestErrorKindsTable checks that ErrorKinds lists every kind once, that
// ErrorKind.Fatal reads it, and that the Retryable flag is true exactly for
// kinds that IsRetryable can accept.
func TestErrorKindsTable(t *testing.T) {
	want := []ErrorKind{KindConfiguration, KindAuthentication, KindConnection, KindConversion, KindTransmission,
		KindRetryExhausted, KindTokenRefresh, KindClosed, KindCanceled, KindUnknown}
	got := ErrorKinds()
	if len(got) != len(want) {
		t.Fatalf("ErrorKinds has %d kinds, want %d", len(got), len(want))
	}
	fatal := map[ErrorKind]bool{KindAuthentication: true, KindConfiguration: true, KindTokenRefresh: true,
		KindConnection: true, KindRetryExhausted: true, KindClosed: true, KindCanceled: true}
	for i, info := range got {
		if info.Kind != want[i] {
			t.Errorf("ErrorKinds()[%d] = %s, want %s", i, info.Kind, want[i])
		}
		if info.Fatal != fatal[info.Kind] || info.Kind.Fatal() != fatal[info.Kind] {
			t.Errorf("%s: Fatal = %v / %v, want %v", info.Kind, info.Fatal, info.Kind.Fatal(), fatal[info.Kind])
		}
	}
	got[0].Fatal = false
	if !KindConfiguration.Fatal() {
		t.Error("ErrorKinds returned the table itself, not a copy")
	}
	// A retryable example for every kind flagged Retryable, none for others.
	examples := map[ErrorKind]error{
		KindConfiguration:  &ConfigurationError{},
		KindAuthentication: &AuthenticationError{},
		KindConnection:     &ConnectionError{Err: errors.New("reset")},
		KindConversion:     &ConversionError{Row: 1},
		KindTransmission:   &TransmissionError{Code: codes.Unavailable},
		KindRetryExhausted: &RetryExhaustedError{Attempts: 1, Last: &ConnectionError{}},
		KindTokenRefresh:   &TokenRefreshError{StatusCode: 503, Retryable: true},
		KindClosed:         ErrClosed,
		KindCanceled:       context.Canceled,
		KindUnknown:        errors.New("other"),
	}
	for _, info := range got {
		err := examples[info.Kind]
		if KindOf(err) != info.Kind {
			t.Fatalf("example for %s has kind %s", info.Kind, KindOf(err))
		}
		if IsRetryable(err) != info.Retryable {
			t.Errorf("%s: IsRetryable(example) = %v, but the table says Retryable = %v", info.Kind, IsRetryable(err), info.Retryable)
		}
	}
	if KindUnknown.Fatal() || ErrorKind("nope").Fatal() {
		t.Error("unknown kinds must not be fatal")
	}
}

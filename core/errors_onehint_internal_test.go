package core

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/flightstream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

const retryHint = "(raise retry_max_attempts or check server health)"

// ownHints are the endings of the hints a failure's own message may carry
// (what to check or raise): a message has at most one of them, at its end.
var ownHints = []string{
	"(check the endpoint URL, network and TLS settings)",
	"(check the endpoint setting)",
	"(check the host name and tls_ca_file, env ZEROBUS_TLS_CA_FILE)",
	"to a PEM file of that CA)",
	"or check the network path to the endpoint)",
	"(check unity_catalog_url, network and TLS settings)",
	"(check unity_catalog_url, client_id and client_secret)",
}

func countHints(msg string) int {
	n := strings.Count(msg, retryHint)
	for _, h := range ownHints {
		n += strings.Count(msg, h)
	}
	return n
}

// A retry budget spent on one failure carries one hint: the connection's
// own (what to check) for an endpoint that could not be reached, the retry
// hint where the server answered (it is unhealthy, retrying may help).
// Every branch of ConnectionError's message is here: the rule that says
// whether it has a hint of its own is the message's own (describe), so
// this checks that the message and the rule agree for each.
func TestRetryExhaustedCarriesOneHint(t *testing.T) {
	const ep = "http://127.0.0.1:1"
	refused := &stream.ConnectionError{Op: "create", Err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")}
	for _, tc := range []struct {
		name   string
		last   error
		hinted bool   // the last failure's message has a hint of its own
		end    string // how the exhausted message ends
	}{
		{"connection refused", &ConnectionError{Endpoint: ep, Err: refused}, true,
			"(check the endpoint URL, network and TLS settings)"},
		{"no endpoint named, no cause", &ConnectionError{}, true,
			"cannot reach the Zerobus endpoint (check the endpoint URL, network and TLS settings)"},
		{"untrusted certificate in a plain cause", &ConnectionError{Endpoint: "https://h.example:443",
			Err: errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority")}, true,
			"to a PEM file of that CA)"},
		{"host not found", &ConnectionError{Endpoint: ep,
			Err: &stream.HostNotFoundError{Host: "nohost.invalid", Setting: "Endpoint", Err: errors.New("no such host")}}, true,
			"(check the endpoint setting)"},
		{"certificate failed", &ConnectionError{Endpoint: ep,
			Err: &stream.CertificateError{Host: "h.example", Setting: "Endpoint", Err: errors.New("x509: certificate has expired")}}, true,
			"to a PEM file of that CA)"},
		{"certificate failed, not x509", &ConnectionError{Endpoint: ep,
			Err: &stream.CertificateError{Host: "h.example", Setting: "Endpoint", Err: errors.New("handshake failure")}}, true,
			"(check the host name and tls_ca_file, env ZEROBUS_TLS_CA_FILE)"},
		{"ack timeout", &ConnectionError{Endpoint: ep, Err: stream.AckTimeoutError(time.Second, 3)}, true,
			"or check the network path to the endpoint)"},
		{"server answered UNAVAILABLE", &ConnectionError{Endpoint: ep, Err: &stream.ConnectionError{Op: "create", Answered: true,
			Err: &stream.ServerError{Code: codes.Unavailable, Message: "draining"}}}, false, retryHint},
		{"workspace answered 503", &ConnectionError{Endpoint: "the workspace",
			Err: &flightstream.CatalogError{Table: "a.b.c", Status: 503, Msg: "busy"}}, false, retryHint},
		{"workspace not reached", &ConnectionError{Endpoint: "the workspace",
			Err: &flightstream.CatalogError{Table: "a.b.c", Msg: "connection refused"}}, true,
			"(check the endpoint URL, network and TLS settings)"},
		// the workspace's token endpoint: F2 of the session 16 review (a dead
		// unity_catalog_url ended with the retry hint only)
		{"token endpoint refused", &TokenRefreshError{URL: ep + "/oidc/v1/token", Retryable: true,
			Err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")}, true,
			"connection refused (check unity_catalog_url, network and TLS settings)"},
		{"token endpoint answered 503", &TokenRefreshError{URL: ep + "/oidc/v1/token", StatusCode: 503, Retryable: true,
			Err: errors.New("response: busy")}, false, retryHint},
		{"token endpoint refused the credentials", &TokenRefreshError{URL: ep + "/oidc/v1/token", StatusCode: 401,
			Err: errors.New("invalid_client")}, true, "(check unity_catalog_url, client_id and client_secret)"},
		{"token request's context ended", &TokenRefreshError{URL: ep + "/oidc/v1/token", Retryable: true,
			Err: context.DeadlineExceeded}, false, retryHint},
		{"transmission failure", &TransmissionError{Code: codes.Unavailable, Err: errors.New("busy")}, false, retryHint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			own := tc.last.Error()
			if got := ownHint(tc.last); got != tc.hinted {
				t.Errorf("ownHint = %v, want %v: %q", got, tc.hinted, own)
			}
			if n := countHints(own); (n == 1) != tc.hinted || n > 1 {
				t.Errorf("the failure's own message has %d hints, want hinted=%v: %q", n, tc.hinted, own)
			}
			msg := (&RetryExhaustedError{Attempts: 5, Last: tc.last}).Error()
			if countHints(msg) != 1 || !strings.HasSuffix(msg, tc.end) {
				t.Errorf("%q\nwant one hint, at the end: %s", msg, tc.end)
			}
		})
	}
}

package core

import (
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// A connection that grpc-go could not open because the TLS handshake
// failed on the certificate (not recorded as a *stream.CertificateError)
// keeps the tls_ca_file hint, the message's only one.
func TestTransportTLSHint(t *testing.T) {
	err := &ConnectionError{Endpoint: "https://h.example:443", Err: &stream.ConnectionError{Op: "create", Err: &stream.TransportError{
		Dial: true, Cause: "TLS handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"}}}
	msg := err.Error()
	if !strings.HasSuffix(msg, "set tls_ca_file, env ZEROBUS_TLS_CA_FILE, to a PEM file of that CA)") || strings.Contains(msg, "check the endpoint URL") {
		t.Errorf("message %q", msg)
	}
	if !ownHint(&RetryExhaustedError{Attempts: 2, Last: err}) && !ownHint(err) {
		t.Error("ownHint = false")
	}
	if re := (&RetryExhaustedError{Attempts: 2, Last: err}).Error(); strings.Contains(re, "raise retry_max_attempts") {
		t.Errorf("second hint: %q", re)
	}
}

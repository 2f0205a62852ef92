package stream

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestUntrustedCertificateNotRetried: a server certificate the client does
// not trust fails OpenStream after one attempt with a *CertificateError
// (recorded at the handshake; gRPC reports only UNAVAILABLE), not
// retryable; once the server is gone, the next failure is the connection's
// again (retryable), not the old certificate.
func TestUntrustedCertificateNotRetried(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{TLS: true})
	cfg := e.config()
	cfg.Retry.MaxAttempts = 3
	c := e.client(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.OpenStream(ctx, testDescriptor(), zerobuspb.RecordType_PROTO)
	e.note(err)
	var ce *CertificateError
	if !errors.As(err, &ce) || ce.Host != "127.0.0.1" || ce.Setting != "Endpoint" || IsRetryable(err) || errorKind(err) != "certificate" {
		t.Fatalf("OpenStream: %v (%T), want a non-retryable *CertificateError for 127.0.0.1 (Endpoint)", err, err)
	}
	if !strings.Contains(err.Error(), "x509: certificate signed by unknown authority") {
		t.Errorf("message %q does not carry the verification error", err)
	}
	if n := strings.Count(e.logs.String(), "retrying"); n != 0 {
		t.Errorf("%d retries logged:\n%s", n, e.logs.String())
	}

	// gRPC itself reports the last connection error until its reconnect
	// backoff (about 1s) ends; after that no handshake happens, and the
	// certificate must not be reported again.
	_ = e.srv.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err = c.OpenStream(ctx, testDescriptor(), zerobuspb.RecordType_PROTO)
		e.note(err)
		if err == nil || !errors.As(err, &ce) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("OpenStream with the server gone still fails with the old certificate: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var re *RetryExhaustedError
	if !errors.As(err, &re) || !IsRetryable(re.Last) {
		t.Errorf("OpenStream with the server gone: %v, want retries exhausted on a retryable failure", err)
	}
}

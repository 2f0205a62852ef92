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

// TestS18CertificateErrorNamesKey: the stream's own certificate error (the
// text of its log lines) named Go fields, "(Endpoint)", "(WorkspaceURL)",
// "(Proxy)" (s18 tlsreal L3). It now names the keys: a real handshake with
// the TLS local server whose CA the client does not trust, once (no retry
// logged).
func TestS18CertificateErrorNamesKey(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{TLS: true})
	cfg := e.config()
	cfg.Retry.MaxAttempts = 3
	c := e.client(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.OpenStream(ctx, testDescriptor(), zerobuspb.RecordType_PROTO)
	e.note(err)
	var ce *CertificateError
	if !errors.As(err, &ce) || IsRetryable(err) {
		t.Fatalf("OpenStream: %v (%T), want a final *CertificateError", err, err)
	}
	if msg := ce.Error(); !strings.Contains(msg, "the TLS certificate of 127.0.0.1 (endpoint) failed verification") || strings.Contains(msg, "(Endpoint)") {
		t.Errorf("message %q does not name the key endpoint", msg)
	}
	if n := strings.Count(e.logs.String(), "retrying"); n != 0 {
		t.Errorf("%d retries logged", n)
	}
	for setting, key := range map[string]string{"Endpoint": "endpoint", "WorkspaceURL": "unity_catalog_url", "Proxy": "proxy_url", "HTTPS_PROXY": "HTTPS_PROXY"} {
		msg := (&CertificateError{Host: "h", Setting: setting, Err: errors.New("x509: boom")}).Error()
		if !strings.Contains(msg, "("+key+")") {
			t.Errorf("%s: %q does not name %s", setting, msg, key)
		}
		hn := (&HostNotFoundError{Host: "h", Setting: setting}).Error()
		if !strings.Contains(hn, "the name in "+key+" does not resolve") || !strings.HasSuffix(hn, "(check "+key+")") {
			t.Errorf("%s: %q does not name %s", setting, hn, key)
		}
	}
}

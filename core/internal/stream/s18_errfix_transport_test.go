package stream

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestTransportErrorText: grpc-go's own UNAVAILABLE texts for a connection
// that could not be opened or broke are cut to what happened; a server's
// message is no *TransportError (s18 review errors H1).
func TestTransportErrorText(t *testing.T) {
	for _, tc := range []struct{ status, want string }{
		{`connection error: desc = "transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused"`,
			"cannot connect to 127.0.0.1:1: connection refused"},
		{`connection error: desc = "transport: Error while dialing: dial tcp [::1]:9: i/o timeout"`,
			"cannot connect to [::1]:9: i/o timeout"},
		{`connection error: desc = "transport: Error while dialing: HTTP proxy http://u:[REDACTED]@127.0.0.1:3: CONNECT h:443: dial tcp 127.0.0.1:3: connect: connection refused"`,
			"cannot connect to the HTTP proxy 127.0.0.1:3: connection refused"},
		{`connection error: desc = "transport: Error while dialing: HTTP proxy http://127.0.0.1:3: CONNECT h:443: proxy answered 502 Bad Gateway"`,
			"the HTTP proxy failed: proxy answered 502 Bad Gateway"},
		{`error reading from server: EOF`, "the connection closed (EOF)"},
		{`connection error: desc = "error reading from server: read tcp 127.0.0.1:5->127.0.0.1:6: read: connection reset by peer"`,
			"the connection broke: connection reset by peer"},
		{`connection error: desc = "transport: authentication handshake failed: tls: first record does not look like a TLS handshake"`,
			"cannot connect: TLS handshake failed: tls: first record does not look like a TLS handshake"},
	} {
		te := transportError(tc.status)
		if te == nil {
			t.Errorf("%s: not a transport error", tc.status)
			continue
		}
		if got := te.Error(); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.status, got, tc.want)
		}
		if st := te.GRPCStatus(); st.Code() != codes.Unavailable || st.Message() != tc.status {
			t.Errorf("%s: status %v", tc.status, st)
		}
	}
	for _, msg := range []string{"pipeline busy", "the connection is draining", ""} {
		if te := transportError(msg); te != nil {
			t.Errorf("%q: %v, want nil (the server's text)", msg, te)
		}
	}
}

// TestRefusedProxyIsNamed: an endpoint reached through a proxy where
// nothing listens fails with a retryable *ConnectionError whose cause names
// the proxy's address and the refusal, not grpc-go's "connection error:
// desc = transport: ..." nor "server returned".
func TestRefusedProxyIsNamed(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	cfg := e.config()
	cfg.Proxy, _ = url.Parse("http://user:pw-s18-secret@" + addr)
	cfg.ClientID, cfg.ClientSecret = "", ""
	cfg.HeadersProvider = func(context.Context) (map[string]string, error) {
		return map[string]string{"authorization": "Bearer t"}, nil
	}
	cfg.Retry.MaxAttempts = 1
	c := e.client(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = c.OpenStream(ctx, testDescriptor(), zerobuspb.RecordType_PROTO)
	var te *TransportError
	if !errors.As(err, &te) || !te.Proxy || !te.Dial || te.Addr != addr || te.Cause != "connection refused" {
		t.Fatalf("err = %v (%#v), want a refused proxy at %s", err, te, addr)
	}
	msg := err.Error()
	for _, bad := range []string{"server returned", "desc =", "transport:", "pw-s18-secret"} {
		if strings.Contains(msg, bad) {
			t.Errorf("message has %q: %s", bad, msg)
		}
	}
	if !strings.Contains(msg, "cannot connect to the HTTP proxy "+addr+": connection refused") || !IsRetryable(te) {
		t.Errorf("message %q, retryable %t", msg, IsRetryable(te))
	}
	if status.Code(err) != codes.Unavailable {
		t.Errorf("status.Code = %v, want Unavailable", status.Code(err))
	}
}

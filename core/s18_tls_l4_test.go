package core_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestS18TLSPlainURLToTLSPort: an http:// unity_catalog_url pointed at a
// TLS HTTP port failed at once as "the token endpoint returned an unusable
// response (check unity_catalog_url): ... connection reset by peer"
// (tlsreal L4). It now says the server speaks TLS and to use https://,
// naming the key and the host:port; one connection (no retry).
func TestS18TLSPlainURLToTLSPort(t *testing.T) {
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{TLS: true, HTTPTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			fwd := newS18Forwarder(t, strings.TrimPrefix(srv.WorkspaceURL(), "https://"), nil)
			cfg := localConfig(srv, "main.default.s18_tls_l4")
			cfg.UnityCatalogURL = "http://" + fwd.addr()
			err := s18Send(t, cfg, tr)
			// net/http's TLS port answers 400 "Client sent an HTTP request
			// to an HTTPS server" or resets the connection while the body
			// is read: either way the same advice
			checkFinal(t, err, "unity_catalog_url", "unity_catalog_url is http:// but "+fwd.addr(), "use https:// in unity_catalog_url")
			checkText(t, err.Error(), nil, []string{"unusable response"})
			if n := fwd.conns.Load(); n != 1 {
				t.Errorf("the workspace saw %d connections, want 1 (no retry)", n)
			}
		})
	}
}

// TestS18TLSTokenBodyCut: a token response whose body is cut off (what a
// TLS port does to a plaintext request when it resets the connection
// instead of answering 400) was final as "an unusable response" (tlsreal
// L4). On an http:// unity_catalog_url it is final and asks whether the
// server is TLS; one connection.
func TestS18TLSTokenBodyCut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				_, _ = http.ReadRequest(bufio.NewReader(c))
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"access")
			}()
		}
	}()
	t.Cleanup(func() { _ = l.Close() })
	srv := localServer(t)
	cfg := localConfig(srv, "main.default.s18_tls_cut")
	cfg.UnityCatalogURL = "http://" + l.Addr().String()
	err = s18Send(t, cfg, core.TransportProtobuf)
	checkFinal(t, err, "unity_catalog_url", "unity_catalog_url is http:// but "+l.Addr().String()+
		" closed the connection while answering the token request: is the server TLS? use https:// in unity_catalog_url")
	if n := conns.Load(); n != 1 {
		t.Errorf("the token endpoint saw %d connections, want 1", n)
	}
}

// TestS18TLSTokenBodyCutHTTPSRetried: on an https:// unity_catalog_url a
// token body cut off is a transient break (no protocol mix-up is
// possible): retried, retryable in the end, naming no http:// advice.
func TestS18TLSTokenBodyCutHTTPSRetried(t *testing.T) {
	ca := newS18CA(t, "s18 cut CA")
	leaf := ca.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{leaf}})
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go func() {
				defer c.Close()
				_, _ = http.ReadRequest(bufio.NewReader(c))
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"access")
			}()
		}
	}()
	t.Cleanup(func() { _ = l.Close() })
	srv := localServer(t)
	cfg := localConfig(srv, "main.default.s18_tls_cut_https")
	cfg.UnityCatalogURL = "https://" + l.Addr().String()
	cfg.TLSCAFile = ca.file(t)
	cfg.RetryMaxAttempts = 2
	err = s18Send(t, cfg, core.TransportArrowFlight)
	checkText(t, err.Error(), []string{"gave up after"}, []string{"is the server TLS?", "use https://"})
	if !core.IsRetryable(err) {
		t.Errorf("IsRetryable(%v) = false, want a retryable break", err)
	}
	if n := conns.Load(); n < 2 {
		t.Errorf("the token endpoint saw %d connections, want a retry", n)
	}
}

package core_test

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// checkMismatch is checkFinal for a TLS/plaintext mismatch, whose message
// does not point at tls_ca_file or the network.
func checkMismatch(t *testing.T, err error, key string, want ...string) {
	t.Helper()
	checkFinal(t, err, key, want...)
	checkText(t, err.Error(), nil, []string{"tls_ca_file", "check the endpoint URL, network"})
}

// TestS18TLSPlaintextMismatchFinal: an https:// setting pointed at a
// plaintext port (the endpoint at the plaintext gRPC port, unity_catalog_url
// at the plaintext HTTP port) was retried in full (5 attempts, each with up
// to 4 token requests) and ended with "check the endpoint URL, network and
// TLS settings" (s18 review tlsreal M1). It now fails after one connection,
// naming the key and the host:port that answered plaintext, and says to
// use http://. On both transports.
func TestS18TLSPlaintextMismatchFinal(t *testing.T) {
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := localServer(t)

			// https:// endpoint -> the plaintext gRPC port
			fwd := newS18Forwarder(t, srv.Addr(), nil)
			cfg := localConfig(srv, "main.default.s18_tls_ep")
			cfg.Endpoint = "https://" + fwd.addr()
			err := s18Send(t, cfg, tr)
			checkMismatch(t, err, "endpoint",
				"TLS handshake with 127.0.0.1 (endpoint) failed: endpoint is https:// but "+fwd.addr()+" answered plaintext",
				"use http:// in endpoint for a local plaintext server")
			if n := fwd.conns.Load(); n != 1 {
				t.Errorf("the endpoint saw %d connections, want 1 (no retry)", n)
			}

			// https:// unity_catalog_url -> the plaintext HTTP port
			ws := strings.TrimPrefix(srv.WorkspaceURL(), "http://")
			fwd = newS18Forwarder(t, ws, nil)
			cfg = localConfig(srv, "main.default.s18_tls_ws")
			cfg.UnityCatalogURL = "https://" + fwd.addr()
			err = s18Send(t, cfg, tr)
			checkMismatch(t, err, "unity_catalog_url",
				"TLS handshake with 127.0.0.1 (unity_catalog_url) failed: unity_catalog_url is https:// but "+fwd.addr()+" answered plaintext HTTP, not TLS",
				"use http:// in unity_catalog_url for a local plaintext server")
			if n := fwd.conns.Load(); n != 1 {
				t.Errorf("the workspace saw %d connections, want 1 (no retry)", n)
			}

			// https:// proxy_url -> a plaintext port (the workspace's HTTP port)
			fwd = newS18Forwarder(t, ws, nil)
			cfg = localConfig(srv, "main.default.s18_tls_px")
			cfg.ProxyURL = "https://" + fwd.addr()
			err = s18Send(t, cfg, tr)
			checkMismatch(t, err, "proxy_url",
				"(proxy_url) failed: proxy_url is https:// but "+fwd.addr()+" answered plaintext",
				"use http:// in proxy_url")
			// protobuf reads the table's columns from Unity Catalog first
			// and, that read failing on the proxy (not on the workspace's
			// own URL), its stream asks for the token once more: 2
			if n, most := fwd.conns.Load(), map[string]int64{core.TransportProtobuf: 2, core.TransportArrowFlight: 1}[tr]; n < 1 || n > most {
				t.Errorf("the proxy saw %d connections, want 1..%d (no retry)", n, most)
			}
		})
	}
}

// TestS18TLSEndpointIsWorkspace: an endpoint pointed at the workspace's TLS
// HTTP port (a TLS server without HTTP/2) failed with "remote error: tls: no
// application protocol", retried 5 times (tlsreal M1). It now fails after
// one connection and asks whether endpoint is the workspace URL; Validate
// refuses an endpoint with unity_catalog_url's host:port outright.
func TestS18TLSEndpointIsWorkspace(t *testing.T) {
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{TLS: true, HTTPTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(srv.CACertPEM())

	cfg := localConfig(srv, "main.default.s18_tls_same")
	cfg.Endpoint = srv.WorkspaceURL()
	verr := cfg.Validate()
	if verr == nil {
		t.Fatal("Validate took an endpoint equal to unity_catalog_url")
	}
	checkText(t, verr.Error(), []string{"is the host:port of unity_catalog_url (the workspace URL): the Zerobus endpoint is https://<workspace-id>.zerobus."}, nil)
	if d := core.DetailsOf(verr); len(d.Keys) != 1 || d.Keys[0] != "endpoint" {
		t.Errorf("Validate keys %v, want [endpoint]", d.Keys)
	}

	// The same server behind another port (what Validate cannot see).
	ws := strings.TrimPrefix(srv.WorkspaceURL(), "https://")
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			fwd := newS18Forwarder(t, ws, nil)
			cfg := localConfig(srv, "main.default.s18_tls_same")
			cfg.Endpoint = "https://" + fwd.addr()
			cfg.Transport = tr
			w, err := core.New(context.Background(), cfg, core.WithRootCAs(pool))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close(context.Background())
			rec := telBatch(memory.NewGoAllocator(), 3)
			defer rec.Release()
			_, err = w.SendBatch(context.Background(), rec)
			if err == nil {
				t.Fatal("no error")
			}
			checkMismatch(t, err, "endpoint",
				"TLS handshake with 127.0.0.1 (endpoint) failed: endpoint is https:// and "+fwd.addr()+" speaks TLS, but not gRPC's HTTP/2",
				"is endpoint the workspace URL?")
			if n := fwd.conns.Load(); n != 1 {
				t.Errorf("the endpoint saw %d connections, want 1 (no retry)", n)
			}
		})
	}
}

// TestS18TLSPlaintextToTLSHint: an http:// endpoint pointed at a TLS gRPC
// port ends with the server closing the connection before its preface,
// which a transient drop also gives: it stays retryable, and its message
// now says "if the server speaks TLS, use https://" (tlsreal M1).
func TestS18TLSPlaintextToTLSHint(t *testing.T) {
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			cfg := localConfig(srv, "main.default.s18_tls_plain")
			cfg.Endpoint = "http://" + srv.Addr()
			cfg.RetryMaxAttempts = 2
			err := s18Send(t, cfg, tr)
			checkText(t, err.Error(), []string{"gave up after 2 attempts", "if the server speaks TLS, use https:// in endpoint"}, nil)
			if !core.IsRetryable(err) {
				t.Errorf("IsRetryable(%v) = false, want the EOF retryable", err)
			}
		})
	}
}

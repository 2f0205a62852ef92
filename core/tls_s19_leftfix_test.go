package core_test

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestHTTPProxyURLAtTLSProxyFinal: an http:// proxy_url pointed at a TLS
// proxy was retried in full (4–24 connections, "unexpected EOF"), unlike
// the other TLS/plaintext mix-ups (s18 tlsfix left it). It now fails after
// one failed request and one TLS handshake that asks the proxy whether it
// speaks TLS (2 connections), naming proxy_url and saying to use https://.
func TestHTTPProxyURLAtTLSProxyFinal(t *testing.T) {
	ca := newS18CA(t, "s19 proxy CA")
	leaf := ca.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := localServer(t)
			px := newS18ConnectProxy(t, &tls.Config{Certificates: []tls.Certificate{leaf}})
			cfg := localConfig(srv, "main.default.s19_http_px")
			cfg.ProxyURL = "http://" + px.addr()
			err := s18Send(t, cfg, tr)
			checkMismatch(t, err, "proxy_url",
				"zerobus: the proxy "+px.addr()+" (proxy_url) cut the plaintext request off: proxy_url is http:// but "+px.addr()+" speaks TLS",
				"use https:// in proxy_url")
			if n := px.conns.Load(); n != 2 {
				t.Errorf("the proxy saw %d connections, want 2 (the request and the probe: no retry)", n)
			}
		})
	}
}

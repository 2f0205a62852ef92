package core_test

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestS18TLSProxyCertNotRetried: an https:// proxy_url whose certificate
// this client does not trust made the token client retry (4-8 "token
// http: request failed; retrying" warnings) before the final error
// (tlsreal M2): go-retryablehttp's policy does not see the x509 error under
// proxyconnect. The proxy now sees one connection (protobuf: two, its
// Unity Catalog read and its stream's token each meet the proxy once), and
// the error names proxy_url.
func TestS18TLSProxyCertNotRetried(t *testing.T) {
	ca := newS18CA(t, "s18 proxy CA")
	leaf := ca.leaf(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := localServer(t)
			px := newS18ConnectProxy(t, &tls.Config{Certificates: []tls.Certificate{leaf}})
			cfg := localConfig(srv, "main.default.s18_tls_pxcert")
			cfg.ProxyURL = "https://" + px.addr()
			err := s18Send(t, cfg, tr)
			checkFinal(t, err, "proxy_url", "TLS handshake with 127.0.0.1 (proxy_url) failed", "signed by unknown authority",
				"the certificate's issuer: CN=s18 proxy CA")
			if n, most := px.conns.Load(), map[string]int64{core.TransportProtobuf: 2, core.TransportArrowFlight: 1}[tr]; n < 1 || n > most {
				t.Errorf("the proxy saw %d connections, want 1..%d (no retry)", n, most)
			}
		})
	}
}

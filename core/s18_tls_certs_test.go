package core_test

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestS18TLSCertValidityHint: a certificate outside its validity period
// was reported with "check the host name; for a private CA set
// tls_ca_file", neither of which helps (tlsreal L1). It now says to check
// the clock or renew the certificate, naming the host and the key; one
// connection.
func TestS18TLSCertValidityHint(t *testing.T) {
	ca := newS18CA(t, "s18 validity CA")
	caFile := ca.file(t)
	now := time.Now()
	for name, leaf := range map[string]tls.Certificate{
		"expired": ca.leaf(t, now.Add(-48*time.Hour), now.Add(-24*time.Hour)),
		"notyet":  ca.leaf(t, now.Add(24*time.Hour), now.Add(48*time.Hour)),
	} {
		for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
			t.Run(name+"/"+tr, func(t *testing.T) {
				srv := localServer(t)
				ws := strings.TrimPrefix(srv.WorkspaceURL(), "http://")
				term := newS18Forwarder(t, ws, &tls.Config{Certificates: []tls.Certificate{leaf}})
				cfg := localConfig(srv, "main.default.s18_tls_valid")
				cfg.UnityCatalogURL = "https://" + term.addr()
				cfg.TLSCAFile = caFile
				err := s18Send(t, cfg, tr)
				checkFinal(t, err, "unity_catalog_url", "TLS handshake with 127.0.0.1 (unity_catalog_url) failed",
					"certificate has expired or is not yet valid",
					"(the TLS certificate of 127.0.0.1 is outside its validity period: check this machine's clock, or renew the server's certificate)")
				checkText(t, err.Error(), nil, []string{"check the host name", "set tls_ca_file"})
				if n := term.conns.Load(); n != 1 {
					t.Errorf("the workspace saw %d connections, want 1 (no retry)", n)
				}
			})
		}
	}
}

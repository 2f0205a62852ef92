package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestS18TLSWrongCAFile: a tls_ca_file that holds another CA than the one
// that signed the server's certificate was answered with only "set
// tls_ca_file" (tlsreal L2). The message now names the certificate's
// issuer and says that a tls_ca_file that is set does not hold it.
func TestS18TLSWrongCAFile(t *testing.T) {
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{TLS: true, HTTPTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	other := newS18CA(t, "s18 other CA")
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			fwd := newS18Forwarder(t, strings.TrimPrefix(srv.WorkspaceURL(), "https://"), nil)
			cfg := localConfig(srv, "main.default.s18_tls_wrongca")
			cfg.UnityCatalogURL = "https://" + fwd.addr()
			cfg.TLSCAFile = other.file(t)
			err := s18Send(t, cfg, tr)
			checkFinal(t, err, "unity_catalog_url", "TLS handshake with 127.0.0.1 (unity_catalog_url) failed",
				"the certificate's issuer: CN=zerobuslocal test CA", "does not hold the CA that signed it")
			if n := fwd.conns.Load(); n != 1 {
				t.Errorf("the workspace saw %d connections, want 1 (no retry)", n)
			}
		})
	}
}

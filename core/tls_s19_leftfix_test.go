package core_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestWrongCAFileNamed: a certificate signed by a CA that the tls_ca_file
// does not hold was answered with "when tls_ca_file is set, that file does
// not hold the CA", not naming the file the user set (s18 tlsfix left it).
// The hint now names the file and says it replaces the system roots, for
// the endpoint (gRPC) and the workspace (HTTP) on both transports; with no
// tls_ca_file the hint names no file.
func TestWrongCAFileNamed(t *testing.T) {
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{TLS: true, HTTPTLS: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	caFile := newS18CA(t, "s19 other CA").file(t)
	named := fmt.Sprintf("signed by a CA this client does not trust: tls_ca_file %q does not hold the CA that signed it, "+
		"and it replaces the system roots: add that CA to the file", caFile)
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			// the workspace's certificate (the token request comes first)
			cfg := localConfig(srv, "main.default.s19_wrongca")
			cfg.TLSCAFile = caFile
			err := s18Send(t, cfg, tr)
			checkFinal(t, err, "unity_catalog_url", "(unity_catalog_url) failed", named,
				"the certificate's issuer: CN=zerobuslocal test CA")

			// the endpoint's certificate (gRPC), the workspace's requests
			// made by a client of the caller's that trusts it
			pool := x509.NewCertPool()
			pool.AppendCertsFromPEM(srv.CACertPEM())
			httpc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
			cfg.Transport = tr
			w, err := core.New(context.Background(), cfg, core.WithHTTPClient(httpc))
			if err != nil {
				t.Fatal(err)
			}
			rec := telBatch(memory.NewGoAllocator(), 3)
			defer rec.Release()
			_, err = w.SendBatch(context.Background(), rec)
			_ = w.Close(context.Background())
			checkFinal(t, err, "endpoint", "(endpoint)", named)

			// no tls_ca_file: no file is named
			cfg = localConfig(srv, "main.default.s19_wrongca")
			err = s18Send(t, cfg, tr)
			checkFinal(t, err, "unity_catalog_url", "signed by a CA this client does not trust")
			checkText(t, err.Error(), nil, []string{"replaces the system roots", "tls_ca_file \""})
		})
	}
}

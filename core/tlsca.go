package core

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// maxCAFileBytes bounds the CA file New reads (a bundle of a few hundred
// certificates is well under it).
const maxCAFileBytes = 16 << 20

// loadCAFile reads the PEM file of Config.TLSCAFile: every CERTIFICATE block
// must parse, other blocks are ignored, and at least one certificate is
// required. The message names the file and what is wrong with it.
func loadCAFile(path string) ([]*x509.Certificate, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the CA file %q: %s", path, causeText(err))
	}
	if info.IsDir() {
		return nil, fmt.Errorf("%q is a directory, not a PEM file of CA certificates", path)
	}
	if info.Size() > maxCAFileBytes {
		return nil, fmt.Errorf("the CA file %q is %d bytes; a PEM file of CA certificates is at most %d", path, info.Size(), maxCAFileBytes)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read the CA file %q: %s", path, causeText(err))
	}
	var certs []*x509.Certificate
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d in the CA file %q is not valid: %s", n, path, err)
		}
		certs = append(certs, cert)
	}
	if n == 0 {
		return nil, fmt.Errorf("the CA file %q holds no PEM certificate (expected \"-----BEGIN CERTIFICATE-----\" blocks)", path)
	}
	return certs, nil
}

// rootCAs is the pool New verifies servers with: the WithRootCAs pool, the
// TLSCAFile certificates, or both together; nil (the system roots) when
// neither is given.
func rootCAs(opt *x509.CertPool, file string) (*x509.CertPool, error) {
	if file == "" {
		return opt, nil
	}
	certs, err := loadCAFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if opt != nil {
		pool = opt.Clone()
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// withRootCAs makes tr verify servers (and an https proxy) with pool; nil
// keeps the system roots.
func withRootCAs(tr *http.Transport, pool *x509.CertPool) *http.Transport {
	if pool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return tr
}

// untrustedCertHint returns advice naming the host of rawURL and what to
// do when msg reports a TLS handshake that fails on every attempt: a server
// certificate that failed verification (tls_ca_file, the clock, the host
// name), or an https:// setting answered in plaintext or by a server
// without HTTP/2 (stream.TLSMismatchError: use http://, check the URL); ""
// otherwise. The TLS stack's error reaches here as text (gRPC statuses and
// redacted token errors keep no chain), so the check is on the x509 /
// crypto/tls wording and on stream's own.
//
// caFile is the tls_ca_file the certificate was verified with ("" when none
// or not known): an unknown authority's hint then names it and says that it
// replaces the system roots (a file holding only a proxy's CA fails a public
// workspace's certificate).
func untrustedCertHint(rawURL, msg, caFile string) string {
	if h := stream.TLSMismatchHint(msg); h != "" {
		return " (" + h + ")"
	}
	unknownCA := strings.Contains(msg, "x509: certificate signed by unknown authority")
	if !unknownCA && !strings.Contains(msg, "x509: ") && !strings.Contains(msg, "tls: failed to verify certificate") {
		return ""
	}
	host := rawURL
	if u, err := url.Parse(rawURL); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	if host == "" {
		host = "the server"
	}
	switch {
	case unknownCA && caFile != "":
		return fmt.Sprintf(" (the TLS certificate of %s is signed by a CA this client does not trust: tls_ca_file %q does not hold the CA that signed it, "+
			"and it replaces the system roots: add that CA to the file (with the system's CA bundle too, to keep trusting public servers), "+
			"or set tls_ca_file, env ZEROBUS_TLS_CA_FILE, to a PEM file that holds it)", host, caFile)
	case unknownCA:
		return fmt.Sprintf(" (the TLS certificate of %s is signed by a CA this client does not trust; when tls_ca_file is set, that file does not hold the CA that signed it: set tls_ca_file, env ZEROBUS_TLS_CA_FILE, to a PEM file of that CA)", host)
	case strings.Contains(msg, "certificate has expired or is not yet valid"):
		return fmt.Sprintf(" (the TLS certificate of %s is outside its validity period: check this machine's clock, or renew the server's certificate)", host)
	}
	return fmt.Sprintf(" (the TLS certificate of %s was not accepted: check the host name; for a private CA set tls_ca_file, env ZEROBUS_TLS_CA_FILE, to a PEM file of that CA)", host)
}

// certCAFile is the CAFile of the *stream.CertificateError in err's chain
// ("" when there is none).
func certCAFile(err error) string {
	var cf *stream.CertificateError
	if errors.As(err, &cf) {
		return cf.CAFile
	}
	return ""
}

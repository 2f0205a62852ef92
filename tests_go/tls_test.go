package tests_go

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// tlsServer starts a local server with TLS on gRPC and on the HTTP side
// (token endpoint, Unity Catalog, inspection), and writes its CA to a file.
func tlsServer(t *testing.T) (*zerobuslocal.Server, string) {
	t.Helper()
	srv := startServer(t, zerobuslocal.Options{TLS: true, HTTPTLS: true})
	if !strings.HasPrefix(srv.Endpoint(), "https://") || !strings.HasPrefix(srv.WorkspaceURL(), "https://") {
		t.Fatalf("endpoint %s / workspace %s are not TLS", srv.Endpoint(), srv.WorkspaceURL())
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, srv.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

// TestTLSCAFileYAMLAndEnv: tls_ca_file from YAML and from
// ZEROBUS_TLS_CA_FILE makes the Wrapper trust the local server's CA for the
// token request, the gRPC stream, the Unity Catalog request and the Flight
// RPC (both transports), and every row lands.
func TestTLSCAFileYAMLAndEnv(t *testing.T) {
	srv, ca := tlsServer(t)
	for i, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.tls_" + transport
		yaml := fmt.Sprintf("endpoint: %s\nunity_catalog_url: %s\ntable_name: %s\nclient_id: %s\nclient_secret: ${SECRET}\ntransport: %s\nretry_max_attempts: 1\n",
			srv.Endpoint(), srv.WorkspaceURL(), table, srv.ClientID(), transport)
		env := map[string]string{"SECRET": srv.ClientSecret()}
		if i == 0 {
			yaml += "tls_ca_file: " + ca + "\n"
		} else {
			env["ZEROBUS_TLS_CA_FILE"] = ca
		}
		path := filepath.Join(t.TempDir(), "zerobus.yaml")
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
		cfg, err := core.LoadConfigYAMLEnv(path, lookup)
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.ApplyEnv(lookup); err != nil {
			t.Fatal(err)
		}
		if cfg.TLSCAFile != ca {
			t.Fatalf("%s: TLSCAFile = %q, want %q", transport, cfg.TLSCAFile, ca)
		}
		w := newWrapper(t, cfg)
		rec := eventBatch(memory.DefaultAllocator, 0, 25)
		res, err := w.SendBatch(testCtx(t), rec)
		rec.Release()
		if err != nil || res.SuccessfulCount != 25 {
			t.Fatalf("%s: SendBatch over TLS: %v %v", transport, res, err)
		}
		ids := storedIDs(t, srv, table)
		for id := range int64(25) {
			if ids[id] != 1 {
				t.Fatalf("%s: id %d stored %d times (%d ids)", transport, id, ids[id], len(ids))
			}
		}
	}
	if f, p := streamsByTransport(srv); f != 1 || p != 1 {
		t.Fatalf("flight streams %d, protobuf streams %d; want 1 and 1", f, p)
	}
}

// TestTLSCAFileWithRootCAs: the option and the setting are combined; the
// server is trusted when either of them holds its CA.
func TestTLSCAFileWithRootCAs(t *testing.T) {
	srv, ca := tlsServer(t)
	other := startServer(t, zerobuslocal.Options{TLS: true}) // a different generated CA
	otherFile := filepath.Join(t.TempDir(), "other.pem")
	if err := os.WriteFile(otherFile, other.CACertPEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	pool := func(pem []byte) *x509.CertPool {
		p := x509.NewCertPool()
		if !p.AppendCertsFromPEM(pem) {
			t.Fatal("no CA certificate")
		}
		return p
	}
	for name, c := range map[string]struct {
		opt  *x509.CertPool
		file string
	}{
		"right file, other option": {pool(other.CACertPEM()), ca},
		"right option, other file": {pool(srv.CACertPEM()), otherFile},
	} {
		table := "main.default.tls_" + strings.ReplaceAll(strings.ReplaceAll(name, " ", "_"), ",", "")
		cfg := serverConfig(srv, table)
		cfg.TLSCAFile = c.file
		w := newWrapper(t, cfg, core.WithRootCAs(c.opt))
		rec := eventBatch(memory.DefaultAllocator, 0, 5)
		res, err := w.SendBatch(testCtx(t), rec)
		rec.Release()
		if err != nil || res.SuccessfulCount != 5 || len(storedIDs(t, srv, table)) != 5 {
			t.Fatalf("%s: %v %v", name, res, err)
		}
	}
}

// TestTLSCAFileErrors: New refuses a CA file it cannot use, naming the key
// and the file.
func TestTLSCAFileErrors(t *testing.T) {
	srv, _ := tlsServer(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]struct{ path, want string }{
		"missing":   {filepath.Join(dir, "nope.pem"), "cannot read the CA file"},
		"directory": {dir, "is a directory"},
		"not PEM":   {write("text.pem", "hello\n"), "holds no PEM certificate"},
		"key only":  {write("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), "holds no PEM certificate"},
		"bad cert":  {write("bad.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "certificate 1 in the CA file"},
	}
	for name, c := range cases {
		cfg := serverConfig(srv, "main.default.t")
		cfg.TLSCAFile = c.path
		_, err := core.New(context.Background(), cfg)
		var ce *core.ConfigurationError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: err = %v, want *ConfigurationError", name, err)
		}
		msg := err.Error()
		for _, want := range []string{"TLSCAFile", "tls_ca_file", "ZEROBUS_TLS_CA_FILE", c.path, c.want} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: %q does not mention %q", name, msg, want)
			}
		}
		if byKey := core.ByKeyError(err).Error(); !strings.Contains(byKey, "tls_ca_file (env ZEROBUS_TLS_CA_FILE when loading from the environment)") {
			t.Errorf("%s: by key: %q", name, byKey)
		}
	}
	// Writer disabled: nothing is sent, so the file is not read.
	cfg := core.DefaultConfig()
	cfg.TableName, cfg.WriterDisabled, cfg.TLSCAFile = "main.default.t", true, filepath.Join(dir, "nope.pem")
	w, err := core.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("writer disabled: %v", err)
	}
	_ = w.Close(context.Background())
}

// TestTLSWithoutCA: without the CA the send fails at once, with default
// retry settings, on both transports: a *ConnectionError that is not
// retryable, naming the host and the setting, after one attempt, whether
// the token request (HTTPS workspace), the Unity Catalog request (Flight
// with a headers provider) or the gRPC stream meets the certificate first.
func TestTLSWithoutCA(t *testing.T) {
	headers := core.WithHeadersProvider(func(context.Context) (map[string]string, error) {
		return map[string]string{"authorization": "Bearer unused"}, nil
	})
	type tc struct {
		name      string
		transport string
		httpTLS   bool
		opts      []core.Option
		setting   string // the key the message and ErrorDetails.Keys name
		creations int    // "stream creation failed" records (0: the certificate is met before an RPC)
	}
	var cases []tc
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		// The token is fetched first for the catalog request (both
		// transports read the table's columns before the first stream).
		cases = append(cases,
			tc{tr + " grpc", tr, false, nil, "endpoint", 1},
			tc{tr + " token", tr, true, nil, "unity_catalog_url", 0},
		)
	}
	cases = append(cases, tc{"arrow_flight unity catalog", core.TransportArrowFlight, true, []core.Option{headers}, "unity_catalog_url", 0})
	for _, c := range cases {
		srv := startServer(t, zerobuslocal.Options{TLS: true, HTTPTLS: c.httpTLS})
		table := "main.default.tls_no_ca"
		cfg := serverConfig(srv, table)
		def := core.DefaultConfig()
		cfg.RetryMaxAttempts, cfg.RetryBaseDelay, cfg.RetryMaxDelay = def.RetryMaxAttempts, def.RetryBaseDelay, def.RetryMaxDelay
		cfg.Transport = c.transport
		logs := &lockedBuffer{}
		// Default retry settings; the backoff only records that it was asked
		// for a delay (a retry would ask before it waits).
		var backoffs atomic.Int32
		backoff := core.WithRetryBackoff(func(int, time.Duration, time.Duration) time.Duration {
			backoffs.Add(1)
			return 0
		})
		opts := append([]core.Option{backoff, core.WithLogger(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))}, c.opts...)
		w, err := core.New(context.Background(), cfg, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.Close(context.Background()) })
		rec := eventBatch(memory.DefaultAllocator, 0, 3)
		start := time.Now()
		res, err := w.SendBatch(testCtx(t), rec)
		elapsed := time.Since(start)
		rec.Release()
		if err == nil {
			t.Fatalf("%s: SendBatch without the CA succeeded: %v", c.name, res)
		}
		msg := err.Error()
		t.Logf("%s: error after %v: %s", c.name, elapsed, msg)
		for _, want := range []string{"TLS handshake with 127.0.0.1 (" + c.setting + ")", "127.0.0.1 is signed by a CA this client does not trust", "set tls_ca_file, env ZEROBUS_TLS_CA_FILE"} {
			if !strings.Contains(msg, want) {
				t.Errorf("%s: error %q does not mention %q", c.name, msg, want)
			}
		}
		if strings.Contains(msg, "raise retry_max_attempts") || strings.Contains(msg, "gave up after") {
			t.Errorf("%s: error %q was retried", c.name, msg)
		}
		var ce *core.ConnectionError
		if !errors.As(err, &ce) || core.KindOf(err) != core.KindConnection || core.IsRetryable(err) || !core.KindOf(err).Fatal() {
			t.Errorf("%s: error %T kind %s retryable %v; want a fatal, not retryable *ConnectionError", c.name, err, core.KindOf(err), core.IsRetryable(err))
		}
		d := core.DetailsOf(err)
		if d.Retryable || d.Attempts != 0 || strings.Join(d.Keys, ",") != "tls_ca_file,"+c.setting {
			t.Errorf("%s: details retryable %v attempts %d keys %v", c.name, d.Retryable, d.Attempts, d.Keys)
		}
		// One attempt: no retry was logged, one creation (or none, when the
		// catalog request met the certificate first) and at most one token request.
		text := logs.String()
		if n := strings.Count(text, "retrying"); n != 0 {
			t.Errorf("%s: %d retries logged:\n%s", c.name, n, text)
		}
		if n := strings.Count(text, "stream creation failed"); n != c.creations {
			t.Errorf("%s: %d stream creations failed, want %d:\n%s", c.name, n, c.creations, text)
		}
		if n := strings.Count(text, "token http: performing request"); n > 1 {
			t.Errorf("%s: %d token requests:\n%s", c.name, n, text)
		}
		// No retry delay was asked for. (A wall-clock bound stood here: the
		// default backoff, base 100ms and 5 retries, waits ~1.5s on average,
		// but a loaded machine took a second without any retry.) A generous
		// bound still catches an RPC left waiting for the connection until
		// its context ends.
		if n := backoffs.Load(); n != 0 {
			t.Errorf("%s: %d retry delays asked for, want none", c.name, n)
		}
		if elapsed > 30*time.Second {
			t.Errorf("%s: failed after %v, want at once", c.name, elapsed)
		}
		if n := srv.RecordCount(table); n != 0 {
			t.Errorf("%s: %d rows stored", c.name, n)
		}
	}
}

// TestTLSCAFileTrustsHTTPSProxy: an https:// proxy is verified with
// tls_ca_file on both paths (the token client and the gRPC CONNECT dialer).
// The proxy refuses with 407: reaching that answer proves the TLS handshake
// with the proxy succeeded; without the file the handshake fails instead.
func TestTLSCAFileTrustsHTTPSProxy(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	var seen atomic.Int32
	proxy := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		http.Error(w, "proxy credentials required", http.StatusProxyAuthRequired)
	}))
	proxy.Config.ErrorLog = log.New(io.Discard, "", 0) // the untrusted cases' handshake failures
	proxy.StartTLS()
	t.Cleanup(proxy.Close)
	caFile := filepath.Join(t.TempDir(), "proxy-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: proxy.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	headers := core.WithHeadersProvider(func(context.Context) (map[string]string, error) {
		return map[string]string{"authorization": "Bearer unused"}, nil
	})
	for _, path := range []struct {
		name string
		opts []core.Option
	}{{"token request", nil}, {"gRPC connection", []core.Option{headers}}} {
		for _, trusted := range []bool{true, false} {
			cfg := serverConfig(srv, "main.default.https_proxy")
			cfg.ProxyURL = "https://" + proxy.Listener.Addr().String()
			cfg.RetryMaxAttempts = 1
			if trusted {
				cfg.TLSCAFile = caFile
			}
			before := seen.Load()
			w := newWrapper(t, cfg, path.opts...)
			rec := eventBatch(memory.DefaultAllocator, 0, 2)
			_, err := w.SendBatch(testCtx(t), rec)
			rec.Release()
			if err == nil {
				t.Fatalf("%s, trusted %v: SendBatch through a refusing proxy succeeded", path.name, trusted)
			}
			reached := seen.Load() > before
			if reached != trusted || strings.Contains(err.Error(), "407 Proxy Authentication Required") != trusted {
				t.Errorf("%s, trusted %v: proxy reached %v, error %v", path.name, trusted, reached, err)
			}
			// The proxy's certificate is named as the proxy's, and is final.
			if want := "TLS handshake with 127.0.0.1 (proxy_url) failed"; !trusted && (!strings.Contains(err.Error(), want) || core.IsRetryable(err)) {
				t.Errorf("%s: error %q (retryable %v) does not say %q", path.name, err, core.IsRetryable(err), want)
			}
		}
	}
}

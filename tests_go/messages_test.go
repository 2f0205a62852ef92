package tests_go

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// checkMessage fails for each of want that msg lacks and each of bad it
// holds, and when it repeats the "zerobus:" prefix.
func checkMessage(t *testing.T, msg string, want, bad []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q: %s", w, msg)
		}
	}
	for _, b := range bad {
		if strings.Contains(msg, b) {
			t.Errorf("error mentions %q: %s", b, msg)
		}
	}
	checkOnePrefix(t, msg)
}

// checkOnePrefix fails when msg repeats the "zerobus:" prefix of nested
// errors ("zerobus: … zerobus: …").
func checkOnePrefix(t *testing.T, msg string) {
	t.Helper()
	if n := strings.Count(msg, "zerobus:"); n != 1 {
		t.Errorf("%d \"zerobus:\" prefixes, want 1: %s", n, msg)
	}
}

// TestProxy407SaysProxyAuthentication: a proxy refusing with 407, on the
// token request or on the gRPC tunnel, fails at once (no retries) with an
// authentication error about the proxy, not the client secret.
func TestProxy407SaysProxyAuthentication(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	for _, tc := range []struct {
		name string
		opts []core.Option
	}{
		{"token request", nil},
		{"gRPC tunnel", []core.Option{core.WithHeadersProvider(func(context.Context) (map[string]string, error) {
			return map[string]string{"authorization": "Bearer unused"}, nil
		})}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := refusingProxy(t)
			cfg := serverConfig(srv, "main.default.proxy407")
			cfg.ProxyURL = "http://proxy-user:pw-1234@" + addr
			w := newWrapper(t, cfg, tc.opts...)
			rec := eventBatch(memory.DefaultAllocator, 0, 3)
			defer rec.Release()
			_, err := w.SendBatch(testCtx(t), rec)
			if err == nil {
				t.Fatal("no error through a refusing proxy")
			}
			msg := err.Error()
			checkMessage(t, msg, []string{"proxy authentication failed", "407 Proxy Authentication Required", addr, "proxy URL"}, []string{"client_secret", "ClientSecret", "gave up", "server health"})
			if core.KindOf(err) != core.KindAuthentication || core.IsRetryable(err) {
				t.Errorf("kind %s, retryable %v; want authentication, not retryable", core.KindOf(err), core.IsRetryable(err))
			}
		})
	}
}

// TestTableHeaderMismatchNamesTheHeader: a HeadersProvider whose table-name
// header names another table fails with a message about that header and
// both tables, not about the Arrow schema, and is not retried.
func TestTableHeaderMismatchNamesTheHeader(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table, other = "main.default.header_a", "main.default.header_b"
	cfg := serverConfig(srv, table)
	w := newWrapper(t, cfg, core.WithHeadersProvider(func(context.Context) (map[string]string, error) {
		return map[string]string{
			"authorization":                   "Bearer " + srv.IssueToken(other, time.Hour),
			"x-databricks-zerobus-table-name": other,
		}, nil
	}))
	rec := eventBatch(memory.DefaultAllocator, 0, 3)
	defer rec.Release()
	_, err := w.SendBatch(testCtx(t), rec)
	if err == nil {
		t.Fatal("no error with a mismatched table-name header")
	}
	msg := err.Error()
	checkMessage(t, msg, []string{"x-databricks-zerobus-table-name", table, other, "HeadersProvider"}, []string{"Arrow schema", "gave up"})
	if core.IsRetryable(err) {
		t.Errorf("retryable: %v", err)
	}
	if n := srv.RecordCount(table) + srv.RecordCount(other); n != 0 {
		t.Errorf("%d rows stored", n)
	}
}

// TestNestedErrorsHaveOnePrefix: errors that wrap other errors of the
// library (rows failed in a partly failed batch, retries exhausted on a
// connection) carry the "zerobus:" prefix once.
func TestNestedErrorsHaveOnePrefix(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	w := newWrapper(t, serverConfig(srv, "main.default.prefix"))
	rec := eventBatch(memory.DefaultAllocator, 0, 4)
	defer rec.Release()
	res, err := w.SendBatch(testCtx(t), rec)
	if err != nil || res.FailedCount != 0 {
		t.Fatalf("clean batch: %v", err)
	}

	cfg := serverConfig(srv, "main.default.prefix")
	cfg.Endpoint = "http://127.0.0.1:1" // nothing listens on port 1
	cfg.RetryMaxAttempts = 2
	w2 := newWrapper(t, cfg)
	_, err = w2.SendBatch(testCtx(t), rec)
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	if !strings.Contains(err.Error(), "gave up after") {
		t.Errorf("error %v, want retries exhausted", err)
	}
	checkOnePrefix(t, err.Error())
}

// TestServerUnavailableIsNotCannotReach: a server that answers a stream's
// creation with UNAVAILABLE was reached: the error says it answered that it
// is unavailable, without the "cannot reach ... check the endpoint URL,
// network and TLS settings" advice, on both transports; a port where nothing
// listens still gets that advice.
func TestServerUnavailableIsNotCannotReach(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.unavailable_" + transport
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Unavailable,
				Message: "pipeline busy", Persistent: true})
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			cfg.RetryMaxAttempts = 2
			w := newWrapper(t, cfg)
			rec := eventBatch(memory.DefaultAllocator, 0, 3)
			defer rec.Release()
			_, err := w.SendBatch(testCtx(t), rec)
			if err == nil {
				t.Fatal("no error from a server answering UNAVAILABLE")
			}
			msg := err.Error()
			checkMessage(t, msg, []string{srv.Endpoint() + " answered that it is unavailable", "pipeline busy", "gave up after 2 attempts"}, []string{"cannot reach", "check the endpoint URL"})
			if core.KindOf(err) != core.KindRetryExhausted {
				t.Errorf("kind %s, want retry_exhausted", core.KindOf(err))
			}
		})
	}
	t.Run("nothing listening", func(t *testing.T) {
		srv := startServer(t, zerobuslocal.Options{})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := "http://" + l.Addr().String()
		_ = l.Close()
		cfg := serverConfig(srv, "main.default.unreachable")
		cfg.Endpoint = closed
		cfg.RetryMaxAttempts = 2
		w := newWrapper(t, cfg)
		rec := eventBatch(memory.DefaultAllocator, 0, 3)
		defer rec.Release()
		_, err = w.SendBatch(testCtx(t), rec)
		if err == nil || !strings.Contains(err.Error(), "cannot reach "+closed) || strings.Contains(err.Error(), "answered") {
			t.Errorf("closed port: %v, want 'cannot reach %s'", err, closed)
		}
	})
}

// TestTokenFailureNamesTheURLOnce: a token endpoint that keeps answering
// 503, or a workspace where nothing listens, gives one clause per fact:
// "token request failed at <URL> (HTTP 503): <error> (<description>)" and
// "token request failed at <URL>: dial tcp ...: connection refused". It was
// "token request failed at URL (HTTP 503): token request to URL failed: HTTP
// 503: ..." and, for a refused connection, the URL three times (the last in
// Go's `Post "URL": `).
func TestTokenFailureNamesTheURLOnce(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	_ = l.Close()
	for _, tc := range []struct {
		name      string
		workspace string
		fault     bool
		want      []string
	}{
		{"503", srv.WorkspaceURL(), true, []string{"(HTTP 503): server_error (", "token endpoint failure"}},
		{"nothing listening", closed, false, []string{"connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := "main.default.token_" + strings.ReplaceAll(tc.name, " ", "_")
			if tc.fault {
				srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 503, Persistent: true})
			}
			cfg := serverConfig(srv, table)
			cfg.UnityCatalogURL = tc.workspace
			cfg.RetryMaxAttempts = 1
			w := newWrapper(t, cfg)
			rec := eventBatch(memory.DefaultAllocator, 0, 3)
			defer rec.Release()
			_, err := w.SendBatch(testCtx(t), rec)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			tokenURL := tc.workspace + "/oidc/v1/token"
			if n := strings.Count(msg, tokenURL); n != 1 {
				t.Errorf("the token URL appears %d times, want 1: %s", n, msg)
			}
			// Neither the status nor Go's request line is repeated.
			checkMessage(t, msg, append([]string{"token request failed at " + tokenURL, "gave up after 1 attempt: "}, tc.want...), []string{"HTTP 503: ", "Post "})
			if core.KindOf(err) != core.KindTokenRefresh && core.KindOf(err) != core.KindRetryExhausted {
				t.Errorf("kind %s", core.KindOf(err))
			}
		})
	}
}

// TestWorkspaceURLWithQuery: a workspace URL as the browser shows it, with the
// workspace id as "?o=<id>" (Azure) or a fragment, reaches the token endpoint
// and (arrow_flight) the Unity Catalog API: the query and fragment are not
// part of the base those paths hang off. It validated, then every send failed
// with "no token endpoint at unity_catalog_url" for ".../?o=<id>/oidc/v1/token".
func TestWorkspaceURLWithQuery(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		for i, suffix := range []string{"/?o=1234567890123456", "?o=1", "/#workspace"} {
			table := fmt.Sprintf("main.default.ws_query_%s_%d", transport, i)
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			cfg.UnityCatalogURL = srv.WorkspaceURL() + suffix
			cfg.RetryMaxAttempts = 1
			w := newWrapper(t, cfg)
			rec := eventBatch(memory.DefaultAllocator, 0, 3)
			res, err := w.SendBatch(testCtx(t), rec)
			rec.Release()
			if err != nil || res.SuccessfulCount != 3 {
				t.Errorf("%s, unity_catalog_url %q: %v", transport, cfg.UnityCatalogURL, err)
				continue
			}
			if got := len(storedIDs(t, srv, table)); got != 3 {
				t.Errorf("%s, %q: %d rows stored, want 3", transport, cfg.UnityCatalogURL, got)
			}
		}
	}
}

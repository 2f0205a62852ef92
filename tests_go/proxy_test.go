package tests_go

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// refusingProxy starts an HTTP proxy on 127.0.0.1 that records every
// request as "METHOD request-target" and answers each with 407.
func refusingProxy(t *testing.T) (addr string, seen func() []string) {
	t.Helper()
	var (
		mu   sync.Mutex
		reqs []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, r.Method+" "+r.RequestURI)
		mu.Unlock()
		w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
		http.Error(w, "proxy credentials required", http.StatusProxyAuthRequired)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(reqs)
	}
}

// TestProxyURLCarriesAllTraffic: Config.ProxyURL reaches both the token
// client and the gRPC dialer of a Wrapper (loopback targets included); a
// proxy refusing with 407 fails the batch with an error that names the
// proxy but never its password, which stays out of logs and the printed
// Config too.
func TestProxyURLCarriesAllTraffic(t *testing.T) {
	const pw = "core-Proxy-Passw0rd-31"
	srv := startServer(t, zerobuslocal.Options{})
	tests := []struct {
		name string
		opts []core.Option
		want string // request the proxy must see
	}{
		{"token request", nil, "POST " + srv.WorkspaceURL() + "/oidc/v1/token"},
		{"gRPC connection", []core.Option{core.WithHeadersProvider(func(context.Context) (map[string]string, error) {
			return map[string]string{"authorization": "Bearer unused"}, nil
		})}, "CONNECT " + srv.Addr()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, seen := refusingProxy(t)
			lc := newLeakCheck(t, pw)
			cfg := serverConfig(srv, "main.default.proxied")
			cfg.ProxyURL = "http://proxy-user:" + pw + "@" + addr
			cfg.RetryMaxAttempts = 1
			logger := core.WithLogger(slog.New(slog.NewJSONHandler(lc.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			w := newWrapper(t, cfg, append(tc.opts, logger)...)
			for _, s := range []string{w.Config().String(), fmt.Sprintf("%#v", w.Config())} {
				if strings.Contains(s, pw) || !strings.Contains(s, "proxy_url: http://<redacted>@"+addr) {
					t.Errorf("printed Config: got %s, want proxy_url with user:password redacted", s)
				}
			}
			rec := eventBatch(memory.DefaultAllocator, 0, 3)
			defer rec.Release()
			res, err := w.SendBatch(testCtx(t), rec)
			lc.noteResult(res)
			lc.noteErr(err)
			if err == nil {
				t.Fatal("SendBatch through a refusing proxy: got nil error")
			}
			for _, want := range []string{addr, "407 Proxy Authentication Required"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q: %v", want, err)
				}
			}
			if got := seen(); !slices.Contains(got, tc.want) {
				t.Errorf("proxy saw %q, want %q among them", got, tc.want)
			}
		})
	}
}

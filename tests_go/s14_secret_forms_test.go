package tests_go

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// secretForms are the texts a credential travels as: the secret literal,
// query- and path-escaped, and inside a Basic credential (base64 of
// user:secret, escaped as OAuth2 sends it and unescaped as a proxy gets it).
func secretForms(user, secret string) []string {
	return []string{
		secret,
		url.QueryEscape(secret),
		url.PathEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(user) + ":" + url.QueryEscape(secret))),
		base64.StdEncoding.EncodeToString([]byte(user + ":" + secret)),
	}
}

// echoRequest is what a misbehaving endpoint or proxy echoes of a request:
// its authorization headers, the decoded Basic credential and the body.
func echoRequest(r *http.Request) string {
	body, _ := io.ReadAll(r.Body)
	user, pw, _ := r.BasicAuth()
	return fmt.Sprintf("Authorization: %s; Proxy-Authorization: %s; credential %s:%s; body: %s",
		r.Header.Get("Authorization"), r.Header.Get("Proxy-Authorization"), user, pw, body)
}

// TestEchoedCredentialsRedacted: a token endpoint answering 401 with the
// request's Authorization header, decoded credential and form body echoed
// (as text, or in a JSON error_description), and a proxy answering 407 with
// its Proxy-Authorization echoed: the secret and proxy password appear in
// no form (literal, URL-escaped, base64 Basic credential) in the error or
// the logs, on either transport; the echo itself does reach the error
// ([REDACTED] in its place), so the check is not vacuous.
func TestEchoedCredentialsRedacted(t *testing.T) {
	const secret = "S3cr3t+XYZ/Z 123&=é"
	const proxyPW = "pr0xy+Pa55/w rd&"
	srv := startServer(t, zerobuslocal.Options{})
	asJSON := func(r *http.Request) string {
		b, _ := json.Marshal(map[string]string{"error": "invalid_client", "error_description": echoRequest(r)})
		return string(b)
	}
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		for _, tc := range []struct {
			name  string
			proxy bool
			body  func(*http.Request) string
		}{
			{"token endpoint text", false, echoRequest},
			{"token endpoint json", false, asJSON},
			{"proxy 407", true, echoRequest},
		} {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					code := http.StatusUnauthorized
					if tc.proxy {
						code = http.StatusProxyAuthRequired
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(code)
					_, _ = io.WriteString(w, tc.body(r))
				}))
				t.Cleanup(echo.Close)
				cfg := serverConfig(srv, "main.default.echoed")
				cfg.Transport = transport
				cfg.ClientSecret = secret
				cfg.RetryMaxAttempts = 1
				forms := secretForms(cfg.ClientID, secret)
				if tc.proxy {
					cfg.ProxyURL = "http://proxy-user:" + url.QueryEscape(proxyPW) + "@" + echo.Listener.Addr().String()
					forms = append(forms, secretForms("proxy-user", proxyPW)...)
				} else {
					cfg.UnityCatalogURL = echo.URL
				}
				lc := newLeakCheck(t, forms...)
				logger := core.WithLogger(slog.New(slog.NewJSONHandler(lc.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
				w := newWrapper(t, cfg, logger)
				rec := eventBatch(memory.DefaultAllocator, 0, 3)
				defer rec.Release()
				res, err := w.SendBatch(testCtx(t), rec)
				lc.noteResult(res)
				lc.noteErr(err)
				if err == nil {
					t.Fatal("SendBatch against an echoing endpoint: got nil error")
				}
				if !strings.Contains(err.Error(), "Authorization: Basic [REDACTED]") || (tc.proxy && !strings.Contains(err.Error(), "Proxy-Authorization: Basic [REDACTED]")) {
					t.Errorf("the echoed header is not in the error, redacted: %v", err)
				}
			})
		}
	}
}

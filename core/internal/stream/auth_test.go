package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

const (
	unitSecret = "s3cr3t-client-secret-value"
	unitID     = "client-123"
)

// tokenServer is an httptest token endpoint whose answers a test scripts.
type tokenServer struct {
	srv   *httptest.Server
	calls atomic.Int32
	// answer returns status and JSON body for call n (1-based).
	answer func(n int, r *http.Request) (int, string)
	mu     sync.Mutex
	forms  []url.Values
	basic  [][2]string
}

func newTokenServer(t *testing.T, answer func(n int, r *http.Request) (int, string)) *tokenServer {
	ts := &tokenServer{answer: answer}
	ts.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(ts.calls.Add(1))
		if r.Method != http.MethodPost || r.URL.Path != "/oidc/v1/token" {
			http.Error(w, "wrong method or path "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		_ = r.ParseForm()
		id, secret, _ := r.BasicAuth()
		ts.mu.Lock()
		ts.forms = append(ts.forms, r.PostForm)
		ts.basic = append(ts.basic, [2]string{id, secret})
		ts.mu.Unlock()
		code, body := ts.answer(n, r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(ts.srv.Close)
	return ts
}

func okToken(tok string, expiresIn int) string {
	return fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer","expires_in":%d}`, tok, expiresIn)
}

// newUnitAuth builds an auth against ts with tiny retry delays.
func newUnitAuth(t *testing.T, ts *tokenServer) *auth {
	t.Helper()
	cfg := Config{
		Endpoint:     "https://1234567.zerobus.us-west-2.cloud.databricks.com",
		WorkspaceURL: ts.srv.URL + "/",
		TableName:    "cat.sch.tbl",
		ClientID:     unitID,
		ClientSecret: unitSecret,
		HTTPClient:   ts.srv.Client(),
		Retry:        RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
	}.withDefaults()
	ep, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	red := &redactor{}
	red.add(unitSecret)
	a, err := newAuth(&cfg, ep, red, telemetry.Nop(), cfg.Retry)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestTokenRequestForm(t *testing.T) {
	ts := newTokenServer(t, func(int, *http.Request) (int, string) { return 200, okToken("tok-1", 3600) })
	a := newUnitAuth(t, ts)
	md, cred, err := a.metadata(context.Background())
	if err != nil {
		t.Fatalf("metadata: %v", err)
	}
	if cred != "tok-1" {
		t.Errorf("credential: got %q, want tok-1", cred)
	}
	if diff := cmp.Diff([]string{"Bearer tok-1"}, md.Get("authorization")); diff != "" {
		t.Errorf("authorization (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"cat.sch.tbl"}, md.Get("x-databricks-zerobus-table-name")); diff != "" {
		t.Errorf("table header (-want +got):\n%s", diff)
	}
	if got, want := ts.basic[0], [2]string{unitID, unitSecret}; got != want {
		t.Errorf("basic auth: got %q, want %q", got[0], want[0])
	}
	form := ts.forms[0]
	for k, want := range map[string]string{
		"grant_type": "client_credentials",
		"scope":      "all-apis",
		"resource":   "api://databricks/workspaces/1234567/zerobusDirectWriteApi",
	} {
		if got := strings.Join(form[k], ","); got != want {
			t.Errorf("form %s: got %q, want %q", k, got, want)
		}
	}
	if _, ok := form["client_secret"]; ok {
		t.Errorf("the secret was sent in the form body; want HTTP Basic only")
	}
	var got []map[string]any
	if err := json.Unmarshal([]byte(form.Get("authorization_details")), &got); err != nil {
		t.Fatalf("authorization_details is not JSON: %v", err)
	}
	want := []map[string]any{
		{"type": "unity_catalog_privileges", "privileges": []any{"USE CATALOG"}, "object_type": "CATALOG", "object_full_path": "cat"},
		{"type": "unity_catalog_privileges", "privileges": []any{"USE SCHEMA"}, "object_type": "SCHEMA", "object_full_path": "cat.sch"},
		{"type": "unity_catalog_privileges", "privileges": []any{"SELECT", "MODIFY"}, "object_type": "TABLE", "object_full_path": "cat.sch.tbl", "operations": []any{"zerobuswrite"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("authorization_details (-want +got):\n%s", diff)
	}
	if ad := form.Get("authorization_details"); strings.Contains(ad, ", ") || strings.Contains(ad, ": ") {
		t.Errorf("authorization_details is not compact: %s", form.Get("authorization_details"))
	}
}

func TestTokenCacheRefreshAhead(t *testing.T) {
	tests := []struct {
		name      string
		expiresIn int
		// offsets from the fetch time, and whether a new fetch is expected
		steps []struct {
			at    time.Duration
			fetch bool
		}
	}{
		{name: "one hour token refreshes 5 minutes early", expiresIn: 3600, steps: []struct {
			at    time.Duration
			fetch bool
		}{{0, false}, {54 * time.Minute, false}, {55*time.Minute + time.Second, true}}},
		{name: "short token refreshes at half life", expiresIn: 60, steps: []struct {
			at    time.Duration
			fetch bool
		}{{29 * time.Second, false}, {31 * time.Second, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, func(n int, _ *http.Request) (int, string) {
				return 200, okToken(fmt.Sprintf("tok-%d", n), tt.expiresIn)
			})
			a := newUnitAuth(t, ts)
			base := time.Now()
			var now atomic.Int64
			now.Store(int64(0))
			a.now = func() time.Time { return base.Add(time.Duration(now.Load())) }
			if _, err := a.token(context.Background()); err != nil {
				t.Fatal(err)
			}
			calls := 1
			for _, st := range tt.steps {
				now.Store(int64(st.at))
				if _, err := a.token(context.Background()); err != nil {
					t.Fatalf("at +%s: %v", st.at, err)
				}
				if st.fetch {
					calls++
				}
				if got := int(ts.calls.Load()); got != calls {
					t.Errorf("at +%s: token requests got %d, want %d", st.at, got, calls)
				}
				now.Store(int64(st.at)) // keep the clock for the next step base
			}
		})
	}
}

func TestTokenInvalidateAndSingleFlight(t *testing.T) {
	ts := newTokenServer(t, func(n int, _ *http.Request) (int, string) {
		time.Sleep(20 * time.Millisecond) // let concurrent callers pile up
		return 200, okToken(fmt.Sprintf("tok-%d", n), 3600)
	})
	a := newUnitAuth(t, ts)
	var wg sync.WaitGroup
	toks := make([]string, 8)
	for i := range toks {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			tok, err := a.token(context.Background())
			if err != nil {
				t.Errorf("token: %v", err)
			}
			toks[i] = tok
		}(i)
	}
	wg.Wait()
	for i, tok := range toks {
		if tok != "tok-1" {
			t.Errorf("caller %d got %q, want tok-1 (one shared fetch)", i, tok)
		}
	}
	a.invalidate("not-the-current-token")
	if tok, _ := a.token(context.Background()); tok != "tok-1" {
		t.Errorf("after invalidating another token: got %q, want tok-1", tok)
	}
	a.invalidate("tok-1")
	if tok, _ := a.token(context.Background()); tok != "tok-2" {
		t.Errorf("after invalidate: got %q, want tok-2", tok)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	tests := []struct {
		name       string
		answer     func(n int) (int, string)
		wantCalls  int
		wantAuth   bool // *AuthError (bad credentials), else retryable *TokenError
		wantStatus int
		wantTok    string
	}{
		{name: "500 then success", answer: func(n int) (int, string) {
			if n < 3 {
				return 500, `{"error":"server_error"}`
			}
			return 200, okToken("tok-ok", 3600)
		}, wantCalls: 3, wantTok: "tok-ok"},
		{name: "500 always", answer: func(int) (int, string) { return 503, `{"error":"temporarily_unavailable"}` },
			wantCalls: tokenHTTPTries, wantStatus: 503},
		// 429 is a rate limit, not a verdict on the credentials: retried, and
		// retryable when it persists (it was a final *AuthError, "the token
		// endpoint rejected the request", raised as an authentication failure)
		{name: "429 then success", answer: func(n int) (int, string) {
			if n < 2 {
				return 429, `{"error":"rate_limited"}`
			}
			return 200, okToken("tok-429", 3600)
		}, wantCalls: 2, wantTok: "tok-429"},
		{name: "429 always", answer: func(int) (int, string) { return 429, `{"error":"rate_limited"}` },
			wantCalls: tokenHTTPTries, wantStatus: 429},
		{name: "401 is final", answer: func(int) (int, string) {
			return 401, `{"error":"invalid_client","error_description":"bad secret"}`
		}, wantCalls: 1, wantAuth: true, wantStatus: 401},
		{name: "400 is final", answer: func(int) (int, string) { return 400, `{"error":"invalid_request"}` },
			wantCalls: 1, wantAuth: true, wantStatus: 400},
		{name: "403 is final", answer: func(int) (int, string) { return 403, `not json` },
			wantCalls: 1, wantAuth: true, wantStatus: 403},
		{name: "missing access_token", answer: func(int) (int, string) { return 200, `{"expires_in":3600}` },
			wantCalls: 1, wantAuth: true},
		{name: "body echoing the secret is redacted", answer: func(int) (int, string) {
			return 401, `{"oops":"client_secret=` + unitSecret + `"}`
		}, wantCalls: 1, wantAuth: true, wantStatus: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, func(n int, _ *http.Request) (int, string) { return tt.answer(n) })
			a := newUnitAuth(t, ts)
			tok, err := a.token(context.Background())
			if got := int(ts.calls.Load()); got != tt.wantCalls {
				t.Errorf("token requests: got %d, want %d", got, tt.wantCalls)
			}
			if tt.wantTok != "" {
				if err != nil || tok != tt.wantTok {
					t.Fatalf("token: got %q, %v; want %q", tok, err, tt.wantTok)
				}
				return
			}
			if err == nil {
				t.Fatalf("token: got %q, want an error", tok)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				if strings.Contains(s, unitSecret) {
					t.Errorf("error text leaks the secret: %s", s)
				}
			}
			var ae *AuthError
			if got := errors.As(err, &ae); got != tt.wantAuth {
				t.Errorf("errors.As(*AuthError) = %v, want %v (err %v)", got, tt.wantAuth, err)
			}
			if IsRetryable(err) == tt.wantAuth {
				t.Errorf("IsRetryable = %v, want %v", IsRetryable(err), !tt.wantAuth)
			}
			var te *TokenError
			if !errors.As(err, &te) {
				t.Fatalf("errors.As(*TokenError) failed for %v", err)
			}
			if te.StatusCode != tt.wantStatus {
				t.Errorf("TokenError.StatusCode = %d, want %d", te.StatusCode, tt.wantStatus)
			}
		})
	}
}

func TestTokenRefreshFailureKeepsValidToken(t *testing.T) {
	ts := newTokenServer(t, func(n int, _ *http.Request) (int, string) {
		if n == 1 {
			return 200, okToken("tok-1", 3600)
		}
		return 500, `{}`
	})
	a := newUnitAuth(t, ts)
	base := time.Now()
	a.now = func() time.Time { return base }
	if _, err := a.token(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.now = func() time.Time { return base.Add(58 * time.Minute) }
	tok, err := a.token(context.Background())
	if err != nil || tok != "tok-1" {
		t.Errorf("refresh failure before expiry: got %q, %v; want tok-1, nil", tok, err)
	}
	a.now = func() time.Time { return base.Add(61 * time.Minute) }
	if _, err := a.token(context.Background()); err == nil {
		t.Errorf("refresh failure after expiry: got nil error")
	}
}

// Integration with the local server.

// sendWaitClose sends rows on s, waits for their acknowledgement and closes
// s, failing the test on any error.
func sendWaitClose(t *testing.T, ctx context.Context, s *Stream, rows [][]byte) {
	t.Helper()
	p, err := s.Send(ctx, rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// openWantAuthError opens a stream with a client for cfg, notes the error
// for the env's secrets check and fails the test unless it is an *AuthError.
func openWantAuthError(t *testing.T, e *env, cfg Config) (*AuthError, error) {
	t.Helper()
	c := e.client(cfg)
	_, err := c.OpenStream(context.Background(), testDescriptor(), zerobuspb.RecordType_PROTO)
	e.note(err)
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("OpenStream: got %v, want *AuthError", err)
	}
	return ae, err
}

func TestServerRejectsCachedTokenOnce(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	c := e.client(e.config())
	ctx := context.Background()
	s1 := e.open(c)
	if err := s1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.srv.RevokeTokens(testTable); n != 1 {
		t.Fatalf("revoked %d tokens, want 1", n)
	}
	s2 := e.open(c) // cached token rejected once, refreshed, accepted
	sendWaitClose(t, ctx, s2, rowsBatch(1, 2))
	if got := len(e.sniff.tokens()); got != 2 {
		t.Errorf("tokens fetched: got %d, want 2", got)
	}
	if got := countEvents(e, zerobuslocal.EventStreamRejected); got != 1 {
		t.Errorf("rejected creates: got %d, want 1", got)
	}
}

func TestServerRejectsAuthAlways(t *testing.T) {
	tests := []struct {
		name     string
		header   func(e *env) string
		wantCode codes.Code
		wantWhat string
	}{
		{name: "unknown token", header: func(*env) string { return "Bearer bogus-provider-token-1234" },
			wantCode: codes.Unauthenticated, wantWhat: "rejected the authorization"},
		{name: "token for another table", header: func(e *env) string { return "Bearer " + e.srv.IssueToken("other.schema.table", 0) },
			wantCode: codes.PermissionDenied, wantWhat: "lacks privileges on table " + testTable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, zerobuslocal.Options{})
			hdr := tt.header(e)
			var calls atomic.Int32
			cfg := e.config()
			cfg.ClientID, cfg.ClientSecret, cfg.WorkspaceURL = "", "", ""
			cfg.HeadersProvider = func(context.Context) (map[string]string, error) {
				calls.Add(1)
				return map[string]string{"Authorization": hdr}, nil
			}
			ae, err := openWantAuthError(t, e, cfg)
			if !strings.Contains(ae.What, tt.wantWhat) {
				t.Errorf("AuthError.What = %q, want it to mention %q", ae.What, tt.wantWhat)
			}
			var se *ServerError
			if !errors.As(err, &se) || se.Code != tt.wantCode {
				t.Errorf("cause: got %v, want %v", err, tt.wantCode)
			}
			if IsRetryable(err) {
				t.Errorf("IsRetryable(auth error) = true")
			}
			if got := calls.Load(); got != 2 {
				t.Errorf("HeadersProvider calls: got %d, want 2 (one retry)", got)
			}
			tok := strings.TrimPrefix(hdr, "Bearer ")
			if strings.Contains(err.Error(), tok) || strings.Contains(e.logs.String(), tok) {
				t.Errorf("the provider's token leaked into the error or logs")
			}
		})
	}
}

func TestBadCredentialsFailFast(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	cfg := e.config()
	cfg.ClientSecret = "wrong-secret-value-42"
	ae, err := openWantAuthError(t, e, cfg)
	if !strings.Contains(ae.What, "client_id/client_secret") {
		t.Errorf("AuthError.What = %q, want it to name client_id/client_secret", ae.What)
	}
	var te *TokenError
	if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized || te.Retryable {
		t.Errorf("cause: got %v, want a final HTTP 401 *TokenError", err)
	}
	if got := e.sniff.requests(); got != 1 {
		t.Errorf("token requests: got %d, want 1 (no retries)", got)
	}
	if got := e.srv.Stats(); got.StreamsCreated+got.StreamsRejected != 0 {
		t.Errorf("stream attempts: got %d, want 0", got.StreamsCreated+got.StreamsRejected)
	}
	if strings.Contains(err.Error(), "wrong-secret-value-42") || strings.Contains(e.logs.String(), "wrong-secret-value-42") {
		t.Errorf("the wrong secret leaked")
	}
}

func TestHeadersProvider(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	tok := e.srv.IssueToken(testTable, 0)
	cfg := e.config()
	cfg.ClientID, cfg.ClientSecret, cfg.WorkspaceURL = "", "", ""
	cfg.HeadersProvider = func(context.Context) (map[string]string, error) {
		return map[string]string{"authorization": "Bearer " + tok}, nil // table header added by us
	}
	c := e.client(cfg)
	s := e.open(c)
	ctx := context.Background()
	sendWaitClose(t, ctx, s, rowsBatch(0, 3))
	if got := e.srv.RecordCount(testTable); got != 3 {
		t.Errorf("rows: got %d, want 3", got)
	}
	if got := e.sniff.requests(); got != 0 {
		t.Errorf("token requests with a HeadersProvider: got %d, want 0", got)
	}

	// A failing provider is an AuthError naming it.
	cfg.HeadersProvider = func(context.Context) (map[string]string, error) { return nil, errors.New("vault unreachable") }
	c2 := e.client(cfg)
	_, err := c2.OpenStream(ctx, testDescriptor(), zerobuspb.RecordType_PROTO)
	var ae *AuthError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "HeadersProvider") || !strings.Contains(err.Error(), "vault unreachable") {
		t.Errorf("failing provider: got %v, want an AuthError naming HeadersProvider and the cause", err)
	}
}

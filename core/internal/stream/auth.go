package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc/metadata"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// Metadata keys of the protocol (§2).
const (
	headerAuthorization = "authorization"
	headerTableName     = "x-databricks-zerobus-table-name"
)

// Token refresh policy: refresh this long before expiry, or at half the
// lifetime for tokens living less than twice that.
const (
	refreshAhead    = 5 * time.Minute
	defaultLifetime = time.Hour // when the endpoint omits expires_in
	tokenHTTPTries  = 4         // most token HTTP attempts (1 + retries) for retryableTokenStatus / network errors: tokenTries
	tokenMaxBackoff = 2 * time.Second
	defaultHTTPWait = 30 * time.Second // per-attempt timeout of the default HTTP client
)

// auth produces the per-RPC metadata: either from a caller's headers
// provider or from a cached OAuth2 client-credentials token. The cache is
// per Client, i.e. per (client id, secret, table). Safe for concurrent use.
type auth struct {
	table     string
	provider  func(ctx context.Context) (map[string]string, error)
	cc        *clientcredentials.Config // nil with a provider
	http      *http.Client              // retryablehttp-wrapped, for cc
	tokenURL  string
	proxy     string // Config.Proxy for messages, user information redacted ("" if none)
	proxyHost string // Config.Proxy's host name ("" if none)
	proxyAddr string // Config.Proxy's host:port ("" if none)
	caFile    string // Config.HTTPCAFile, named by a certificate error
	red       *redactor
	tel       *telemetry.Telemetry
	now       func() time.Time

	fetch     chan struct{} // 1-slot semaphore: one fetch at a time
	closeIdle func()        // closes idle token connections we own (nil if the caller's)

	mu        sync.Mutex
	tok       *oauth2.Token
	replaced  bool // a token was held before (the next fetch is a refresh, also after invalidate)
	refreshAt time.Time
	expiresAt time.Time
}

// authorizationDetail is one Unity Catalog privilege request (§4).
type authorizationDetail struct {
	Type           string   `json:"type"`
	Privileges     []string `json:"privileges"`
	ObjectType     string   `json:"object_type"`
	ObjectFullPath string   `json:"object_full_path"`
	Operations     []string `json:"operations,omitempty"`
}

// authorizationDetails builds the compact JSON array for a table.
func authorizationDetails(catalog, schema, table string) string {
	d := []authorizationDetail{
		{Type: "unity_catalog_privileges", Privileges: []string{"USE CATALOG"}, ObjectType: "CATALOG", ObjectFullPath: catalog},
		{Type: "unity_catalog_privileges", Privileges: []string{"USE SCHEMA"}, ObjectType: "SCHEMA", ObjectFullPath: catalog + "." + schema},
		{Type: "unity_catalog_privileges", Privileges: []string{"SELECT", "MODIFY"}, ObjectType: "TABLE",
			ObjectFullPath: catalog + "." + schema + "." + table, Operations: []string{"zerobuswrite"}},
	}
	b, _ := json.Marshal(d) // cannot fail: plain strings
	return string(b)
}

// newAuth builds the authenticator for a validated config.
func newAuth(cfg *Config, ep endpoint, red *redactor, tel *telemetry.Telemetry, retry RetryPolicy) (*auth, error) {
	a := &auth{
		table:    cfg.TableName,
		provider: cfg.HeadersProvider,
		red:      red,
		tel:      tel,
		now:      time.Now,
		fetch:    make(chan struct{}, 1),
	}
	if a.provider != nil {
		return a, nil
	}
	tu, err := tokenURL(cfg.WorkspaceURL)
	if err != nil {
		return nil, err
	}
	cat, sch, tbl, err := splitTable(cfg.TableName)
	if err != nil {
		return nil, err
	}
	a.tokenURL = tu
	a.caFile = cfg.HTTPCAFile
	a.proxy = cfg.proxyShown()
	if cfg.Proxy != nil {
		a.proxyHost = cfg.Proxy.Hostname()
		a.proxyAddr = cfg.Proxy.Host
		if cfg.Proxy.Port() == "" {
			a.proxyAddr = net.JoinHostPort(a.proxyHost, map[string]string{"https": "443", "http": "80"}[cfg.Proxy.Scheme])
		}
	}
	a.cc = &clientcredentials.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		TokenURL:     tu,
		Scopes:       []string{"all-apis"},
		EndpointParams: url.Values{
			"resource":              {"api://databricks/workspaces/" + ep.workspaceID + "/zerobusDirectWriteApi"},
			"authorization_details": {authorizationDetails(cat, sch, tbl)},
		},
		// Never auto-detect: that would retry with the secret in the body.
		AuthStyle: oauth2.AuthStyleInHeader,
	}
	base := cfg.HTTPClient
	if base == nil {
		// Our own transport, so Client.Close can drop its idle connections
		// without touching http.DefaultTransport.
		tr := TokenTransport(cfg.Proxy)
		base = &http.Client{Timeout: defaultHTTPWait, Transport: tr}
		a.closeIdle = tr.CloseIdleConnections
	}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = base
	// No LeveledLogger: it gets no context, so its records could not carry
	// the token fetch's trace. The hooks below log with the request's ctx.
	rc.Logger = nil
	rc.RequestLogHook = a.logRequest
	rc.ResponseLogHook = a.logResponse
	rc.RetryMax = tokenTries(retry) - 1
	rc.RetryWaitMin = retry.BaseDelay
	rc.RetryWaitMax = min(retry.MaxDelay, tokenMaxBackoff)
	rc.Backoff = func(lo, hi time.Duration, attemptNum int, _ *http.Response) time.Duration {
		return min(retry.Backoff(attemptNum+1, lo, hi), hi)
	}
	rc.CheckRetry = a.checkRetry
	// Hand the last response to oauth2 so it reports the real HTTP status.
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	a.http = rc.StandardClient()
	return a, nil
}

// tokenTries is how many HTTP requests one token fetch makes at most (a
// network error or retryableTokenStatus tries again): the retry policy's
// tries (1 + MaxAttempts, so one when retries are disabled: core's
// retry_max_attempts=1), at most tokenHTTPTries. The stream creation that
// needs the token retries per the same policy (its attempts are the ones an
// error counts), so retry_max_attempts bounds both.
// retry is the policy with its defaults filled (Config.withDefaults: a
// MaxAttempts of 0 there means no retry).
func tokenTries(retry RetryPolicy) int {
	return min(tokenHTTPTries, 1+max(retry.MaxAttempts, 0))
}

// retryableTokenStatus reports whether a token endpoint's HTTP status may
// pass on another attempt: 5xx, 429 Too Many Requests (a rate limit, e.g.
// many Spark tasks fetching tokens at once, not a verdict on the
// credentials) and 408 Request Timeout. Every other 4xx is final.
func retryableTokenStatus(code int) bool {
	return code >= 500 || code == 0 || code == http.StatusTooManyRequests || code == http.StatusRequestTimeout
}

// tokenCheckRetry retries network errors, 5xx, 429 and 408; other 4xx are final
// (bad credentials); the caller's context ending stops everything.
func tokenCheckRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		if hostNotFound(err, "", "") != nil {
			return false, nil // a name that does not exist will not appear on retry
		}
		if certFailure(err, "", "") != nil || tlsMismatch(err, "", "") != nil {
			// a certificate that fails verification (also an https
			// proxy's, which DefaultRetryPolicy does not see under
			// proxyconnect) or an https:// URL answered in plaintext
			// fails the same way on every attempt
			return false, nil
		}
		return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
	}
	return retryableTokenStatus(resp.StatusCode), nil
}

// checkRetry is tokenCheckRetry plus logging of failed attempts with the
// request's context (so the records carry the token fetch's trace): a retry
// is a warning, like every retry of the library.
func (a *auth) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	retry, cerr := tokenCheckRetry(ctx, resp, err)
	log := a.tel.Logger()
	switch {
	case err != nil && retry:
		log.WarnContext(ctx, "zerobus: token http: request failed; retrying", "url", a.tokenURL, "error", a.red.clean(err.Error()))
	case err != nil: // not retried: the error goes back to the caller, who reports it
		log.DebugContext(ctx, "zerobus: token http: request failed", "url", a.tokenURL, "error", a.red.clean(err.Error()))
	case retry && resp != nil:
		log.WarnContext(ctx, "zerobus: token http: retrying", "url", a.tokenURL, "status", resp.StatusCode)
	}
	return retry, cerr
}

// logRequest logs each token HTTP attempt (attempt is 0-based).
func (a *auth) logRequest(_ retryablehttp.Logger, req *http.Request, attempt int) {
	a.tel.Logger().DebugContext(req.Context(), "zerobus: token http: performing request",
		"method", req.Method, "url", a.tokenURL, "attempt", attempt+1)
}

// logResponse logs the status of each token HTTP response (never the body,
// which holds the token).
func (a *auth) logResponse(_ retryablehttp.Logger, resp *http.Response) {
	ctx := context.Background()
	if resp.Request != nil {
		ctx = resp.Request.Context()
	}
	a.tel.Logger().DebugContext(ctx, "zerobus: token http: response", "url", a.tokenURL, "status", resp.StatusCode)
}

// metadata returns the RPC metadata and the credential it carries (used to
// invalidate exactly that credential on rejection).
func (a *auth) metadata(ctx context.Context) (metadata.MD, string, error) {
	if a.provider != nil {
		h, err := a.provider(ctx)
		if err != nil {
			err = a.red.cleanErr(err)
			if IsRetryable(err) {
				return nil, "", err
			}
			if ctx.Err() != nil {
				return nil, "", err
			}
			return nil, "", &AuthError{What: "HeadersProvider returned an error", Err: err}
		}
		md := metadata.MD{}
		for k, v := range h {
			md.Set(strings.ToLower(k), v)
		}
		auth := md.Get(headerAuthorization)
		for _, v := range auth {
			a.red.add(v)
			a.red.add(strings.TrimPrefix(v, "Bearer "))
		}
		switch got := md.Get(headerTableName); {
		case len(got) == 0:
			md.Set(headerTableName, a.table)
		case len(got) > 1 || got[0] != a.table:
			return nil, "", &AuthError{What: fmt.Sprintf(
				"HeadersProvider returned %s %q, but the stream writes to table %q (return the same table name, or leave the header out and it is added)",
				headerTableName, strings.Join(got, ","), a.table)}
		}
		cred := strings.Join(auth, ",")
		return md, cred, nil
	}
	tok, err := a.token(ctx)
	if err != nil {
		return nil, "", err
	}
	return metadata.Pairs(headerAuthorization, "Bearer "+tok, headerTableName, a.table), tok, nil
}

// invalidate drops cred from the cache if it is still the current token, so
// the next metadata call fetches a fresh one.
func (a *auth) invalidate(cred string) {
	if a.provider != nil {
		return
	}
	a.mu.Lock()
	if a.tok != nil && a.tok.AccessToken == cred {
		a.tok, a.replaced = nil, true
	}
	a.mu.Unlock()
}

// cached returns the current token if it need not be refreshed yet.
func (a *auth) cached() (tok string, usable bool, fresh bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tok == nil {
		return "", false, false
	}
	now := a.now()
	return a.tok.AccessToken, now.Before(a.expiresAt), now.Before(a.refreshAt)
}

// token returns a valid access token, fetching one if the cache is empty or
// due for refresh. Concurrent callers share one fetch. If a refresh fails
// while the old token has not expired, the old token is used.
func (a *auth) token(ctx context.Context) (string, error) {
	if tok, _, fresh := a.cached(); fresh {
		return tok, nil
	}
	select {
	case a.fetch <- struct{}{}:
	case <-ctx.Done():
		return "", &TokenError{URL: a.tokenURL, Retryable: errors.Is(ctx.Err(), context.DeadlineExceeded), Err: ctx.Err()}
	}
	defer func() { <-a.fetch }()
	old, usable, fresh := a.cached()
	if fresh {
		return old, nil
	}
	a.mu.Lock()
	refresh := old != "" || a.replaced
	a.mu.Unlock()
	tok, err := a.fetchToken(ctx, refresh)
	if err != nil {
		if usable {
			a.tel.Logger().WarnContext(ctx, "zerobus: token refresh failed; using the current token until it expires",
				"table", a.table, "error", err)
			return old, nil
		}
		return "", err
	}
	return tok, nil
}

// fetchToken calls the token endpoint once (with HTTP-level retries for the
// statuses of retryableTokenStatus and network errors) and stores the result.
func (a *auth) fetchToken(ctx context.Context, refresh bool) (_ string, err error) {
	ctx, span := a.tel.Start(ctx, "zerobus.token.fetch", telemetry.KeyTable.String(a.table), telemetry.KeyRefresh.Bool(refresh))
	defer func() {
		outcome := "success"
		if err != nil {
			outcome = "failure"
		}
		a.tel.TokenFetches.Add(context.WithoutCancel(ctx), 1, metricAttrs(
			telemetry.KeyTable.String(a.table), telemetry.KeyOutcome.String(outcome), telemetry.KeyRefresh.Bool(refresh)))
		telemetry.End(span, err)
	}()
	start := a.now()
	tok, err := a.cc.Token(context.WithValue(ctx, oauth2.HTTPClient, a.http))
	if err != nil {
		return "", a.tokenError(ctx, err)
	}
	if tok.AccessToken == "" {
		return "", &AuthError{What: "the token endpoint returned no access_token", Err: &TokenError{URL: a.tokenURL}}
	}
	a.red.add(tok.AccessToken)
	exp := tok.Expiry
	if exp.IsZero() {
		exp = start.Add(defaultLifetime)
	}
	life := exp.Sub(start)
	ahead := refreshAhead
	if life < 2*refreshAhead {
		ahead = life / 2
	}
	a.mu.Lock()
	a.tok = tok
	a.expiresAt = exp
	a.refreshAt = exp.Add(-ahead)
	a.mu.Unlock()
	a.tel.Logger().DebugContext(ctx, "zerobus: fetched OAuth token", "table", a.table, "refresh", refresh, "lifetime", life.Round(time.Second))
	return tok.AccessToken, nil
}

// plainAddr is the host:port of the token URL and whether it is plaintext
// http://.
func (a *auth) plainAddr() (string, bool) {
	u, err := url.Parse(a.tokenURL)
	if err != nil || u.Scheme != "http" {
		return "", false
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "80"), true
	}
	return u.Host, true
}

// bodyReadBroke reports whether err (oauth2's, not a *url.Error) says the
// connection broke while the response was read: reset, or closed early.
func bodyReadBroke(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "connection reset by peer") || strings.HasSuffix(msg, "unexpected EOF") || strings.HasSuffix(msg, ": EOF")
}

// credentialsRejected explains a token request refused for its credentials.
// Settings are named by their keys (the Python keywords and YAML keys), not
// by Go fields, as everywhere in the messages users read.
const credentialsRejected = "client_id/client_secret rejected by the token endpoint (check the service principal's OAuth client id and secret, and that unity_catalog_url is its workspace)"

// credentialKeys are the settings credentialsRejected names.
var credentialKeys = []string{"client_id", "client_secret", "unity_catalog_url"}

// tokenError classifies an oauth2 failure into *TokenError (retryable) or
// *AuthError (bad credentials), sanitizing every text it carries.
func (a *auth) tokenError(ctx context.Context, err error) error {
	te := &TokenError{URL: a.tokenURL}
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re):
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		te.ErrorCode = a.red.clean(re.ErrorCode)
		te.Description = a.red.clean(re.ErrorDescription)
		if te.ErrorCode == "" {
			body := strings.TrimSpace(a.red.clean(string(re.Body)))
			if len(body) > 200 {
				body = body[:200] + "…"
			}
			te.Err = errors.New("response: " + body)
		}
		te.Retryable = retryableTokenStatus(te.StatusCode)
		if addr, plain := a.plainAddr(); plain && strings.Contains(string(re.Body), "Client sent an HTTP request to an HTTPS server") {
			// net/http's answer on a TLS port to a plaintext request
			te.Retryable = false
			return &AuthError{What: "unity_catalog_url is http:// but " + addr + " speaks TLS: use https:// in unity_catalog_url",
				Keys: []string{"unity_catalog_url"}, Err: te}
		}
	case ctx.Err() != nil:
		te.Err = ctx.Err()
		te.Retryable = errors.Is(ctx.Err(), context.DeadlineExceeded)
		return te
	default:
		if u, perr := url.Parse(a.tokenURL); perr == nil {
			if hn := HTTPHostNotFound(err, u.Hostname(), a.proxyHost); hn != nil {
				hn.Err = a.red.cleanErr(err)
				return hn
			}
			if ce := HTTPCertFailure(err, u.Hostname(), a.proxyHost); ce != nil {
				var mm *TLSMismatchError
				if errors.As(ce, &mm) && mm.Setting == "Proxy" && a.proxyAddr != "" {
					mm.Addr = a.proxyAddr // net/http's proxyconnect error has no address
				}
				ce.CAFile = a.caFile
				return ce
			}
		}
		te.Err = a.red.cleanErr(err)
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "proxyconnect" && op.Err != nil {
			// the proxy itself could not be reached: name it, not the workspace
			if addr, cause, ok := netCause(op.Err.Error()); ok {
				te.ProxyAddr, te.ProxySetting, te.Err = addr, "Proxy", errors.New(cause)
				if a.proxyHost == "" {
					te.ProxySetting = "HTTPS_PROXY"
				}
				te.Retryable = true
				return te
			}
		}
		var ue *url.Error
		if !errors.As(err, &ue) && bodyReadBroke(err) {
			// oauth2 read the response's body and the connection broke
			// (it wraps that error with %v: no *url.Error). On an http://
			// URL that is what a TLS port does to a plaintext request;
			// on https:// a transient reset, worth retrying.
			if addr, plain := a.plainAddr(); plain {
				return &AuthError{What: "unity_catalog_url is http:// but " + addr +
					" closed the connection while answering the token request: is the server TLS? use https:// in unity_catalog_url",
					Keys: []string{"unity_catalog_url"}, Err: te}
			}
			te.Retryable = true
			return te
		}
		// A transport failure is worth retrying; anything else (a response
		// without access_token, unparsable JSON) is the endpoint's final word.
		te.Retryable = errors.As(err, &ue)
		if te.Retryable && ue.Err != nil {
			te.Err = a.red.cleanErr(ue.Err) // without `Post "<token URL>": `: the message names the URL once
		}
	}
	if te.Retryable {
		return te
	}
	what := "the token endpoint rejected the request"
	var keys []string // the settings the advice names, by key
	switch te.StatusCode {
	case 0:
		what = "the token endpoint returned an unusable response (check unity_catalog_url)"
		keys = []string{"unity_catalog_url"}
	case http.StatusBadRequest:
		// RFC 6749 §5.2: a 400 is a malformed or unacceptable request; only
		// its invalid_client (or unauthorized_client) error is about the
		// credentials.
		what = "the token endpoint answered 400 Bad Request: it refused the request (its error and description follow; check unity_catalog_url, the table name, and that a proxy passes the request unchanged)"
		if te.ErrorCode == "invalid_client" || te.ErrorCode == "unauthorized_client" {
			what, keys = credentialsRejected, credentialKeys
		}
	case http.StatusUnauthorized:
		what, keys = credentialsRejected, credentialKeys
	case http.StatusForbidden:
		what = fmt.Sprintf("the service principal may not request a Zerobus token for table %s (needs USE CATALOG, USE SCHEMA, SELECT and MODIFY)", a.table)
	case http.StatusNotFound:
		what = "no token endpoint at unity_catalog_url (check unity_catalog_url)"
		keys = []string{"unity_catalog_url"}
	case http.StatusProxyAuthRequired:
		what = "proxy authentication failed: the HTTP proxy from the environment (HTTPS_PROXY) answered 407 Proxy Authentication Required"
		if a.proxy != "" {
			what = "proxy authentication failed: the HTTP proxy " + a.proxy + " answered 407 Proxy Authentication Required (check the user:password in the proxy URL)"
		}
	}
	return &AuthError{What: what, Keys: keys, Err: te}
}

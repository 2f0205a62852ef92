package zerobuslocal

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// TokenPath is the OAuth token endpoint path on the workspace URL.
const TokenPath = "/oidc/v1/token"

// The RFC 8693 token exchange grant and the subject token type it takes.
const (
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
)

// checkSubjectToken accepts a JWT-shaped subject token: three base64url
// segments whose first is a JSON header with "alg". The signature is not
// verified (there is no identity provider on loopback).
func checkSubjectToken(tok, typ string) string {
	if typ != TokenTypeJWT {
		return fmt.Sprintf("subject_token_type %q: want %s", typ, TokenTypeJWT)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" {
		return "subject_token is not a JWT (want three base64url segments)"
	}
	hdr, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[0], "="))
	var h map[string]any
	if err != nil || json.Unmarshal(hdr, &h) != nil || h["alg"] == nil {
		return "subject_token is not a JWT (its header is not base64url JSON with \"alg\")"
	}
	return ""
}

type tokenInfo struct {
	table   string
	expires time.Time
}

// SetTokenLifetime changes the lifetime of tokens issued from now on.
// d <= 0 restores Options.TokenLifetime's default of 1h.
func (s *Server) SetTokenLifetime(d time.Duration) {
	if d <= 0 {
		d = DefaultTokenLifetime
	}
	s.tokenLifetime.Store(int64(d))
}

// IssueToken mints a bearer token for table valid for lifetime (<= 0: the
// current token lifetime) without going through the token endpoint, for
// clients that bring their own headers.
func (s *Server) IssueToken(table string, lifetime time.Duration) string {
	if lifetime <= 0 {
		lifetime = time.Duration(s.tokenLifetime.Load())
	}
	tok := "zbl_" + randomHex(24)
	now := time.Now()
	s.mu.Lock()
	s.tokens[tok] = tokenInfo{table: table, expires: now.Add(lifetime)}
	if len(s.tokens) >= max(s.tokenSweep, minTokenSweep) {
		s.sweepTokens(now)
	}
	s.mu.Unlock()
	return tok
}

// A token expired for longer than expiredTokenKept is forgotten (then
// refused as "invalid or revoked" rather than "expired"), so that a
// long-running server's memory does not grow with every token it issued.
// IssueToken sweeps when the map has doubled since the last sweep, at least
// minTokenSweep entries: amortised O(1) per token.
const (
	expiredTokenKept = time.Hour
	minTokenSweep    = 1024
)

// sweepTokens forgets the tokens expired more than expiredTokenKept before
// now. s.mu held.
func (s *Server) sweepTokens(now time.Time) {
	for tok, ti := range s.tokens {
		if now.Sub(ti.expires) > expiredTokenKept {
			delete(s.tokens, tok)
		}
	}
	s.tokenSweep = 2 * len(s.tokens)
}

// RevokeTokens invalidates every token issued for table ("" = all tables):
// new streams using them fail with UNAUTHENTICATED. Open streams are not
// affected (use a FaultExpireToken fault for that). It returns how many
// tokens were revoked.
func (s *Server) RevokeTokens(table string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for tok, ti := range s.tokens {
		if table == "" || ti.table == table {
			delete(s.tokens, tok)
			n++
		}
	}
	return n
}

func (s *Server) revokeToken(tok string) {
	s.mu.Lock()
	delete(s.tokens, tok)
	s.mu.Unlock()
}

// checkToken validates a bearer token for a Zerobus stream to table. It returns "" when valid,
// else whether the problem is authentication (true) or permission (false)
// and a message that never contains the token.
func (s *Server) checkToken(tok, table string) (msg string, unauthenticated bool) {
	if tok == "" {
		return "missing bearer token in the authorization header", true
	}
	if s.opts.AllowAnyToken {
		return "", false
	}
	s.mu.Lock()
	ti, ok := s.tokens[tok]
	s.mu.Unlock()
	switch {
	case !ok:
		return "invalid or revoked access token", true
	case time.Now().After(ti.expires):
		return "access token expired", true
	case ti.table == "":
		return fmt.Sprintf("access token has no Zerobus authorization for table %s (request it with the zerobusDirectWriteApi resource and authorization_details)", table), false
	case ti.table != table:
		return fmt.Sprintf("access token was issued for table %s, not %s", ti.table, table), false
	}
	return "", false
}

// checkAPIToken validates a bearer token for the Unity Catalog API on
// table: a workspace token (scope all-apis) or a token issued for table.
// It returns the HTTP status to answer (0 when valid) and a message.
func (s *Server) checkAPIToken(r *http.Request, table string) (int, string) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(tok) == "" {
		return http.StatusUnauthorized, "missing bearer token in the Authorization header"
	}
	if s.opts.AllowAnyToken {
		return 0, ""
	}
	s.mu.Lock()
	ti, known := s.tokens[strings.TrimSpace(tok)]
	s.mu.Unlock()
	switch {
	case !known:
		return http.StatusUnauthorized, "invalid or revoked access token"
	case time.Now().After(ti.expires):
		return http.StatusUnauthorized, "access token expired"
	case ti.table != "" && ti.table != table:
		return http.StatusForbidden, fmt.Sprintf("access token was issued for table %s, not %s", ti.table, table)
	}
	return 0, ""
}

// handleToken is POST /oidc/v1/token: OAuth2 client credentials with the
// Zerobus resource and authorization_details.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.tokenError(w, "", http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.tokenError(w, "", http.StatusBadRequest, "invalid_request", "cannot parse the form body: "+err.Error())
		return
	}
	form := r.PostForm
	table, detailsErr := parseAuthorizationDetails(form.Get("authorization_details"))

	for _, af := range s.faults.matching(table, true) {
		if !s.faults.claim(af) {
			continue
		}
		s.stats.faultsFired.Add(1)
		s.events.add(Event{Kind: EventFaultFired, Table: table, Fault: af.f.Kind})
		switch af.f.Kind {
		case FaultTokenLatency:
			t := time.NewTimer(af.f.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-s.closing:
				t.Stop()
				return
			}
		case FaultTokenError:
			msg := af.f.Message
			if msg == "" {
				msg = fmt.Sprintf("zerobuslocal: injected token endpoint failure (HTTP %d)", af.f.HTTPStatus)
			}
			s.tokenError(w, table, af.f.HTTPStatus, "server_error", msg)
			return
		}
	}

	switch gt := form.Get("grant_type"); gt {
	case GrantTokenExchange:
		// Federated identity (RFC 8693): an IdP JWT instead of a secret.
		if s.opts.DisableTokenExchange {
			s.tokenError(w, table, http.StatusBadRequest, "unsupported_grant_type", "token exchange is disabled on this server")
			return
		}
		if msg := checkSubjectToken(form.Get("subject_token"), form.Get("subject_token_type")); msg != "" {
			s.tokenError(w, table, http.StatusBadRequest, "invalid_grant", msg)
			return
		}
		if id := form.Get("client_id"); id != "" && subtle.ConstantTimeCompare([]byte(id), []byte(s.clientID)) != 1 {
			s.tokenError(w, table, http.StatusUnauthorized, "invalid_client", "unknown client_id for workload identity federation")
			return
		}
	case "client_credentials":
		id, secret, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="zerobus-local"`)
			s.tokenError(w, table, http.StatusUnauthorized, "invalid_client", "missing HTTP Basic client authentication")
			return
		}
		if !basicCredential(id, s.clientID) || !basicCredential(secret, s.ClientSecret()) {
			w.Header().Set("WWW-Authenticate", `Basic realm="zerobus-local"`)
			s.tokenError(w, table, http.StatusUnauthorized, "invalid_client", "unknown client id or wrong client secret")
			return
		}
	default:
		s.tokenError(w, table, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q: want client_credentials or %s", gt, GrantTokenExchange))
		return
	}
	if sc := form.Get("scope"); !slices.Contains(strings.Fields(sc), "all-apis") {
		s.tokenError(w, table, http.StatusBadRequest, "invalid_scope", fmt.Sprintf("scope %q: want all-apis", sc))
		return
	}
	// A token with scope all-apis alone (no Zerobus resource, no
	// authorization_details) is a workspace token: good for the Unity
	// Catalog API, refused by the Zerobus service.
	workspaceOnly := form.Get("resource") == "" && form.Get("authorization_details") == ""
	if !workspaceOnly {
		if msg := s.checkResource(form.Get("resource")); msg != "" {
			s.tokenError(w, table, http.StatusBadRequest, "invalid_target", msg)
			return
		}
		if detailsErr != nil {
			s.tokenError(w, table, http.StatusBadRequest, "invalid_request", "authorization_details: "+detailsErr.Error())
			return
		}
	}

	lifetime := time.Duration(s.tokenLifetime.Load())
	tok := s.IssueToken(table, lifetime)
	s.stats.tokensIssued.Add(1)
	s.events.add(Event{Kind: EventTokenIssued, Table: table, Duration: lifetime})
	expiresIn := int64((lifetime + time.Second - 1) / time.Second)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   expiresIn,
		"scope":        "all-apis",
	})
}

func (s *Server) checkResource(res string) string {
	const prefix, suffix = "api://databricks/workspaces/", "/zerobusDirectWriteApi"
	if !strings.HasPrefix(res, prefix) || !strings.HasSuffix(res, suffix) || len(res) <= len(prefix)+len(suffix) {
		return fmt.Sprintf("resource %q: want %s<workspace-id>%s", res, prefix, suffix)
	}
	id := res[len(prefix) : len(res)-len(suffix)]
	if !s.workspaceIDs[id] && !s.workspaceIDs[hostOfWorkspaceID(id)] {
		ids := make([]string, 0, len(s.workspaceIDs))
		for k := range s.workspaceIDs {
			ids = append(ids, k)
		}
		slices.Sort(ids)
		return fmt.Sprintf("resource names workspace %q; this server accepts %s (the first DNS label of the Zerobus endpoint host; a \":<port>\" after it is ignored)", id, strings.Join(ids, ", "))
	}
	return ""
}

// hostOfWorkspaceID returns the host of a "host:port" workspace id ("" if
// id has no numeric port). The official Rust SDK takes the workspace id as
// the endpoint's text up to its first '.', so an endpoint without a dot
// ("http://localhost:50051") gives "localhost:50051"; it names the same
// workspace as its host (any port: a forwarded one differs from ours).
func hostOfWorkspaceID(id string) string {
	i := strings.LastIndexByte(id, ':')
	if i <= 0 || i == len(id)-1 || len(id)-i > 6 || strings.Trim(id[i+1:], "0123456789") != "" {
		return ""
	}
	return strings.TrimSuffix(strings.TrimPrefix(id[:i], "["), "]")
}

type authDetail struct {
	Type           string   `json:"type"`
	Privileges     []string `json:"privileges"`
	ObjectType     string   `json:"object_type"`
	ObjectFullPath string   `json:"object_full_path"`
	Operations     []string `json:"operations,omitempty"`
}

// parseAuthorizationDetails validates the three Unity Catalog privilege
// objects and returns the table they grant (best effort even on error, so
// faults can match).
func parseAuthorizationDetails(raw string) (string, error) {
	if raw == "" {
		return "", fmt.Errorf("missing")
	}
	var ds []authDetail
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ds); err != nil {
		return "", fmt.Errorf("not a JSON array of privilege objects: %v", err)
	}
	byType := map[string]authDetail{}
	table := ""
	for _, d := range ds {
		if d.ObjectType == "TABLE" {
			table = d.ObjectFullPath
		}
	}
	if len(ds) != 3 {
		return table, fmt.Errorf("want 3 objects (CATALOG, SCHEMA, TABLE), got %d", len(ds))
	}
	for i, d := range ds {
		if d.Type != "unity_catalog_privileges" {
			return table, fmt.Errorf("object %d: type %q, want unity_catalog_privileges", i, d.Type)
		}
		if _, dup := byType[d.ObjectType]; dup {
			return table, fmt.Errorf("object %d: object_type %q appears twice", i, d.ObjectType)
		}
		byType[d.ObjectType] = d
	}
	if err := checkTableName(table); err != nil {
		return table, fmt.Errorf("TABLE object_full_path: %v", err)
	}
	parts := strings.Split(table, ".")
	want := []struct {
		typ, path string
		privs     []string
	}{
		{"CATALOG", parts[0], []string{"USE CATALOG"}},
		{"SCHEMA", parts[0] + "." + parts[1], []string{"USE SCHEMA"}},
		{"TABLE", table, []string{"SELECT", "MODIFY"}},
	}
	for _, w := range want {
		d, ok := byType[w.typ]
		if !ok {
			return table, fmt.Errorf("no object with object_type %s", w.typ)
		}
		if d.ObjectFullPath != w.path {
			return table, fmt.Errorf("%s object_full_path %q, want %q", w.typ, d.ObjectFullPath, w.path)
		}
		got := slices.Clone(d.Privileges)
		slices.Sort(got)
		wantPrivs := slices.Clone(w.privs)
		slices.Sort(wantPrivs)
		if !slices.Equal(got, wantPrivs) {
			return table, fmt.Errorf("%s privileges %q, want %q", w.typ, d.Privileges, w.privs)
		}
		if d.Operations != nil && (w.typ != "TABLE" || !slices.Equal(d.Operations, []string{"zerobuswrite"})) {
			return table, fmt.Errorf("%s operations %q: only the TABLE object may carry [\"zerobuswrite\"]", w.typ, d.Operations)
		}
	}
	return table, nil
}

func (s *Server) tokenError(w http.ResponseWriter, table string, code int, kind, desc string) {
	s.stats.tokensRejected.Add(1)
	s.events.add(Event{Kind: EventTokenRejected, Table: table, HTTPStatus: code, Message: desc})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": kind, "error_description": desc})
}

// basicCredential reports whether got, a client id or secret from HTTP
// Basic authentication, is want: as sent, or form-urlencoded as RFC 6749
// §2.3.1 asks of clients (Go's oauth2 package encodes; other clients send
// the value as it is).
func basicCredential(got, want string) bool {
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
		return true
	}
	dec, err := url.QueryUnescape(got)
	return err == nil && subtle.ConstantTimeCompare([]byte(dec), []byte(want)) == 1
}

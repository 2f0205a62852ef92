package zerobuslocal_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

func TestTokenEndpoint(t *testing.T) {
	s := start(t, zerobuslocal.Options{ClientSecret: "s3cret-value", WorkspaceID: "1234567890"})
	with := func(f func(v url.Values)) url.Values {
		v := tokenForm(testTable)
		f(v)
		return v
	}
	details := func(d string) url.Values { return with(func(v url.Values) { v.Set("authorization_details", d) }) }
	obj := func(typ, privs, path, extra string) string {
		return `{"type":"unity_catalog_privileges","privileges":` + privs + `,"object_type":"` + typ + `","object_full_path":"` + path + `"` + extra + `}`
	}
	cat := obj("CATALOG", `["USE CATALOG"]`, "main", "")
	sch := obj("SCHEMA", `["USE SCHEMA"]`, "main.default", "")
	tbl := obj("TABLE", `["SELECT","MODIFY"]`, testTable, "")

	tests := []struct {
		name       string
		id, secret string
		form       url.Values
		code       int
		errKind    string
		substr     string
	}{
		{"ok with operations", "local-client", "s3cret-value", tokenForm(testTable), 200, "", ""},
		{"ok without operations", "local-client", "s3cret-value", details("[" + cat + "," + sch + "," + tbl + "]"), 200, "", ""},
		{"ok objects in any order, privileges in any order", "local-client", "s3cret-value", details("[" + obj("TABLE", `["MODIFY","SELECT"]`, testTable, "") + "," + sch + "," + cat + "]"), 200, "", ""},
		{"ok localhost workspace", "local-client", "s3cret-value", with(func(v url.Values) { v.Set("resource", "api://databricks/workspaces/localhost/zerobusDirectWriteApi") }), 200, "", ""},
		{"ok configured workspace id", "local-client", "s3cret-value", with(func(v url.Values) { v.Set("resource", "api://databricks/workspaces/1234567890/zerobusDirectWriteApi") }), 200, "", ""},
		{"no basic auth", "", "", tokenForm(testTable), 401, "invalid_client", "missing HTTP Basic"},
		{"wrong secret", "local-client", "wrong", tokenForm(testTable), 401, "invalid_client", "wrong client secret"},
		{"wrong id", "someone", "s3cret-value", tokenForm(testTable), 401, "invalid_client", ""},
		{"grant type", "local-client", "s3cret-value", with(func(v url.Values) { v.Set("grant_type", "password") }), 400, "unsupported_grant_type", "password"},
		{"scope", "local-client", "s3cret-value", with(func(v url.Values) { v.Del("scope") }), 400, "invalid_scope", "all-apis"},
		{"resource other workspace", "local-client", "s3cret-value", with(func(v url.Values) { v.Set("resource", "api://databricks/workspaces/999/zerobusDirectWriteApi") }), 400, "invalid_target", `workspace "999"`},
		{"resource malformed", "local-client", "s3cret-value", with(func(v url.Values) { v.Set("resource", "https://example") }), 400, "invalid_target", "zerobusDirectWriteApi"},
		{"details missing", "local-client", "s3cret-value", with(func(v url.Values) { v.Del("authorization_details") }), 400, "invalid_request", "missing"},
		{"details not JSON", "local-client", "s3cret-value", details("{"), 400, "invalid_request", "not a JSON array"},
		{"details unknown key", "local-client", "s3cret-value", details(`[{"type":"unity_catalog_privileges","x":1}]`), 400, "invalid_request", "unknown field"},
		{"details two objects", "local-client", "s3cret-value", details("[" + cat + "," + tbl + "]"), 400, "invalid_request", "want 3 objects"},
		{"details wrong type", "local-client", "s3cret-value", details("[" + strings.Replace(cat, "unity_catalog_privileges", "other", 1) + "," + sch + "," + tbl + "]"), 400, "invalid_request", `type "other"`},
		{"details duplicate object type", "local-client", "s3cret-value", details("[" + cat + "," + cat + "," + tbl + "]"), 400, "invalid_request", "appears twice"},
		{"details catalog path", "local-client", "s3cret-value", details("[" + obj("CATALOG", `["USE CATALOG"]`, "other", "") + "," + sch + "," + tbl + "]"), 400, "invalid_request", `CATALOG object_full_path "other"`},
		{"details schema privileges", "local-client", "s3cret-value", details("[" + cat + "," + obj("SCHEMA", `["ALL"]`, "main.default", "") + "," + tbl + "]"), 400, "invalid_request", "SCHEMA privileges"},
		{"details table privileges", "local-client", "s3cret-value", details("[" + cat + "," + sch + "," + obj("TABLE", `["SELECT"]`, testTable, "") + "]"), 400, "invalid_request", "TABLE privileges"},
		{"details operations on schema", "local-client", "s3cret-value", details("[" + cat + "," + obj("SCHEMA", `["USE SCHEMA"]`, "main.default", `,"operations":["zerobuswrite"]`) + "," + tbl + "]"), 400, "invalid_request", "operations"},
		{"details bad operation", "local-client", "s3cret-value", details("[" + cat + "," + sch + "," + obj("TABLE", `["SELECT","MODIFY"]`, testTable, `,"operations":["read"]`) + "]"), 400, "invalid_request", "operations"},
		{"details bad table name", "local-client", "s3cret-value", details("[" + cat + "," + sch + "," + obj("TABLE", `["SELECT","MODIFY"]`, "main.default.bad-name", "") + "]"), 400, "invalid_request", "bad-name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, tr := postToken(t, s, nil, tc.id, tc.secret, tc.form)
			if code != tc.code {
				t.Fatalf("HTTP status: got %d (%+v), want %d", code, tr, tc.code)
			}
			if strings.Contains(tr.Description, "s3cret-value") {
				t.Errorf("error description leaks the secret: %q", tr.Description)
			}
			if tc.code == 200 {
				if tr.AccessToken == "" || tr.ExpiresIn != 3600 || tr.TokenType != "Bearer" {
					t.Errorf("token response: got %+v, want a Bearer token expiring in 3600s", tr)
				}
				return
			}
			if tr.Error != tc.errKind || !strings.Contains(tr.Description, tc.substr) {
				t.Errorf("error: got %q %q, want %q containing %q", tr.Error, tr.Description, tc.errKind, tc.substr)
			}
		})
	}
	res, err := http.Get(s.WorkspaceURL() + "/oidc/v1/token")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET token: got %d, want 405", res.StatusCode)
	}
	st := s.Stats()
	if st.TokensIssued != 5 || st.TokensRejected != int64(len(tests)-5+1) {
		t.Errorf("Stats: got issued %d rejected %d, want 5 and %d", st.TokensIssued, st.TokensRejected, len(tests)-5+1)
	}
}

func TestTokenLifetime(t *testing.T) {
	s := start(t, zerobuslocal.Options{TokenLifetime: 90 * time.Second})
	if _, tr := postToken(t, s, nil, s.ClientID(), s.ClientSecret(), tokenForm(testTable)); tr.ExpiresIn != 90 {
		t.Errorf("expires_in: got %d, want 90", tr.ExpiresIn)
	}
	s.SetTokenLifetime(1500 * time.Millisecond)
	if _, tr := postToken(t, s, nil, s.ClientID(), s.ClientSecret(), tokenForm(testTable)); tr.ExpiresIn != 2 {
		t.Errorf("expires_in for 1.5s: got %d, want 2 (rounded up)", tr.ExpiresIn)
	}
	s.SetTokenLifetime(time.Millisecond)
	tok := token(t, s, testTable)
	time.Sleep(5 * time.Millisecond) // past the 1ms lifetime: expired whatever the scheduling
	_, err := tryCreate(t, s, tok, testTable)
	wantStatus(t, err, codes.Unauthenticated, "expired")
}

func TestTokenFaults(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 503, Message: "try later"})
	s.InjectFault("main.default.other", zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenError, Persistent: true})
	s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenLatency, Latency: 10 * time.Millisecond})

	code, tr := postToken(t, s, nil, s.ClientID(), s.ClientSecret(), tokenForm(testTable))
	if code != 503 || tr.Description != "try later" {
		t.Errorf("first request: got %d %+v, want 503 try later", code, tr)
	}
	if code, tr := postToken(t, s, nil, s.ClientID(), s.ClientSecret(), tokenForm(testTable)); code != 200 || tr.AccessToken == "" {
		t.Errorf("second request: got %d %+v, want 200 (one-shot fault)", code, tr)
	}
	for i := 0; i < 2; i++ {
		if code, _ := postToken(t, s, nil, s.ClientID(), s.ClientSecret(), tokenForm("main.default.other")); code != 500 {
			t.Errorf("persistent fault, request %d: got %d, want 500", i, code)
		}
	}
	if got := s.Stats().FaultsFired; got != 4 {
		t.Errorf("FaultsFired: got %d, want 4 (error, latency, 2 persistent)", got)
	}
}

func TestTokenExchangeGrant(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2ln" // {"alg":"RS256"}.{"sub":"workload"}.sig
	form := tokenForm(testTable)
	form.Set("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange")
	form.Set("subject_token", jwt)
	form.Set("subject_token_type", "urn:ietf:params:oauth:token-type:jwt")
	code, tr := postToken(t, s, nil, "", "", form) // no Basic auth
	if code != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("token exchange: HTTP %d %+v", code, tr)
	}
	st := openStream(t, dial(t, s), tr.AccessToken, testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	form.Set("client_id", s.ClientID())
	if code, _ := postToken(t, s, nil, "", "", form); code != http.StatusOK {
		t.Errorf("with the workload client_id: HTTP %d", code)
	}
	for name, mut := range map[string]func(v url.Values){
		"not a JWT":      func(v url.Values) { v.Set("subject_token", "opaque") },
		"wrong type":     func(v url.Values) { v.Set("subject_token_type", "urn:ietf:params:oauth:token-type:access_token") },
		"unknown client": func(v url.Values) { v.Set("client_id", "someone-else") },
		"no resource":    func(v url.Values) { v.Set("resource", "api://databricks/workspaces/9/zerobusDirectWriteApi") },
		"no subject":     func(v url.Values) { v.Del("subject_token") },
		"unknown grant":  func(v url.Values) { v.Set("grant_type", "password") },
	} {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = append([]string(nil), v...)
		}
		mut(bad)
		if code, tr := postToken(t, s, nil, "", "", bad); code < 400 || tr.AccessToken != "" {
			t.Errorf("%s: HTTP %d %+v, want a 4xx without token", name, code, tr)
		}
	}
	s2 := start(t, zerobuslocal.Options{DisableTokenExchange: true})
	form.Del("client_id")
	if code, tr := postToken(t, s2, nil, "", "", form); code != http.StatusBadRequest || tr.Error != "unsupported_grant_type" {
		t.Errorf("disabled: HTTP %d %+v", code, tr)
	}
}

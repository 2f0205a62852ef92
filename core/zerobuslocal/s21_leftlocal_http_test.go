package zerobuslocal

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestUnityCatalogRouteRefusesInJSON: a request under the Unity Catalog
// tables path that no route serves is answered in that API's error shape
// ({"error_code", "message"}, as its 401, 400 and 404 are): a wrong method
// is 405 with Allow naming GET and HEAD, another path 404. Before, both were
// the mux's plain text ("Method Not Allowed", "404 page not found"). The
// token route already answered a wrong method in its OAuth shape with
// Allow: POST; that is pinned here too.
func TestUnityCatalogRouteRefusesInJSON(t *testing.T) {
	s, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	cols, err := ParseColumns("id BIGINT")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns("main.default.uc405", cols); err != nil {
		t.Fatal(err)
	}
	tok := s.IssueToken("main.default.uc405", 0)
	do := func(method, path string) (*http.Response, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, s.WorkspaceURL()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("%s %s: %d %q is not a JSON object: %v", method, path, res.StatusCode, body, err)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q, want application/json", method, path, ct)
		}
		return res, out
	}
	const table = UnityCatalogTablesPath + "main.default.uc405"
	for _, c := range []struct {
		method, path, allow, code, msg string
		status                         int
	}{
		{"POST", table, "GET, HEAD", "METHOD_NOT_ALLOWED", "POST " + table + ": the method is not served on this path; use GET or HEAD", http.StatusMethodNotAllowed},
		{"DELETE", table, "GET, HEAD", "METHOD_NOT_ALLOWED", "DELETE " + table + ": the method is not served on this path; use GET or HEAD", http.StatusMethodNotAllowed},
		{"PUT", UnityCatalogTablesPath + "x", "GET, HEAD", "METHOD_NOT_ALLOWED", "PUT " + UnityCatalogTablesPath + "x: the method is not served on this path; use GET or HEAD", http.StatusMethodNotAllowed},
		{"GET", table + "/columns", "", "ENDPOINT_NOT_FOUND", "GET " + table + "/columns: no such endpoint; the Unity Catalog API here serves GET " + UnityCatalogTablesPath + "{catalog.schema.table}", http.StatusNotFound},
		{"GET", UnityCatalogTablesPath, "", "ENDPOINT_NOT_FOUND", "GET " + UnityCatalogTablesPath + ": no such endpoint;", http.StatusNotFound},
		{"POST", strings.TrimSuffix(UnityCatalogTablesPath, "/"), "", "ENDPOINT_NOT_FOUND", "POST " + strings.TrimSuffix(UnityCatalogTablesPath, "/") + ": no such endpoint;", http.StatusNotFound},
	} {
		res, out := do(c.method, c.path)
		msg, _ := out["message"].(string)
		if res.StatusCode != c.status || res.Header.Get("Allow") != c.allow || out["error_code"] != c.code || !strings.HasPrefix(msg, c.msg) {
			t.Errorf("%s %s: %d Allow %q %v; want %d Allow %q error_code %q message %q", c.method, c.path,
				res.StatusCode, res.Header.Get("Allow"), out, c.status, c.allow, c.code, c.msg)
		}
	}
	// The route itself still answers, and its own refusals keep their codes.
	if res, out := do("GET", table); res.StatusCode != http.StatusOK || out["full_name"] != "main.default.uc405" {
		t.Errorf("GET %s: %d %v", table, res.StatusCode, out)
	}
	if res, out := do("GET", UnityCatalogTablesPath+"main.default.nope"); res.StatusCode != http.StatusForbidden || out["error_code"] != "PERMISSION_DENIED" {
		t.Errorf("GET another table: %d %v, want 403 PERMISSION_DENIED", res.StatusCode, out)
	}
	// The token route: 405 in the OAuth error shape, Allow: POST.
	res, out := do("GET", TokenPath)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST" || out["error"] != "invalid_request" || out["error_description"] != "use POST" {
		t.Errorf("GET %s: %d Allow %q %v; want 405 Allow POST invalid_request", TokenPath, res.StatusCode, res.Header.Get("Allow"), out)
	}
}

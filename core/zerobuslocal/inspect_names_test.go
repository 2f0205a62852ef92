package zerobuslocal_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A table name that can never exist (a "/" in it, sent %2F-escaped as one
// path segment, or another character a name refuses) is answered 400 naming
// it by every /tables/{name} route, as creating it is: not 404 "no table",
// and not another route (a "/" unescaped would make the path
// /tables/main.default.a/b).
func TestInspectRefusesInvalidTableNames(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	base := s.WorkspaceURL() + zerobuslocal.InspectPrefix
	for _, name := range []string{"main.default.a/b", "main.default.a&b", "main.default.<b>", "a/b", "main.default.a?b#c", "main.default.a%2Fb", "..", "."} {
		escaped := strings.ReplaceAll(url.PathEscape(name), ".", "%2E")
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/tables/" + escaped, map[string]string{"columns": "id BIGINT"}},
			{"GET", "/tables/" + escaped, nil},
			{"DELETE", "/tables/" + escaped, nil},
			{"GET", "/tables/" + escaped + "/rows", nil},
			{"GET", "/tables/" + escaped + "/arrow", nil},
		} {
			code, body := httpDo(t, nil, c.method, base+c.path, c.body)
			var out struct {
				Error string `json:"error"`
			}
			_ = json.Unmarshal(body, &out)
			if want := fmt.Sprintf("invalid table name %q", name); code != http.StatusBadRequest || !strings.Contains(out.Error, want) {
				t.Errorf("%s %s: got %d %s, want 400 with %s", c.method, c.path, code, body, want)
			}
		}
	}
	// The empty name: "/tables/" matched no route (404 "not found", which
	// Python's create_table("") raised as LookupError).
	for _, method := range []string{"POST", "GET", "DELETE"} {
		var body any
		if method == "POST" {
			body = map[string]string{"columns": "id BIGINT"}
		}
		code, got := httpDo(t, nil, method, base+"/tables/", body)
		if code != http.StatusBadRequest || !strings.Contains(string(got), `invalid table name \"\"`) {
			t.Errorf("%s /tables/: got %d %s, want 400 naming the empty name", method, code, got)
		}
	}
	if code, _ := httpDo(t, nil, "GET", base+"/tables", nil); code != http.StatusOK {
		t.Errorf("GET /tables (the list): %d", code)
	}
	if tables := s.Tables(); len(tables) != 0 {
		t.Errorf("tables after refused names: %v", tables)
	}
}

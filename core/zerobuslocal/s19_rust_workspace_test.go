package zerobuslocal_test

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// The official Rust SDK takes the workspace id as the endpoint's text after
// the scheme up to its first '.', port included, so the endpoint
// "http://localhost:<port>" (its README's local example) asks for a token
// for workspace "localhost:<port>". The token endpoint answers it like
// "localhost" (it answered 400 invalid_target), the token opens a stream,
// and a workspace id naming another workspace stays refused, with a port
// or without.
func TestRustSDKWorkspaceIDWithPort(t *testing.T) {
	s := start(t, zerobuslocal.Options{WorkspaceID: "ws42"})
	_, port, err := net.SplitHostPort(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	const table = "main.default.lh"
	for _, tc := range []struct {
		id   string
		want int
	}{
		{"localhost:" + port, http.StatusOK},
		{"127:" + port, http.StatusOK},
		{"ws42:" + port, http.StatusOK},
		{"localhost:1", http.StatusOK}, // a forwarded port
		{"ws42", http.StatusOK},
		{"other:" + port, http.StatusBadRequest},
		{"999:" + port, http.StatusBadRequest},
		{"ws43", http.StatusBadRequest},
		{"localhost:", http.StatusBadRequest},
		{"localhost:" + port + "x", http.StatusBadRequest},
		{"localhost:1234567", http.StatusBadRequest},
		{":" + port, http.StatusBadRequest},
		{"localhost:" + port + ":" + port, http.StatusBadRequest},
	} {
		form := tokenForm(table)
		form.Set("resource", "api://databricks/workspaces/"+tc.id+"/zerobusDirectWriteApi")
		code, tr := postToken(t, s, nil, s.ClientID(), s.ClientSecret(), form)
		if code != tc.want {
			t.Errorf("workspace %q: got HTTP %d %+v, want %d", tc.id, code, tr, tc.want)
			continue
		}
		if tc.want != http.StatusOK {
			if tr.Error != "invalid_target" || !strings.Contains(tr.Description, `"`+tc.id+`"`) {
				t.Errorf("workspace %q: got %+v, want invalid_target naming it", tc.id, tr)
			}
			continue
		}
		if tr.AccessToken == "" {
			t.Errorf("workspace %q: no token in %+v", tc.id, tr)
			continue
		}
		if tc.id == "localhost:"+port {
			st := openStream(t, dial(t, s), tr.AccessToken, table)
			st.create(table, nil, zerobuspb.RecordType_JSON)
			st.send(jsonReq(0, `{"id": 1}`))
			st.expectAck(0)
			if err := st.finish(); err != nil {
				t.Fatalf("stream with the token for %q: %v", tc.id, err)
			}
		}
	}
}

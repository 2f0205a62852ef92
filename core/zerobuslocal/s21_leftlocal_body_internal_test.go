package zerobuslocal

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// startWithBodyBound starts a server whose request bodies must arrive
// within bound (connTimeouts.httpBody is read by Start).
func startWithBodyBound(t *testing.T, bound time.Duration) *Server {
	t.Helper()
	saved := connTimeouts
	connTimeouts.httpBody = bound
	s, err := Start(t.Context(), Options{})
	connTimeouts = saved
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// rawRequest writes head (a request's line and headers, without the blank
// line) and then body to a new connection to s's HTTP listener, and reads
// the answer until the server closes the connection. The read is guarded
// by a deadline far beyond any bound in these tests: a server that holds
// the connection fails the test there instead of hanging it.
func rawRequest(t *testing.T, s *Server, head, body string) (*http.Response, string, bool) {
	t.Helper()
	u, _ := url.Parse(s.WorkspaceURL())
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, head+"\r\nHost: 127.0.0.1\r\n\r\n"+body); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("%s: no answer: %v", strings.SplitN(head, "\r\n", 2)[0], err)
	}
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s: reading the answer: %v", strings.SplitN(head, "\r\n", 2)[0], err)
	}
	res.Body.Close()
	_, err = br.ReadByte()
	closed := err == io.EOF
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("%s: the server kept the connection open after its answer %d %q", strings.SplitN(head, "\r\n", 2)[0], res.StatusCode, got)
	}
	return res, string(got), closed
}

// TestStalledBodyIsAnswered: a client that sends a request's headers and
// half of its body, then stalls, gets the route's answer to a failed read,
// naming the bound, and the connection closed, on every route that reads a
// body (token, table create, fault inject) and on a route refusing before
// reading it (the Unity Catalog route with a wrong method: net/http
// discards the unread body after the handler). Before, the handler (or
// that discard) waited for the rest until Close.
func TestStalledBodyIsAnswered(t *testing.T) {
	s := startWithBodyBound(t, 100*time.Millisecond)
	for _, c := range []struct {
		name, head, part string
		status           int
		key              string // the JSON key naming the problem ("" none)
	}{
		{"token", "POST " + TokenPath + " HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100",
			"grant_type=client_cre", http.StatusBadRequest, "error_description"},
		{"create table", "POST " + InspectPrefix + "/tables/main.default.stall HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100",
			`{"columns": "id BI`, http.StatusBadRequest, "error"},
		{"fault", "POST " + InspectPrefix + "/faults HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked",
			"8\r\n{\"table\"\r\n", http.StatusBadRequest, "error"},
		{"unity catalog", "POST " + UnityCatalogTablesPath + "main.default.stall HTTP/1.1\r\nContent-Length: 100",
			"{", http.StatusMethodNotAllowed, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, body, closed := rawRequest(t, s, c.head, c.part)
			if res.StatusCode != c.status || !closed {
				t.Fatalf("answer %d %q, connection closed %v; want %d and closed", res.StatusCode, body, closed, c.status)
			}
			if c.key == "" {
				return
			}
			var out map[string]string
			if err := json.Unmarshal([]byte(body), &out); err != nil || !strings.Contains(out[c.key], "the request body did not arrive within 100ms") {
				t.Fatalf("answer %q (%v): want %s naming the bound", body, err, c.key)
			}
		})
	}
	// The server still answers a whole request at once.
	res, body, _ := rawRequest(t, s, "GET "+InspectPrefix+"/stats HTTP/1.1\r\nConnection: close", "")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "records_stored") {
		t.Fatalf("GET /stats after the stalls: %d %q", res.StatusCode, body)
	}
}

// TestBodyBoundEndsWithTheBody: the bound covers the body only. A token
// request whose whole body arrived at once and whose answer a
// token_latency fault holds back three times the bound is answered with
// a token: the bound ends with the body, it cannot cancel the request
// under the handler (a bound kept on the connection, or a timer on the
// request's context, would, and the handler would return without
// answering).
func TestBodyBoundEndsWithTheBody(t *testing.T) {
	s := startWithBodyBound(t, 100*time.Millisecond)
	const table = "main.default.bound"
	if err := s.InjectFault(table, Fault{Kind: FaultTokenLatency, Latency: 300 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {"all-apis"},
		"resource":              {"api://databricks/workspaces/127/zerobusDirectWriteApi"},
		"authorization_details": {fmt.Sprintf(`[{"type":"unity_catalog_privileges","privileges":["USE CATALOG"],"object_type":"CATALOG","object_full_path":"main"},{"type":"unity_catalog_privileges","privileges":["USE SCHEMA"],"object_type":"SCHEMA","object_full_path":"main.default"},{"type":"unity_catalog_privileges","privileges":["SELECT","MODIFY"],"object_type":"TABLE","object_full_path":%q}]`, table)},
	}.Encode()
	req, err := http.NewRequestWithContext(t.Context(), "POST", s.WorkspaceURL()+TokenPath, strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.ClientID(), s.ClientSecret())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK || out.AccessToken == "" {
		t.Fatalf("token after a delay past the body bound: %d %+v (%v)", res.StatusCode, out, err)
	}
	if st := s.Stats(); st.FaultsFired != 1 || st.TokensIssued != 1 {
		t.Fatalf("stats: faults fired %d, tokens issued %d; want 1 and 1", st.FaultsFired, st.TokensIssued)
	}
}

package zerobuslocal

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// Fuzz target (session 20) for the inspection HTTP API (inspect.go) and
// the routes it shares the listener with (the Unity Catalog tables
// endpoint, the token endpoint), driven through the server's own handler
// (httpHandler: Host check, inspect token, content type, then the routes):
// any path, query, method, headers and body are answered without a panic,
// never 5xx, a refusal says what is wrong (in JSON under InspectPrefix), and no answer holds the inspect
// token or the client secret. The seeds run as ordinary tests.

const (
	inspectFuzzToken  = "s20-inspect-token-value"
	inspectFuzzSecret = "s20-client-secret-value"
)

// inspectFuzzMethods are the methods the fuzz target sends (index % len).
var inspectFuzzMethods = []string{http.MethodGet, http.MethodPost, http.MethodDelete, http.MethodHead, http.MethodPut, http.MethodOptions, http.MethodPatch}

// inspectFuzzServer is the server of FuzzInspectAPI: an inspect token, a
// client secret, fuzzDDL's table holding the stream seeds' rows (PROTO,
// JSON, Avro) and its descriptor serialized. Never closed: the process
// (a fuzz worker) ends.
var inspectFuzzServer = sync.OnceValues(func() (*Server, error) {
	s, err := Start(context.Background(), Options{InspectToken: inspectFuzzToken, ClientSecret: inspectFuzzSecret, StreamLifetime: time.Hour})
	if err != nil {
		return nil, err
	}
	return s, fillInspectTable(s)
})

// fillInspectTable (re)creates fuzzTable on s with one row of each record
// type; a no-op when it exists.
func fillInspectTable(s *Server) error {
	if _, ok := s.TableDescriptor(fuzzTable); ok {
		return nil
	}
	cols, err := ParseColumns(fuzzDDL)
	if err != nil {
		return err
	}
	return s.CreateTableColumns(fuzzTable, cols)
}

// seedInspectRows streams one row of each record type to fuzzTable on s.
func seedInspectRows(t testing.TB, s *Server) {
	t.Helper()
	seeds := seedRecords(t, s)
	for _, msgs := range [][][]byte{
		{wire(t, createMsg(fuzzTable, zerobuspb.RecordType_PROTO, seeds.desc, "")), wire(t, batchMsg(0, seeds.proto))},
		{wire(t, createMsg(fuzzTable, zerobuspb.RecordType_JSON, nil, "")), wire(t, &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
			OffsetId: proto.Int64(0), Record: &zerobuspb.IngestRecordRequest_JsonRecord{JsonRecord: string(seeds.json)}}}})},
		{wire(t, createMsg(fuzzTable, zerobuspb.RecordType_AVRO, nil, fuzzAvroSchema)), wire(t, &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
			OffsetId: proto.Int64(0), Record: &zerobuspb.IngestRecordRequest_AvroEncodedRecord{AvroEncodedRecord: seeds.avro}}}})},
	} {
		ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs(HeaderTableName, fuzzTable,
			HeaderAuthorization, "Bearer "+s.IssueToken(fuzzTable, time.Hour)))
		fs := &fakeStream{ctx: ctx, in: msgs}
		if err := (&service{s: s}).EphemeralStream(fs); err != nil {
			t.Fatalf("seeding the inspect table: %v", err)
		}
	}
}

// issuedToken, as the fuzzed Authorization, stands for a workspace token
// the server issued (ucToken): for the Unity Catalog route.
const issuedToken = "$issued"

// ucToken is a workspace token issued by inspectFuzzServer, for one hour.
var ucToken = sync.OnceValue(func() string {
	s, err := inspectFuzzServer()
	if err != nil {
		return ""
	}
	return s.IssueToken("", time.Hour)
})

// inspectRequest is the request FuzzInspectAPI sends: method index,
// path after InspectPrefix (or, starting with "//", a whole path),
// raw query, Content-Type, Authorization (the right bearer token when
// rightToken), Host ("" for 127.0.0.1) and body.
func inspectRequest(method uint8, rest, query, ctype, auth string, rightToken bool, host string, body []byte) (*http.Request, bool) {
	path := InspectPrefix + rest
	if p, ok := strings.CutPrefix(rest, "//"); ok {
		path = "/" + p
	}
	target := path
	if query != "" {
		target += "?" + query
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return nil, false // a server answers 400 before any handler
	}
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", bytes.NewReader(body))
	r.Method = inspectFuzzMethods[int(method)%len(inspectFuzzMethods)]
	r.URL = u
	r.RequestURI = target
	r.Host = "127.0.0.1:8080"
	if host != "" {
		r.Host = host
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if rightToken {
		auth = "Bearer " + inspectFuzzToken
	}
	if auth == issuedToken {
		auth = "Bearer " + ucToken()
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r, true
}

// FuzzInspectAPI: see the file comment. Tables the request creates are
// dropped and faults it injects cleared after it; fuzzTable is made again
// if the request dropped it.
func FuzzInspectAPI(f *testing.F) {
	s, err := inspectFuzzServer()
	if err != nil {
		f.Fatal(err)
	}
	seedInspectRows(f, s)
	desc, _ := s.TableDescriptor(fuzzTable)
	db, err := proto.Marshal(desc)
	if err != nil {
		f.Fatal(err)
	}
	const get, post, del, put = 0, 1, 2, 4
	ok := func(m uint8, rest, query, ctype, body string) {
		f.Add(m, rest, query, ctype, "", true, "", []byte(body))
	}
	ok(get, "/tables", "", "", "")
	ok(get, "/tables/"+fuzzTable, "", "", "")
	ok(get, "/tables/"+fuzzTable+"/rows", "", "", "")
	ok(get, "/tables/"+fuzzTable+"/arrow", "", "", "")
	ok(get, "/stats", "", "", "")
	ok(post, "/tables/main.default.fuzz_b", "", "application/json", `{"columns":"id BIGINT NOT NULL, s STRUCT<a:ARRAY<INT>>"}`)
	ok(post, "/tables/main.default.fuzz_c", "", "application/json", `{"descriptor_base64":"`+base64.StdEncoding.EncodeToString(db)+`"}`)
	ok(post, "/tables/"+fuzzTable, "", "application/json; charset=utf-8", `{"columns":"id INT"}`)
	ok(del, "/tables/main.default.nope", "", "application/json", "")
	ok(del, "/tables/"+fuzzTable, "", "application/json", "")
	ok(post, "/faults", "", "application/json", `{"table":"`+fuzzTable+`","kind":"error","code":"UNAVAILABLE","after":"250ms","persistent":true}`)
	ok(post, "/faults", "", "application/json", `{"kind":"token_latency","latency":"1h","code":14}`)
	ok(del, "/faults", "table="+fuzzTable, "application/json", "")
	ok(put, "/tables/a%2Fb.c.d", "x=%zz", "text/plain", "")
	ok(get, "/tables/main.default.a%2Fb/rows", "", "", "")
	ok(get, "/tablez", "", "", "")
	ok(get, "/faults", "", "", "")
	ok(get, "//api/2.1/unity-catalog/tables/"+fuzzTable, "", "", "")
	ok(post, "//oidc/v1/token", "", "application/x-www-form-urlencoded", "grant_type=client_credentials&scope=all-apis")
	f.Add(uint8(get), "/tables", "", "", "Bearer wrong", false, "", []byte{})
	f.Add(uint8(get), "/stats", "", "", "", true, "evil.example:80", []byte{})
	f.Add(uint8(post), "/faults", "", "application/json", "Bearer "+inspectFuzzToken+" ", false, "[::1]:1", []byte(`{"kind":"nope"}`))
	f.Add(uint8(get), "//api/2.1/unity-catalog/tables/a.b.c", "", "", "Bearer x", false, "localhost", []byte{})
	f.Add(uint8(get), "//api/2.1/unity-catalog/tables/"+fuzzTable, "", "", issuedToken, false, "", []byte{})
	f.Add(uint8(get), "//api/2.1/unity-catalog/tables/main.default.nope", "", "", issuedToken, false, "", []byte{})
	f.Fuzz(func(t *testing.T, method uint8, rest, query, ctype, auth string, rightToken bool, host string, body []byte) {
		s, err := inspectFuzzServer()
		if err != nil {
			t.Fatal(err)
		}
		r, ok := inspectRequest(method, rest, query, ctype, auth, rightToken, host, body)
		if !ok {
			return
		}
		before := map[string]bool{}
		for _, n := range s.Tables() {
			before[n] = true
		}
		defer func() {
			for _, n := range s.Tables() {
				if !before[n] {
					s.DropTable(n)
				}
			}
			s.ClearFaults("")
			if err := fillInspectTable(s); err != nil {
				t.Fatal(err)
			}
		}()
		w := httptest.NewRecorder()
		s.httpHandler().ServeHTTP(w, r)
		checkInspectAnswer(t, r, w, string(body)+auth+rest+query+host+ctype)
	})
}

// checkInspectAnswer: w's answer to r is not 5xx, names what is wrong when
// it refuses (a JSON "error", "error_description" or "message"; the mux's
// plain 404 only outside the inspection and Unity Catalog APIs), and holds no secret the request did not carry
// (sent: everything the request carried, as text).
func checkInspectAnswer(t *testing.T, r *http.Request, w *httptest.ResponseRecorder, sent string) {
	t.Helper()
	got := w.Body.String()
	for _, secret := range []string{inspectFuzzToken, inspectFuzzSecret} {
		if strings.Contains(got, secret) && !strings.Contains(sent, secret) {
			t.Fatalf("%s %s: answer %d %q holds a secret", r.Method, r.RequestURI, w.Code, got)
		}
	}
	if w.Code >= 500 {
		t.Fatalf("%s %s (Host %q, Content-Type %q): answer %d %q", r.Method, r.RequestURI, r.Host, r.Header.Get("Content-Type"), w.Code, got)
	}
	if w.Code < 400 {
		return
	}
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: answer %d is not JSON: %q", r.Method, r.RequestURI, w.Code, got)
		}
		for _, k := range []string{"error", "error_description", "message"} {
			if m, _ := out[k].(string); m != "" {
				return
			}
		}
		t.Fatalf("%s %s: answer %d %q says nothing", r.Method, r.RequestURI, w.Code, got)
	}
	if !strings.HasPrefix(r.URL.Path, InspectPrefix+"/") && !strings.HasPrefix(r.URL.Path, UnityCatalogTablesPath) &&
		w.Code == http.StatusNotFound && got == "404 page not found\n" {
		return // the mux's, outside the APIs (a path no route serves)
	}
	t.Fatalf("%s %s: answer %d %q (Content-Type %q) is not JSON naming what is wrong", r.Method, r.RequestURI, w.Code, got, w.Header().Get("Content-Type"))
}

// TestFuzzInspectSeeds: the inspect fuzz target's seeds reach the routes
// (the fuzzer starts from requests that succeed): the table holds the
// three seed rows and its rows and Arrow answers say so, a table is made
// from columns, and a fault is taken.
func TestFuzzInspectSeeds(t *testing.T) {
	s, err := inspectFuzzServer()
	if err != nil {
		t.Fatal(err)
	}
	seedInspectRows(t, s)
	do := func(method uint8, rest, ctype, body string) *httptest.ResponseRecorder {
		r, ok := inspectRequest(method, rest, "", ctype, "", true, "", []byte(body))
		if !ok {
			t.Fatalf("%s: not a request", rest)
		}
		w := httptest.NewRecorder()
		s.httpHandler().ServeHTTP(w, r)
		checkInspectAnswer(t, r, w, body)
		return w
	}
	var rows []RowJSON
	if w := do(0, "/tables/"+fuzzTable+"/rows", "", ""); w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &rows) != nil || len(rows) < 3 {
		t.Fatalf("rows: %d %.300q", w.Code, w.Body)
	}
	if w := do(0, "/tables/"+fuzzTable+"/arrow", "", ""); w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/vnd.apache.arrow.stream" {
		t.Fatalf("arrow: %d %.300q", w.Code, w.Body)
	}
	if w := do(1, "/tables/main.default.fuzz_b", "application/json", `{"columns":"id BIGINT NOT NULL"}`); w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), `"name":"main.default.fuzz_b"`) {
		t.Fatalf("create: %d %.300q", w.Code, w.Body)
	}
	defer s.DropTable("main.default.fuzz_b")
	if w := do(1, "/faults", "application/json", `{"table":"`+fuzzTable+`","kind":"error","code":"UNAVAILABLE"}`); w.Code != http.StatusNoContent {
		t.Fatalf("fault: %d %.300q", w.Code, w.Body)
	}
	s.ClearFaults("")
	r, _ := inspectRequest(0, "//api/2.1/unity-catalog/tables/"+fuzzTable, "", "", issuedToken, false, "", nil)
	w := httptest.NewRecorder()
	s.httpHandler().ServeHTTP(w, r)
	var tj TableJSON
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &tj) != nil || len(tj.Columns) != 16 || tj.FullName != fuzzTable {
		t.Fatalf("Unity Catalog table: %d %.300q", w.Code, w.Body)
	}
	// Without the token: 401, and the token is not in the answer.
	r, _ = inspectRequest(0, "/tables", "", "", "Bearer "+inspectFuzzToken[:5], false, "", nil)
	w = httptest.NewRecorder()
	s.httpHandler().ServeHTTP(w, r)
	if w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), inspectFuzzToken) {
		t.Fatalf("wrong token: %d %q", w.Code, w.Body)
	}
}

// TestInspectUnknownRouteNamesIt: a path under InspectPrefix that is no
// route is 404 in JSON naming the method, the path and the routes, and a
// route's path with a method it does not serve is 405 in JSON with Allow;
// before, both were the mux's plain text ("404 page not found", "Method
// Not Allowed"), naming neither the path nor what is served.
func TestInspectUnknownRouteNamesIt(t *testing.T) {
	s, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, c := range []struct {
		method, path string
		code         int
		allow, want  string
	}{
		{"GET", "/tablez", http.StatusNotFound, "", "GET /zerobus-local/v1/tablez: no such inspection route; the API serves /zerobus-local/v1/tables, "},
		{"GET", "/tables/a.b.c/x", http.StatusNotFound, "", "GET /zerobus-local/v1/tables/a.b.c/x: no such inspection route"},
		{"PUT", "/tables/a.b.c", http.StatusMethodNotAllowed, "GET, HEAD, POST, DELETE", "PUT /zerobus-local/v1/tables/a.b.c: the method is not served on this path; use GET or HEAD or POST or DELETE"},
		{"GET", "/faults", http.StatusMethodNotAllowed, "POST, DELETE", "GET /zerobus-local/v1/faults: the method is not served on this path; use POST or DELETE"},
		{"DELETE", "/stats", http.StatusMethodNotAllowed, "GET, HEAD", "DELETE /zerobus-local/v1/stats: the method is not served on this path; use GET or HEAD"},
	} {
		r := httptest.NewRequest(c.method, "http://127.0.0.1"+InspectPrefix+c.path, nil)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.httpHandler().ServeHTTP(w, r)
		var out struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != c.code || w.Header().Get("Allow") != c.allow || !strings.HasPrefix(out.Error, c.want) {
			t.Errorf("%s %s: %d Allow %q %q; want %d Allow %q %q", c.method, c.path, w.Code, w.Header().Get("Allow"), w.Body, c.code, c.allow, c.want)
		}
	}
	// The routes themselves still answer.
	r := httptest.NewRequest("GET", "http://127.0.0.1"+InspectPrefix+"/stats", nil)
	w := httptest.NewRecorder()
	s.httpHandler().ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "records_stored") {
		t.Errorf("GET /stats: %d %q", w.Code, w.Body)
	}
}

package zerobuslocal_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

func httpDo(t *testing.T, client *http.Client, method, url string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	r, err := http.NewRequestWithContext(ctxT(t), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if method != http.MethodGet {
		r.Header.Set("Content-Type", "application/json")
	}
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func TestInspectionAPI(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	base := s.WorkspaceURL() + zerobuslocal.InspectPrefix
	descB, _ := proto.Marshal(eventsDesc())

	code, _ := httpDo(t, nil, "POST", base+"/tables/"+testTable, map[string]string{"descriptor_base64": base64.StdEncoding.EncodeToString(descB)})
	if code != http.StatusCreated {
		t.Fatalf("POST table: got %d, want 201", code)
	}
	if code, _ := httpDo(t, nil, "POST", base+"/tables/"+testTable, map[string]string{"descriptor_base64": base64.StdEncoding.EncodeToString(descB)}); code != http.StatusConflict {
		t.Errorf("POST existing table: got %d, want 409", code)
	}
	if code, _ := httpDo(t, nil, "POST", base+"/tables/a.b.c", map[string]string{"descriptor_base64": "!!"}); code != http.StatusBadRequest {
		t.Errorf("POST bad base64: got %d, want 400", code)
	}

	cc := dial(t, s)
	st := openStream(t, cc, token(t, s, testTable), testTable)
	id := st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	r1, r2 := encode(t, event(t, 1, "one")), encode(t, event(t, 2, ""))
	st.send(batchReq(0, r1, r2))
	st.expectAck(0)
	js := openStream(t, cc, token(t, s, "main.default.raw"), "main.default.raw")
	js.create("main.default.raw", nil, zerobuspb.RecordType_JSON)
	js.send(jsonReq(0, `{"free": "form"}`))
	js.expectAck(0)

	code, body := httpDo(t, nil, "GET", base+"/tables", nil)
	var tables []zerobuslocal.TableInfo
	if err := json.Unmarshal(body, &tables); code != 200 || err != nil {
		t.Fatalf("GET tables: %d %v %s", code, err, body)
	}
	if len(tables) != 2 || tables[0].Name != "main.default.events" || tables[0].RecordCount != 2 || !tables[0].HasSchema ||
		tables[1].Name != "main.default.raw" || tables[1].RecordCount != 1 || tables[1].HasSchema {
		t.Errorf("tables: got %+v", tables)
	}

	code, body = httpDo(t, nil, "GET", base+"/tables/"+testTable+"/rows", nil)
	var rows []zerobuslocal.RowJSON
	if err := json.Unmarshal(body, &rows); code != 200 || err != nil {
		t.Fatalf("GET rows: %d %v %s", code, err, body)
	}
	if len(rows) != 2 {
		t.Fatalf("rows: got %d, want 2", len(rows))
	}
	for i, want := range []struct {
		raw    []byte
		record string
	}{{r1, `{"id":"1","name":"one"}`}, {r2, `{"id":"2"}`}} {
		var compact bytes.Buffer
		json.Compact(&compact, rows[i].Record)
		if rows[i].StreamID != id || rows[i].Offset != 0 || rows[i].Index != i || compact.String() != want.record || rows[i].RawBase64 != base64.StdEncoding.EncodeToString(want.raw) {
			t.Errorf("row %d: got %+v (record %s), want record %s", i, rows[i], compact.String(), want.record)
		}
	}
	_, body = httpDo(t, nil, "GET", base+"/tables/main.default.raw/rows", nil)
	if !strings.Contains(string(body), `"record":{"free":"form"}`) {
		t.Errorf("raw rows: got %s", body)
	}

	code, body = httpDo(t, nil, "GET", base+"/tables/"+testTable+"/arrow", nil)
	if code != 200 {
		t.Fatalf("GET arrow: %d %s", code, body)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	rd, err := ipc.NewReader(bytes.NewReader(body), ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rd.Next() {
		n += int(rd.RecordBatch().NumRows())
	}
	rd.Release()
	mem.AssertSize(t, 0)
	if n != 2 {
		t.Errorf("arrow rows: got %d, want 2", n)
	}
	if code, _ := httpDo(t, nil, "GET", base+"/tables/main.default.raw/arrow", nil); code != http.StatusBadRequest {
		t.Errorf("GET arrow of raw table: got %d, want 400", code)
	}
	for _, p := range []string{"/tables/x.y.z", "/tables/x.y.z/rows", "/tables/x.y.z/arrow"} {
		if code, _ := httpDo(t, nil, "GET", base+p, nil); code != http.StatusNotFound {
			t.Errorf("GET %s: got %d, want 404", p, code)
		}
	}

	code, body = httpDo(t, nil, "GET", base+"/stats", nil)
	var stats map[string]int64
	if err := json.Unmarshal(body, &stats); code != 200 || err != nil || stats["records_stored"] != 3 || stats["streams_created"] != 2 {
		t.Errorf("GET stats: %d %s", code, body)
	}

	// Faults over HTTP.
	if code, body := httpDo(t, nil, "POST", base+"/faults", map[string]any{"table": "main.default.f", "kind": "error", "code": "RESOURCE_EXHAUSTED", "message": "via http"}); code != http.StatusNoContent {
		t.Fatalf("POST fault: %d %s", code, body)
	}
	_, err = tryCreate(t, s, token(t, s, "main.default.f"), "main.default.f")
	wantStatus(t, err, codes.ResourceExhausted, "via http")
	if code, _ := httpDo(t, nil, "POST", base+"/faults", map[string]any{"kind": "error", "code": 14, "persistent": true}); code != http.StatusNoContent {
		t.Fatalf("POST fault with numeric code: %d", code)
	}
	_, err = tryCreate(t, s, token(t, s, "main.default.g"), "main.default.g")
	wantStatus(t, err, codes.Unavailable, "")
	if code, _ := httpDo(t, nil, "DELETE", base+"/faults", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE faults: %d", code)
	}
	if _, err := tryCreate(t, s, token(t, s, "main.default.g"), "main.default.g"); err != nil {
		t.Errorf("after DELETE faults: %v", err)
	}
	for _, bad := range []map[string]any{{"kind": "nope"}, {"kind": "error", "after": "soon"}, {"kind": "error", "code": "NOPE"}, {"kind": "error", "bogus": 1}} {
		if code, _ := httpDo(t, nil, "POST", base+"/faults", bad); code != http.StatusBadRequest {
			t.Errorf("POST fault %v: got %d, want 400", bad, code)
		}
	}

	if code, _ := httpDo(t, nil, "DELETE", base+"/tables/main.default.raw", nil); code != http.StatusNoContent {
		t.Errorf("DELETE table: got %d, want 204", code)
	}
	if code, _ := httpDo(t, nil, "DELETE", base+"/tables/main.default.raw", nil); code != http.StatusNotFound {
		t.Errorf("DELETE table again: got %d, want 404", code)
	}
}

func TestDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "landed")
	s := start(t, zerobuslocal.Options{DataDir: dir})
	cc := dial(t, s)
	st := openStream(t, cc, token(t, s, testTable), testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	st.send(batchReq(0, encode(t, event(t, 1, "a")), encode(t, event(t, 2, "b")), encode(t, event(t, 3, ""))))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	js := openStream(t, cc, token(t, s, "main.default.raw"), "main.default.raw")
	js.create("main.default.raw", nil, zerobuspb.RecordType_JSON)
	js.send(jsonReq(0, "{\n  \"a\": 1\n}", `{"b":2}`))
	js.expectAck(0)
	if err := js.finish(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	f, err := os.Open(filepath.Join(dir, testTable+".arrow"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fr, err := ipc.NewFileReader(f)
	if err != nil {
		t.Fatalf("reading the Arrow file: %v", err)
	}
	defer fr.Close()
	rows := 0
	for i := 0; i < fr.NumRecords(); i++ {
		rec, err := fr.Record(i)
		if err != nil {
			t.Fatal(err)
		}
		rows += int(rec.NumRows())
		if i == 0 && rec.Column(1).ValueStr(1) != "b" {
			t.Errorf("name[1]: got %q, want b", rec.Column(1).ValueStr(1))
		}
	}
	if rows != 3 {
		t.Errorf("rows in %s.arrow: got %d, want 3", testTable, rows)
	}
	pf, err := file.OpenParquetFile(filepath.Join(dir, testTable+".parquet"), false)
	if err != nil {
		t.Fatalf("opening the Parquet file: %v", err)
	}
	defer pf.Close()
	pr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := pr.ReadTable(ctxT(t))
	if err != nil {
		t.Fatalf("reading the Parquet file: %v", err)
	}
	defer tbl.Release()
	if tbl.NumRows() != 3 {
		t.Errorf("rows in %s.parquet: got %d, want 3", testTable, tbl.NumRows())
	}
	if got := tbl.Column(1).Data().Chunk(0).ValueStr(1); got != "b" {
		t.Errorf("parquet name[1]: got %q, want b", got)
	}
	b, err := os.ReadFile(filepath.Join(dir, "main.default.raw.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), "{\"a\":1}\n{\"b\":2}\n"; got != want {
		t.Errorf("jsonl: got %q, want %q", got, want)
	}
}

func TestTLS(t *testing.T) {
	s := start(t, zerobuslocal.Options{TLS: true, HTTPTLS: true})
	if !strings.HasPrefix(s.Endpoint(), "https://127.0.0.1:") || !strings.HasPrefix(s.WorkspaceURL(), "https://127.0.0.1:") {
		t.Fatalf("URLs: got %s %s, want https", s.Endpoint(), s.WorkspaceURL())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CACertPEM()) {
		t.Fatal("CACertPEM is not a PEM certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(client.CloseIdleConnections)
	code, tr := postToken(t, s, client, s.ClientID(), s.ClientSecret(), tokenForm(testTable))
	if code != 200 {
		t.Fatalf("token over TLS: %d %+v", code, tr)
	}
	st := openStream(t, dial(t, s), tr.AccessToken, testTable) // dial trusts CACertPEM
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	st.send(recordReq(0, encode(t, event(t, 7, "tls"))))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	// Without the CA the handshake fails.
	if _, err := http.Post(s.WorkspaceURL()+"/oidc/v1/token", "text/plain", nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted client: got %v, want a certificate error", err)
	}
}

func TestAllowAnyToken(t *testing.T) {
	s := start(t, zerobuslocal.Options{AllowAnyToken: true})
	if _, err := tryCreate(t, s, "anything", testTable); err != nil {
		t.Errorf("any token: %v", err)
	}
	_, err := tryCreate(t, s, "", testTable)
	wantStatus(t, err, codes.Unauthenticated, "missing bearer token")
}

func TestStartOptions(t *testing.T) {
	checkGoroutines(t)
	for _, opts := range []zerobuslocal.Options{
		{Addr: "0.0.0.0:0"},
		{HTTPAddr: "192.0.2.1:0"},
		{Addr: "nonsense"},
	} {
		if s, err := zerobuslocal.Start(t.Context(), opts); err == nil {
			s.Close()
			t.Errorf("Start(%+v): got nil error, want a loopback error", opts)
		}
	}
	// Negative values were taken silently (a negative token lifetime issued
	// expired tokens); each is named by field and JSON key.
	for _, c := range []struct {
		opts zerobuslocal.Options
		want string
	}{
		{zerobuslocal.Options{TokenLifetime: -time.Second}, "TokenLifetime (token_lifetime_ns) is -1s"},
		{zerobuslocal.Options{MaxMessageBytes: -1}, "MaxMessageBytes (max_message_bytes) is -1"},
		{zerobuslocal.Options{MaxStoredRows: -5}, "MaxStoredRows (max_stored_rows) is -5"},
		{zerobuslocal.Options{StreamCloseGrace: -time.Second}, "StreamCloseGrace"},
		// A grace that could not be used as given (not shorter than the
		// lifetime, or with streams that never end) was cut to a quarter of
		// the lifetime (at most 1m), or ignored, silently.
		{zerobuslocal.Options{StreamLifetime: 400 * time.Millisecond, StreamCloseGrace: 400 * time.Millisecond},
			"StreamCloseGrace (stream_close_grace_ns) is 400ms; must be shorter than the stream lifetime (400ms)"},
		{zerobuslocal.Options{StreamCloseGrace: 20 * time.Minute}, "must be shorter than the stream lifetime (15m0s)"},
		{zerobuslocal.Options{StreamLifetime: -1, StreamCloseGrace: time.Second}, "StreamCloseGrace (stream_close_grace_ns) is 1s; has no effect: the stream lifetime is negative"},
		{zerobuslocal.Options{AckPolicy: zerobuslocal.AckPolicy{Every: -1, Delay: -time.Millisecond}}, "AckPolicy.Delay (ack_policy.delay_ns) is -1ms; must not be negative (0: the default); AckPolicy.Every"},
	} {
		s, err := zerobuslocal.Start(t.Context(), c.opts)
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, zerobuslocal.ErrInvalidOptions) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Start(%+v): %v, want ErrInvalidOptions naming %q", c.opts, err, c.want)
		}
	}
	s := start(t, zerobuslocal.Options{})
	if s.ClientID() != "local-client" || !strings.HasPrefix(s.ClientSecret(), "local-secret-") || s.CACertPEM() != nil {
		t.Errorf("defaults: got %q %q %v", s.ClientID(), s.ClientSecret(), s.CACertPEM())
	}
	if !strings.HasPrefix(s.Endpoint(), "http://127.0.0.1:") || s.Endpoint() != "http://"+s.Addr() {
		t.Errorf("Endpoint %q / Addr %q", s.Endpoint(), s.Addr())
	}
}

// rawHTTP sends one request with full control of Host and headers.
func rawHTTP(t *testing.T, method, url, host, contentType, auth, body string) (int, string) {
	t.Helper()
	r, err := http.NewRequestWithContext(ctxT(t), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		r.Host = host
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The HTTP listener resists DNS rebinding and cross-site requests: a
// foreign Host is refused, mutating inspection requests need a JSON content
// type (which a cross-site form or simple fetch cannot send), and an
// optional bearer token guards the inspection API.
func TestHTTPHardening(t *testing.T) {
	s := start(t, zerobuslocal.Options{AllowedHosts: []string{"zerobus.internal"}})
	base := s.WorkspaceURL() + zerobuslocal.InspectPrefix
	port := s.WorkspaceURL()[strings.LastIndexByte(s.WorkspaceURL(), ':'):]
	fault := `{"table": "main.default.x", "kind": "error"}`
	for _, tc := range []struct {
		name, method, path, host, ctype, body string
		want                                  int
	}{
		{"rebinding read", "GET", "/tables", "evil.example" + port, "", "", http.StatusForbidden},
		{"rebinding write", "POST", "/faults", "evil.example" + port, "application/json", fault, http.StatusForbidden},
		{"rebinding token", "POST", "/../../oidc/v1/token", "attacker.test", "application/x-www-form-urlencoded", "", http.StatusForbidden},
		{"text/plain POST", "POST", "/faults", "", "text/plain", fault, http.StatusUnsupportedMediaType},
		{"form POST", "POST", "/tables/main.default.x", "", "application/x-www-form-urlencoded", `columns=id+INT`, http.StatusUnsupportedMediaType},
		{"no content type DELETE", "DELETE", "/faults", "", "", "", http.StatusUnsupportedMediaType},
		{"text/plain DELETE", "DELETE", "/tables/main.default.x", "", "text/plain", "", http.StatusUnsupportedMediaType},
		{"localhost", "GET", "/tables", "localhost" + port, "", "", http.StatusOK},
		{"ipv6 loopback", "GET", "/stats", "[::1]" + port, "", "", http.StatusOK},
		{"allowed host", "GET", "/stats", "zerobus.internal" + port, "", "", http.StatusOK},
		{"json POST", "POST", "/faults", "", "application/json; charset=utf-8", fault, http.StatusNoContent},
		{"json DELETE", "DELETE", "/faults", "", "application/json", "", http.StatusNoContent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := rawHTTP(t, tc.method, base+tc.path, tc.host, tc.ctype, "", tc.body)
			if code != tc.want {
				t.Errorf("%s %s Host %q: HTTP %d %s, want %d", tc.method, tc.path, tc.host, code, body, tc.want)
			}
		})
	}
	// A foreign Host is refused on the token endpoint too.
	if code, _ := rawHTTP(t, "POST", s.WorkspaceURL()+"/oidc/v1/token", "evil.example", "application/x-www-form-urlencoded", "", "grant_type=client_credentials"); code != http.StatusForbidden {
		t.Errorf("token endpoint with a foreign Host: HTTP %d, want 403", code)
	}

	// With an inspect token.
	s2 := start(t, zerobuslocal.Options{InspectToken: "inspect-s3cret"})
	base2 := s2.WorkspaceURL() + zerobuslocal.InspectPrefix
	if code, body := rawHTTP(t, "GET", base2+"/tables", "", "", "", ""); code != http.StatusUnauthorized || strings.Contains(body, "inspect-s3cret") {
		t.Errorf("no token: HTTP %d %s, want 401", code, body)
	}
	if code, _ := rawHTTP(t, "GET", base2+"/tables", "", "", "Bearer wrong", ""); code != http.StatusUnauthorized {
		t.Errorf("wrong token: HTTP %d, want 401", code)
	}
	if code, _ := rawHTTP(t, "GET", base2+"/tables", "", "", "Bearer inspect-s3cret", ""); code != http.StatusOK {
		t.Errorf("right token: HTTP %d, want 200", code)
	}
	if code, _ := rawHTTP(t, "POST", base2+"/faults", "", "application/json", "Bearer inspect-s3cret", fault); code != http.StatusNoContent {
		t.Errorf("right token POST: HTTP %d, want 204", code)
	}
	// The token endpoint is not behind the inspect token.
	if code, _ := postToken(t, s2, nil, s2.ClientID(), s2.ClientSecret(), tokenForm(testTable)); code != http.StatusOK {
		t.Errorf("token endpoint with an inspect token set: HTTP %d", code)
	}
}

package flightstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// Fuzz target (session 20) for the PutResult app_metadata JSON the client
// reads from the server (parsePutResult) and the acknowledgement it
// applies (Stream.ack): any bytes give a valid ack or a protocol error,
// and no ack beyond the records sent on the connection resolves anything.
// The seeds run as ordinary tests.

// ackFuzzClient is a Flight client that never dials (the ack path uses its
// window and telemetry only): one per process.
var ackFuzzClient = sync.OnceValues(func() (*Client, error) {
	sc, err := stream.NewClient(stream.Config{
		Endpoint: "http://127.0.0.1:1", WorkspaceURL: "http://127.0.0.1:1", TableName: testTable,
		ClientID: "id", ClientSecret: "secret",
	})
	if err != nil {
		return nil, err
	}
	return NewClient(sc, Config{})
})

// ackFixture is a Stream whose current RPC carried sizes' batches (all of
// them but the last unsent), the first resumed from its row from (an
// earlier RPC acknowledged that prefix), as the sender would have written
// them.
type ackFixture struct {
	s       *Stream
	r       *rpc
	b       []*batch
	carried int // batches the RPC carried: b[:carried]
}

func newAckFixture(t testing.TB, sizes []int, from int, unsent int) *ackFixture {
	t.Helper()
	c, err := ackFuzzClient()
	if err != nil {
		t.Fatal(err)
	}
	s := newStream(c, testSchema)
	r := &rpc{}
	s.cur = r
	fx := &ackFixture{s: s, r: r}
	for i, n := range sizes {
		b := &batch{size: 1, p: &Pending{rows: n}}
		b.p.Init()
		if err := c.win.Acquire(context.Background(), b.size, nil); err != nil {
			t.Fatal(err)
		}
		if i == 0 && from > 0 && from < n {
			b.p.durable.Store(int64(from))
		}
		s.q = append(s.q, b)
		fx.b = append(fx.b, b)
	}
	for s.sent < len(s.q)-unsent { // the sender's bookkeeping (sender)
		b := s.q[s.sent]
		s.sent++
		s.nextOffset++
		b.sentFrom = b.p.durable.Load()
		b.connStart = s.connRecords
		s.connRecords += int64(b.p.rows) - b.sentFrom
	}
	fx.carried = s.sent
	return fx
}

// release resolves what is left (the window's share comes back).
func (fx *ackFixture) release() {
	fx.s.mu.Lock()
	left := fx.s.q
	fx.s.q, fx.s.sent = nil, 0
	fx.s.mu.Unlock()
	fx.s.resolve(left, stream.ErrClosed, time.Now())
}

// check: with watermark records acknowledged on the RPC, every batch
// wholly covered is resolved without error and durable in full, the one
// covered in part has its prefix durable, the others are unresolved with
// the durable count they came with.
func (fx *ackFixture) check(t *testing.T, watermark int64, from int) {
	t.Helper()
	for i, b := range fx.b {
		initial := int64(0)
		if i == 0 && from > 0 && from < b.p.rows {
			initial = int64(from)
		}
		wantDurable, wantDone := initial, false
		if i < fx.carried {
			end := b.connStart + int64(b.p.rows) - b.sentFrom
			switch {
			case watermark >= end:
				wantDurable, wantDone = int64(b.p.rows), true
			case watermark > b.connStart:
				wantDurable = b.sentFrom + watermark - b.connStart
			}
		}
		done := false
		select {
		case <-b.p.Done():
			done = true
		default:
		}
		if done != wantDone || int64(b.p.Durable()) != wantDurable || (done && b.p.Err() != nil) {
			t.Fatalf("batch %d (%d rows, from %d on the RPC at %d): done %v err %v durable %d; want done %v durable %d after %d records acknowledged",
				i, b.p.rows, b.sentFrom, b.connStart, done, b.p.Err(), b.p.Durable(), wantDone, wantDurable, watermark)
		}
	}
}

// checkPutResult: parsePutResult(meta) is a valid ack (both counts, none
// below READY's) or an INTERNAL protocol error quoting at most 200 bytes of
// it.
func checkPutResult(t *testing.T, meta []byte) (putResult, bool) {
	t.Helper()
	a, err := parsePutResult(&flight.PutResult{AppMetadata: meta})
	if err != nil {
		var se *stream.ServerError
		if !errors.As(err, &se) || se.Code != codes.Internal || !strings.HasPrefix(se.Message, "protocol error: PutResult app_metadata ") {
			t.Fatalf("parsePutResult(%q): %T %v, want an INTERNAL protocol error", meta, err, err)
		}
		if len(se.Message) > 1200 {
			t.Fatalf("parsePutResult(%d bytes): a %d-byte error", len(meta), len(se.Message))
		}
		return a, false
	}
	if a.AckUpToOffset == nil || a.AckUpToRecords == nil {
		t.Fatalf("parsePutResult(%q) = %+v without both counts", meta, a)
	}
	if *a.AckUpToOffset < -1 || *a.AckUpToRecords < 0 {
		t.Fatalf("parsePutResult(%q) accepted ack_up_to_offset %d, ack_up_to_records %d", meta, *a.AckUpToOffset, *a.AckUpToRecords)
	}
	if d := a.CloseStreamDurationMs; d != nil && (*d < 0 || *d > int64(math.MaxInt64/time.Millisecond)) {
		t.Fatalf("parsePutResult(%q) accepted close_stream_duration_ms %d", meta, *d)
	}
	return a, true
}

// FuzzPutResult: the PutResults in acks (one app_metadata a line) applied
// in order on a stream that sent the batches of sizes (a byte each, 1–256
// rows; the last unsent ones unsent, the first resumed from row from): each
// parses or is a protocol error; an ack beyond the records sent fails the
// RPC (a protocol error) and resolves nothing; otherwise the batches it
// covers resolve, in full or their prefix, and nothing else.
func FuzzPutResult(f *testing.F) {
	f.Add([]byte{10, 20, 5}, uint8(0), uint8(0), []byte(`{"ack_up_to_offset":-1,"ack_up_to_records":0}`+"\n"+`{"ack_up_to_offset":0,"ack_up_to_records":10}`+"\n"+`{"ack_up_to_offset":2,"ack_up_to_records":35}`))
	f.Add([]byte{10, 20}, uint8(4), uint8(0), []byte(`{"ack_up_to_offset":0,"ack_up_to_records":3}`+"\n"+`{"ack_up_to_offset":1,"ack_up_to_records":26,"close_stream_duration_ms":500}`))
	f.Add([]byte{10, 20, 5}, uint8(0), uint8(1), []byte(`{"ack_up_to_offset":1,"ack_up_to_records":31}`))
	f.Add([]byte{10}, uint8(0), uint8(0), []byte(`{"ack_up_to_offset":0,"ack_up_to_records":5}`+"\n"+`{"ack_up_to_offset":0,"ack_up_to_records":2}`))
	f.Add([]byte{10}, uint8(0), uint8(0), []byte(`{"ack_up_to_offset":0,"ack_up_to_records":-4}`))
	f.Add([]byte{10}, uint8(0), uint8(0), []byte(`{"ack_up_to_offset":-7,"ack_up_to_records":0}`+"\n"+`{"ack_up_to_offset":0,"ack_up_to_records":1e3}`+"\n"+`{"ack_up_to_offset":0}`+"\n"+`null`+"\n"+`{"ack_up_to_offset":0,"ack_up_to_records":10,"close_stream_duration_ms":9223372036854775807}`))
	f.Add([]byte{1, 2}, uint8(0), uint8(0), []byte(`{"ack_up_to_offset":0,"ack_up_to_records":9223372036854775807}`))
	f.Fuzz(func(t *testing.T, sizes []byte, from, unsent uint8, acks []byte) {
		if len(sizes) == 0 || len(sizes) > 64 {
			return
		}
		ns := make([]int, len(sizes))
		for i, b := range sizes {
			ns[i] = int(b) + 1
		}
		fx := newAckFixture(t, ns, int(from), int(unsent)%(len(ns)+1))
		defer fx.release()
		watermark := int64(0)
		for _, meta := range bytes.Split(acks, []byte{'\n'}) {
			a, ok := checkPutResult(t, meta)
			if !ok {
				continue
			}
			recs := *a.AckUpToRecords
			err := fx.s.ack(fx.r, recs, *a.AckUpToOffset)
			if recs > fx.s.connRecords {
				var se *stream.ServerError
				if !errors.As(err, &se) || se.Code != codes.Internal || !strings.Contains(se.Message, "protocol error") {
					t.Fatalf("ack of %d records, %d sent: %v, want a protocol error", recs, fx.s.connRecords, err)
				}
			} else if err != nil {
				t.Fatalf("ack of %d records, %d sent: %v", recs, fx.s.connRecords, err)
			} else {
				watermark = max(watermark, recs)
			}
			fx.check(t, watermark, int(from))
		}
	})
}

// TestPutResultRefusesNegativeCounts: an app_metadata whose
// ack_up_to_records is negative, ack_up_to_offset below READY's -1 or
// close_stream_duration_ms negative or past what a time.Duration holds is
// a protocol error naming the value; before, parsePutResult took them (a
// negative count was silently ignored as an old ack; an overflowing
// duration drained the stream for a negative time).
func TestPutResultRefusesNegativeCounts(t *testing.T) {
	for _, meta := range []string{
		`{"ack_up_to_offset":0,"ack_up_to_records":-4}`,
		`{"ack_up_to_offset":-2,"ack_up_to_records":0}`,
		`{"ack_up_to_offset":0,"ack_up_to_records":3,"close_stream_duration_ms":-1}`,
		`{"ack_up_to_offset":0,"ack_up_to_records":3,"close_stream_duration_ms":9223372036854775807}`,
	} {
		_, err := parsePutResult(&flight.PutResult{AppMetadata: []byte(meta)})
		var se *stream.ServerError
		if !errors.As(err, &se) || se.Code != codes.Internal || !strings.Contains(se.Message, "protocol error") {
			t.Errorf("parsePutResult(%s): %v, want a protocol error", meta, err)
		}
	}
	for _, meta := range []string{
		`{"ack_up_to_offset":-1,"ack_up_to_records":0}`,
		`{"ack_up_to_offset":4,"ack_up_to_records":30,"close_stream_duration_ms":0}`,
		`{"ack_up_to_offset":4,"ack_up_to_records":30,"close_stream_duration_ms":60000,"other":1}`,
	} {
		a, err := parsePutResult(&flight.PutResult{AppMetadata: []byte(meta)})
		if err != nil || a.AckUpToRecords == nil || a.AckUpToOffset == nil {
			t.Errorf("parsePutResult(%s): %+v %v", meta, a, err)
		}
	}
}

// ucFuzzTypes are type_json values of every Spark type the catalog
// serves, nested ones included.
var ucFuzzTypes = []string{
	`{"name":"id","type":"long","nullable":false,"metadata":{}}`,
	`{"name":"s","type":"string","nullable":true,"metadata":{}}`,
	`{"name":"d","type":"decimal(10,2)","nullable":true,"metadata":{}}`,
	`{"name":"ts","type":"timestamp","nullable":true,"metadata":{}}`,
	`{"name":"v","type":"variant","nullable":true,"metadata":{}}`,
	`{"name":"a","type":{"type":"array","elementType":"decimal(38,10)","containsNull":false},"nullable":true,"metadata":{}}`,
	`{"name":"m","type":{"type":"map","keyType":"string","valueType":{"type":"struct","fields":[{"name":"x","type":"date","nullable":false,"metadata":{}}]},"valueContainsNull":true},"nullable":true,"metadata":{}}`,
	`{"name":"st","type":{"type":"struct","fields":[{"name":"b","type":"binary","nullable":true,"metadata":{}},{"name":"n","type":"timestamp_ntz","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}`,
}

// ucBody is a tables endpoint answer with a column of each type_json in
// types (named c0, c1, …; type_text the type_json).
func ucBody(types ...string) []byte {
	type col struct {
		Name     string `json:"name"`
		TypeText string `json:"type_text"`
		TypeJSON string `json:"type_json"`
		Nullable bool   `json:"nullable"`
	}
	cols := make([]col, len(types))
	for i, t := range types {
		cols[i] = col{Name: fmt.Sprintf("c%d", i), TypeText: t, TypeJSON: t, Nullable: i%2 == 0}
	}
	b, _ := json.Marshal(map[string]any{"name": "events", "full_name": testTable, "columns": cols})
	return b
}

// ucFuzzServer is a workspace on loopback whose token endpoint grants a
// token and whose Unity Catalog tables endpoint answers 200 with the body
// last given to fetchUCBody; ucFuzzClient a stream client of it. One per
// process (iterations of a fuzz worker run one at a time).
var (
	ucFuzzBody   atomic.Pointer[[]byte]
	ucFuzzClient = sync.OnceValues(func() (*stream.Client, error) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			switch {
			case r.Method == http.MethodPost && r.URL.Path == "/oidc/v1/token":
				_, _ = io.WriteString(w, `{"access_token":"uc-fuzz-token","token_type":"Bearer","expires_in":86400}`)
			case r.Method == http.MethodGet && r.URL.Path == "/api/2.1/unity-catalog/tables/"+testTable && r.Header.Get("Authorization") == "Bearer uc-fuzz-token":
				_, _ = w.Write(*ucFuzzBody.Load())
			default:
				http.Error(w, `{"error_code":"NOT_FOUND","message":"fuzz server: no route"}`, http.StatusNotFound)
			}
		}))
		return stream.NewClient(stream.Config{
			Endpoint: srv.URL, WorkspaceURL: srv.URL, TableName: testTable,
			ClientID: "id", ClientSecret: "secret", HTTPClient: srv.Client(),
		})
	})
)

// fetchUCBody is FetchTableSchema of the table whose tables endpoint
// answers 200 with body.
func fetchUCBody(t *testing.T, body []byte) (*arrow.Schema, error) {
	t.Helper()
	sc, err := ucFuzzClient()
	if err != nil {
		t.Fatal(err)
	}
	ucFuzzBody.Store(&body)
	s, err := FetchTableSchema(context.Background(), sc)
	var ce *CatalogError
	if errors.As(err, &ce) && ce.Status != http.StatusOK {
		t.Fatalf("FetchTableSchema: %v, want the fuzz server's 200", err)
	}
	return s, err
}

// FuzzTableInfo: any tables endpoint body (or, with inColumn, any type_json
// of a column in a valid body) gives the table's schema, a field a column
// in order, or a *CatalogError; one about a column names it (Column, and
// in the message) and is the catalog's answer (Answered: not retried as a
// connection problem).
func FuzzTableInfo(f *testing.F) {
	f.Add(false, ucBody(ucFuzzTypes...))
	for _, t := range ucFuzzTypes {
		f.Add(true, []byte(t))
	}
	f.Add(true, []byte(`{"type":"struct","fields":[{"name":"x"}]}`))
	f.Add(true, []byte(`"interval"`))
	f.Add(true, []byte(`{"type":{"type":"array","elementType":{"type":"array","elementType":"int"}}}`))
	f.Add(true, []byte(`not json`))
	f.Add(false, []byte(`{"columns":[]}`))
	f.Add(false, []byte(`{"columns":[{"name":"a","type_json":""}]}`))
	f.Add(false, []byte(`{"columns":{}}`))
	f.Fuzz(func(t *testing.T, inColumn bool, data []byte) {
		body := data
		if inColumn {
			body = ucBody(ucFuzzTypes[0], string(data))
		}
		var info struct {
			Columns []struct {
				Name string `json:"name"`
			} `json:"columns"`
		}
		decoded := json.Unmarshal(body, &info) == nil
		s, err := fetchUCBody(t, body)
		if err != nil {
			var ce *CatalogError
			if !errors.As(err, &ce) || ce.Table != testTable {
				t.Fatalf("parseTableInfo(%.300q): %T %v, want a *CatalogError", body, err, err)
			}
			if msg := ce.Msg; strings.HasPrefix(msg, "column ") {
				if !ce.Answered() || !strings.HasPrefix(msg, fmt.Sprintf("column %q", ce.Column)) {
					t.Fatalf("parseTableInfo(%.300q): %#v does not name its column or is not the catalog's answer", body, ce)
				}
			}
			if len(ce.Error()) > 4096+2*len(ce.Column) {
				t.Fatalf("parseTableInfo(%d bytes): a %d-byte error", len(body), len(ce.Error()))
			}
			return
		}
		if !decoded || s.NumFields() != len(info.Columns) || s.NumFields() == 0 {
			t.Fatalf("parseTableInfo(%.300q) = %v, want %d columns", body, s, len(info.Columns))
		}
		for i, c := range info.Columns {
			if fl := s.Field(i); fl.Name != c.Name || fl.Type == nil {
				t.Fatalf("parseTableInfo(%.300q): field %d = %v, want column %q", body, i, fl, c.Name)
			}
		}
		_ = s.String()
	})
}

// TestCatalogTypeJSONNotSparkNamesColumn: a column whose type_json is not
// a Spark type (not JSON, or without "type") is the catalog's answer
// naming that column (Column, Answered), quoting at most 200 bytes of it;
// before, it was a lookup failure without its column, which core reported
// as a retryable connection error although every lookup answers the same.
func TestCatalogTypeJSONNotSparkNamesColumn(t *testing.T) {
	for _, tj := range []string{"not json", `"long"`, `{"name":"x"}`, strings.Repeat("x", 5000)} {
		_, err := fetchUCBody(t, ucBody(ucFuzzTypes[0], tj))
		var ce *CatalogError
		if !errors.As(err, &ce) || ce.Column != "c1" || !ce.Answered() || !strings.Contains(ce.Msg, `column "c1": type_json `) || len(ce.Msg) > 300 {
			t.Errorf("type_json %.20q: %#v, want the catalog's answer naming column c1", tj, err)
		}
	}
}

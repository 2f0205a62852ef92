package zerobuslocal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/linkedin/goavro/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// Fuzz targets (session 19) for the server's decoders of client input that
// had none: the request codec (parseIngest), Avro writer schemas and
// records, whole EphemeralStream calls carrying PROTO, JSON and Avro
// records (create_stream's descriptor or schema too), the OAuth token
// request, the options and fault JSON and the column DDL. A malformed
// request must give an error, never a panic or a hang. The seeds run as
// ordinary tests.

// FuzzServerCodec: serverCodec decodes every message as proto.Unmarshal
// does (checkCodec), the zero-copy records included.
func FuzzServerCodec(f *testing.F) {
	for _, m := range []*req{
		recordMsg(0, []byte{0x08, 0x01}),
		batchMsg(7, []byte{0x08, 0x01}, nil, []byte("abc")),
		batchMsg(-1),
		{Payload: &zerobuspb.EphemeralStreamRequest_CreateStream{CreateStream: &zerobuspb.CreateIngestStreamRequest{TableName: proto.String("a.b.c")}}},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x12, 0x02, 0x08, 0x80})
	f.Add([]byte{0x1a, 0x04, 0x12, 0x02, 0x0a, 0x00, 0x08})
	f.Fuzz(func(t *testing.T, b []byte) {
		checkCodec(t, b)
	})
}

// fuzzDDL is the table the stream fuzz targets write to: a column of every
// type, nested and NOT NULL ones.
const fuzzDDL = "id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>, day DATE, at TIMESTAMP, ntz TIMESTAMP_NTZ, " +
	"price DECIMAL(10,2), attrs MAP<STRING,BIGINT>, loc STRUCT<lat:DOUBLE>, small SMALLINT, tiny TINYINT, v VARIANT, " +
	"bin BINARY, fl FLOAT, ok BOOLEAN, items ARRAY<STRUCT<k:INT>>"

// fuzzAvroSchema is a writer schema of fuzzDDL's columns.
const fuzzAvroSchema = `{"type":"record","name":"Event","namespace":"t","fields":[
 {"name":"id","type":"long"},
 {"name":"name","type":["null","string"]},
 {"name":"tags","type":{"type":"array","items":"string"}},
 {"name":"day","type":["null",{"type":"int","logicalType":"date"}]},
 {"name":"at","type":["null",{"type":"long","logicalType":"timestamp-micros"}]},
 {"name":"ntz","type":["null",{"type":"long","logicalType":"local-timestamp-millis"}]},
 {"name":"price","type":["null",{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}]},
 {"name":"attrs","type":{"type":"map","values":"long"}},
 {"name":"loc","type":["null",{"type":"record","name":"Loc","fields":[{"name":"lat","type":["null","double"]}]}]},
 {"name":"small","type":["null","int"]},
 {"name":"tiny","type":["null","int"]},
 {"name":"v","type":["null","string"]},
 {"name":"bin","type":["null","bytes"]},
 {"name":"fl","type":["null","float"]},
 {"name":"ok","type":["null","boolean"]},
 {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[{"name":"k","type":["null","int"]}]}}}
]}`

// fuzzJSONRecord is a record of fuzzDDL in the JSON form.
const fuzzJSONRecord = `{"id":"1","name":"a","tags":["x"],"day":19000,"at":"1700000000000000","ntz":"5","price":"12.34",` +
	`"attrs":{"k":"2"},"loc":{"lat":1.5},"small":7,"tiny":-3,"v":"{\"a\":[1,2]}","bin":"AAE=","fl":0.5,"ok":true,"items":[{"k":4}]}`

const fuzzTable, fuzzNewTable = "main.default.fuzz", "main.default.fuzz_new"

// fuzzServer is the server of the stream fuzz targets: one per process (a
// fuzz worker), with fuzzDDL's table. It is never closed: the process ends.
var fuzzServer = sync.OnceValues(func() (*Server, error) {
	s, err := Start(context.Background(), Options{AllowAnyToken: true, StreamLifetime: time.Hour})
	if err != nil {
		return nil, err
	}
	cols, err := ParseColumns(fuzzDDL)
	if err != nil {
		return nil, err
	}
	return s, s.CreateTableColumns(fuzzTable, cols)
})

// fakeStream is an EphemeralStream call in process: RecvMsg decodes the
// queued wire messages with serverCodec, then reports the client's half
// close; Send keeps the responses.
type fakeStream struct {
	ctx  context.Context
	mu   sync.Mutex
	in   [][]byte
	sent []*resp
}

func (f *fakeStream) Recv() (*req, error) {
	in := new(inbound)
	if err := f.RecvMsg(in); err != nil {
		return nil, err
	}
	return in.req, nil
}

func (f *fakeStream) RecvMsg(m any) error {
	f.mu.Lock()
	if len(f.in) == 0 {
		f.mu.Unlock()
		return io.EOF
	}
	b := f.in[0]
	f.in = f.in[1:]
	f.mu.Unlock()
	if err := newServerCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, m); err != nil {
		return status.Errorf(codes.Internal, "grpc: failed to unmarshal the received message: %v", err)
	}
	return nil
}

func (f *fakeStream) Send(r *resp) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, r)
	return nil
}

func (f *fakeStream) SendMsg(m any) error          { return f.Send(m.(*resp)) } //nolint:forcetypeassert // only responses are sent
func (f *fakeStream) SetHeader(metadata.MD) error  { return nil }
func (f *fakeStream) SendHeader(metadata.MD) error { return nil }
func (f *fakeStream) SetTrailer(metadata.MD)       {}
func (f *fakeStream) Context() context.Context     { return f.ctx }
func (f *fakeStream) acks() (n int, last int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	last = -1
	for _, r := range f.sent {
		if a := r.GetIngestRecordResponse(); a != nil {
			n++
			last = a.GetDurabilityAckUpToOffset()
		}
	}
	return n, last
}

// runStream serves one EphemeralStream call of the wire messages msgs on
// table and returns its error and the responses.
func runStream(t *testing.T, s *Server, table string, msgs ...[]byte) (error, *fakeStream) {
	t.Helper()
	ctx := metadata.NewIncomingContext(t.Context(), metadata.Pairs(HeaderTableName, table, HeaderAuthorization, "Bearer fuzz"))
	fs := &fakeStream{ctx: ctx, in: msgs}
	err := (&service{s: s}).EphemeralStream(fs)
	return err, fs
}

func wire(t testing.TB, m *req) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func createMsg(table string, rt zerobuspb.RecordType, desc []byte, avro string) *req {
	cs := &zerobuspb.CreateIngestStreamRequest{TableName: proto.String(table), RecordType: rt.Enum()}
	if desc != nil {
		cs.DescriptorProto = desc
	}
	if avro != "" {
		cs.AvroSchema = proto.String(avro)
	}
	return &req{Payload: &zerobuspb.EphemeralStreamRequest_CreateStream{CreateStream: cs}}
}

// fuzzSeeds are valid records of fuzzDDL: PROTO (the table's descriptor),
// JSON and Avro, and the table's descriptor.
type fuzzSeeds struct {
	proto, json, avro []byte
	desc              []byte
}

func seedRecords(t testing.TB, s *Server) fuzzSeeds {
	t.Helper()
	dp, ok := s.TableDescriptor(fuzzTable)
	if !ok {
		t.Fatal("no fuzz table")
	}
	md, err := protoarrow.MessageDescriptor(dp)
	if err != nil {
		t.Fatal(err)
	}
	m := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal([]byte(fuzzJSONRecord), m); err != nil {
		t.Fatal(err)
	}
	pb, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	codec, err := goavro.NewCodec(fuzzAvroSchema)
	if err != nil {
		t.Fatal(err)
	}
	av, err := codec.BinaryFromNative(nil, map[string]any{
		"id": int64(1), "name": goavro.Union("string", "a"), "tags": []any{"x"},
		"day":   goavro.Union("int.date", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)),
		"at":    goavro.Union("long.timestamp-micros", time.UnixMicro(1_700_000_000_000_001).UTC()),
		"ntz":   goavro.Union("long", int64(5)),
		"price": goavro.Union("bytes.decimal", big.NewRat(-1234, 100)),
		"attrs": map[string]any{"k": int64(2)}, "loc": goavro.Union("t.Loc", map[string]any{"lat": goavro.Union("double", 1.5)}),
		"small": goavro.Union("int", int32(7)), "tiny": goavro.Union("int", int32(-3)), "v": goavro.Union("string", `{"a":1}`),
		"bin": goavro.Union("bytes", []byte{0, 1}), "fl": goavro.Union("float", float32(0.5)), "ok": goavro.Union("boolean", true),
		"items": []any{map[string]any{"k": goavro.Union("int", int32(4))}},
	})
	if err != nil {
		t.Fatal(err)
	}
	db, err := proto.Marshal(dp)
	if err != nil {
		t.Fatal(err)
	}
	return fuzzSeeds{proto: pb, json: []byte(fuzzJSONRecord), avro: av, desc: db}
}

// Stream kinds of FuzzEphemeralStream.
const (
	streamProto    = iota // the table's descriptor, records r1 and r2
	streamJSON            // JSON records r1 and r2
	streamAvro            // fuzzAvroSchema, records r1 and r2
	streamSchema          // create carries the fuzzed descriptor (or Avro schema: starts with '{'), on the table
	streamNewTable        // as streamSchema on a table the stream creates (dropped after)
	streamRaw             // PROTO create, then r1 and r2 as whole wire messages
	streamKinds
)

// FuzzEphemeralStream: an EphemeralStream call whose create_stream or
// records are fuzzed ends with nil or a status error, never a panic or a
// hang; when it ends without error every record sent was stored and acked.
func FuzzEphemeralStream(f *testing.F) {
	s, err := fuzzServer()
	if err != nil {
		f.Fatal(err)
	}
	seeds := seedRecords(f, s)
	f.Add(uint8(streamProto), []byte(nil), seeds.proto, seeds.proto)
	f.Add(uint8(streamJSON), []byte(nil), seeds.json, []byte(`{"id":2}`))
	f.Add(uint8(streamAvro), []byte(nil), seeds.avro, seeds.avro)
	f.Add(uint8(streamSchema), seeds.desc, seeds.proto, []byte{})
	f.Add(uint8(streamSchema), []byte(fuzzAvroSchema), seeds.avro, seeds.avro)
	f.Add(uint8(streamNewTable), seeds.desc, seeds.proto, seeds.proto)
	f.Add(uint8(streamNewTable), []byte(fuzzAvroSchema), seeds.avro, seeds.avro)
	f.Add(uint8(streamRaw), []byte(nil), wire(f, batchMsg(0, seeds.proto, seeds.proto)), wire(f, recordMsg(1, seeds.proto)))
	f.Fuzz(func(t *testing.T, kind uint8, create, r1, r2 []byte) {
		s, err := fuzzServer()
		if err != nil {
			t.Fatal(err)
		}
		table := fuzzTable
		var msgs [][]byte
		recs := 2
		batch := func(off int64, rt zerobuspb.RecordType) []byte {
			ib := &zerobuspb.IngestRecordBatchRequest{OffsetId: proto.Int64(off)}
			switch rt {
			case zerobuspb.RecordType_JSON:
				ib.Batch = &zerobuspb.IngestRecordBatchRequest_JsonBatch{JsonBatch: &zerobuspb.JsonRecordBatch{Records: []string{string(r1), string(r2)}}}
			case zerobuspb.RecordType_AVRO:
				ib.Batch = &zerobuspb.IngestRecordBatchRequest_AvroBatch{AvroBatch: &zerobuspb.AvroRecordBatch{Records: [][]byte{r1, r2}}}
			default:
				ib.Batch = &zerobuspb.IngestRecordBatchRequest_ProtoEncodedBatch{ProtoEncodedBatch: &zerobuspb.ProtoEncodedRecordBatch{Records: [][]byte{r1, r2}}}
			}
			return wire(t, &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: ib}})
		}
		seedDesc := seeds.desc
		switch kind % streamKinds {
		case streamProto:
			msgs = [][]byte{wire(t, createMsg(table, zerobuspb.RecordType_PROTO, seedDesc, "")), batch(0, zerobuspb.RecordType_PROTO)}
		case streamJSON:
			if !json.Valid(r1) && !json.Valid(r2) && len(r1) > 0 && len(r2) > 0 && (r1[0]^r2[0])&1 == 0 {
				// mostly JSON the fuzzer makes up, sometimes bytes
				r1 = append([]byte(`{"id":1,"v":`), append(r1, '}')...)
			}
			msgs = [][]byte{wire(t, createMsg(table, zerobuspb.RecordType_JSON, nil, "")), batch(0, zerobuspb.RecordType_JSON)}
		case streamAvro:
			msgs = [][]byte{wire(t, createMsg(table, zerobuspb.RecordType_AVRO, nil, fuzzAvroSchema)), batch(0, zerobuspb.RecordType_AVRO)}
		case streamSchema, streamNewTable:
			if kind%streamKinds == streamNewTable {
				table = fuzzNewTable
				defer s.DropTable(table)
			}
			if len(create) > 0 && create[0] == '{' {
				msgs = [][]byte{wire(t, createMsg(table, zerobuspb.RecordType_AVRO, nil, string(create))), batch(0, zerobuspb.RecordType_AVRO)}
			} else {
				msgs = [][]byte{wire(t, createMsg(table, zerobuspb.RecordType_PROTO, create, "")), batch(0, zerobuspb.RecordType_PROTO)}
			}
		case streamRaw:
			msgs = [][]byte{wire(t, createMsg(table, zerobuspb.RecordType_PROTO, seedDesc, "")), r1, r2}
			recs = -1 // not known
		}
		before := s.RecordCount(table)
		err, fs := runStream(t, s, table, msgs...)
		if err != nil {
			t.Logf("stream ended: %v", err)
			if _, ok := status.FromError(err); !ok {
				t.Fatalf("EphemeralStream: %T %v, want a status error", err, err)
			}
			return
		}
		if recs < 0 {
			return
		}
		n, last := fs.acks()
		if got := s.RecordCount(table) - before; got != recs || n == 0 || last != 0 {
			t.Fatalf("stream ended without error: %d records stored (want %d), %d acks up to %d", got, recs, n, last)
		}
	})
}

// TestFuzzStreamSeedsStore: the stream fuzz target's seeds are accepted
// and stored, so that the fuzzer starts from inputs that reach the record
// decoders (a broken seed would only exercise create_stream's refusals).
func TestFuzzStreamSeedsStore(t *testing.T) {
	s, err := fuzzServer()
	if err != nil {
		t.Fatal(err)
	}
	seeds := seedRecords(t, s)
	for name, msgs := range map[string][][]byte{
		"proto": {wire(t, createMsg(fuzzTable, zerobuspb.RecordType_PROTO, seeds.desc, "")), wire(t, batchMsg(0, seeds.proto))},
		"json": {wire(t, createMsg(fuzzTable, zerobuspb.RecordType_JSON, nil, "")), wire(t, &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
			OffsetId: proto.Int64(0), Record: &zerobuspb.IngestRecordRequest_JsonRecord{JsonRecord: string(seeds.json)}}}})},
		"avro": {wire(t, createMsg(fuzzTable, zerobuspb.RecordType_AVRO, nil, fuzzAvroSchema)), wire(t, &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
			OffsetId: proto.Int64(0), Record: &zerobuspb.IngestRecordRequest_AvroEncodedRecord{AvroEncodedRecord: seeds.avro}}}})},
	} {
		before := s.RecordCount(fuzzTable)
		err, fs := runStream(t, s, fuzzTable, msgs...)
		if n, last := fs.acks(); err != nil || s.RecordCount(fuzzTable) != before+1 || n != 1 || last != 0 {
			t.Errorf("%s: err %v, %d records stored, %d acks up to %d; want one record stored and acked", name, err, s.RecordCount(fuzzTable)-before, n, last)
		}
	}
	rows := s.Rows(fuzzTable)
	if len(rows) < 3 {
		t.Fatalf("%d rows", len(rows))
	}
}

// FuzzAvroSchema: any writer schema text is parsed or refused with an
// error, never a panic; an accepted one is a record of columns that
// checkColumns accepts.
func FuzzAvroSchema(f *testing.F) {
	for _, s := range []string{
		fuzzAvroSchema,
		`{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":"R"}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"enum","name":"E","symbols":["X"]}},{"name":"b","type":"E"}]}`,
		`{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"fixed","name":"F","size":4,"logicalType":"decimal","precision":9,"scale":2}}]}`,
		`{"type":"record","name":"R","fields":[{"name":"m","type":{"type":"map","values":["null",{"type":"array","items":"long"}]}}]}`,
		`["null","int"]`, `"int"`, `{"type":{"type":"record","name":"R","fields":[]}}`, `{`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		a, err := parseAvroSchema(text)
		if err != nil {
			return
		}
		if a.root == nil || a.root.typ != "record" || len(a.cols) != len(a.root.fields) {
			t.Fatalf("parseAvroSchema(%q) = %+v", text, a)
		}
		if err := checkColumns(a.cols); err != nil {
			t.Fatalf("parseAvroSchema(%q) accepted columns checkColumns refuses: %v", text, err)
		}
	})
}

// FuzzAvroRecord: any bytes as a record of fuzzAvroSchema decode into a
// message of the table's descriptor or give an error that is not a
// recovered panic, and a decoded record marshals.
func FuzzAvroRecord(f *testing.F) {
	s, err := fuzzServer()
	if err != nil {
		f.Fatal(err)
	}
	seeds := seedRecords(f, s)
	f.Add(seeds.avro)
	f.Add([]byte{})
	f.Add([]byte{0x02, 0x02, 0x02, 0x61, 0x01})
	a, err := parseAvroSchema(fuzzAvroSchema)
	if err != nil {
		f.Fatal(err)
	}
	dp, _ := s.TableDescriptor(fuzzTable)
	md, err := protoarrow.MessageDescriptor(dp)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, rec []byte) {
		m, err := a.decode(rec, md)
		if err != nil {
			if strings.Contains(err.Error(), "decoder failed") {
				t.Fatalf("decode(%x): %v", rec, err)
			}
			return
		}
		if _, err := marshalRecord(m); err != nil {
			t.Fatalf("decode(%x) gave a message that does not marshal: %v", rec, err)
		}
	})
}

// FuzzTokenRequest: any token request (form body, HTTP Basic credentials)
// is answered 200 with a token or 400/401 with an OAuth error in JSON,
// never a panic, and the answer never holds the server's client secret.
func FuzzTokenRequest(f *testing.F) {
	const secret = "s19-fuzz-secret-value"
	s, err := Start(context.Background(), Options{ClientSecret: secret, WorkspaceID: "1234567890"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	details, _ := json.Marshal([]map[string]any{
		{"type": "unity_catalog_privileges", "privileges": []string{"USE CATALOG"}, "object_type": "CATALOG", "object_full_path": "main"},
		{"type": "unity_catalog_privileges", "privileges": []string{"USE SCHEMA"}, "object_type": "SCHEMA", "object_full_path": "main.default"},
		{"type": "unity_catalog_privileges", "privileges": []string{"SELECT", "MODIFY"}, "object_type": "TABLE", "object_full_path": "main.default.t", "operations": []string{"zerobuswrite"}},
	})
	valid := url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"},
		"resource": {"api://databricks/workspaces/1234567890/zerobusDirectWriteApi"}, "authorization_details": {string(details)}}.Encode()
	f.Add(valid, s.ClientID(), secret, true)
	f.Add(valid, s.ClientID(), "wrong", true)
	f.Add(valid, url.QueryEscape(s.ClientID()), url.QueryEscape(secret), true)
	f.Add("grant_type="+url.QueryEscape(GrantTokenExchange)+"&subject_token_type="+url.QueryEscape(TokenTypeJWT)+
		"&subject_token=eyJhbGciOiJSUzI1NiJ9.e30.sig&scope=all-apis", "", "", false)
	f.Add("grant_type=client_credentials&scope=all-apis&authorization_details=%5B%7B%7D%5D", "a", "b", true)
	f.Add("%zz&;=", "", "", false)
	f.Fuzz(func(t *testing.T, body, user, pass string, basic bool) {
		r := httptest.NewRequest(http.MethodPost, s.WorkspaceURL()+TokenPath, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if basic {
			r.SetBasicAuth(user, pass)
		}
		w := httptest.NewRecorder()
		s.handleToken(w, r)
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("answer %d %q is not JSON: %v", w.Code, w.Body, err)
		}
		switch w.Code {
		case http.StatusOK:
			if tok, _ := out["access_token"].(string); !strings.HasPrefix(tok, "zbl_") {
				t.Fatalf("200 without a token: %q", w.Body)
			}
		case http.StatusBadRequest, http.StatusUnauthorized:
			if e, _ := out["error"].(string); e == "" {
				t.Fatalf("%d without an OAuth error: %q", w.Code, w.Body)
			}
		default:
			t.Fatalf("answer %d %q", w.Code, w.Body)
		}
		if w.Code != http.StatusOK && bytes.Contains(w.Body.Bytes(), []byte(secret)) && !strings.Contains(body, secret) {
			t.Fatalf("answer %q holds the client secret", w.Body)
		}
	})
}

// TestFuzzTokenSeed: the token fuzz target's first seed is a valid
// request (the fuzzer starts from a request that gets a token).
func TestFuzzTokenSeed(t *testing.T) {
	s, err := Start(t.Context(), Options{ClientSecret: "x-secret", WorkspaceID: "1234567890"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	details := `[{"type":"unity_catalog_privileges","privileges":["USE CATALOG"],"object_type":"CATALOG","object_full_path":"main"},` +
		`{"type":"unity_catalog_privileges","privileges":["USE SCHEMA"],"object_type":"SCHEMA","object_full_path":"main.default"},` +
		`{"type":"unity_catalog_privileges","privileges":["SELECT","MODIFY"],"object_type":"TABLE","object_full_path":"main.default.t"}]`
	body := url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"},
		"resource": {"api://databricks/workspaces/1234567890/zerobusDirectWriteApi"}, "authorization_details": {details}}.Encode()
	r := httptest.NewRequest(http.MethodPost, s.WorkspaceURL()+TokenPath, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.SetBasicAuth(s.ClientID(), "x-secret")
	w := httptest.NewRecorder()
	s.handleToken(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"access_token":"zbl_`) {
		t.Fatalf("answer %d %q", w.Code, w.Body)
	}
}

// FuzzDecodeOptions: any options or fault JSON decodes or gives an error
// wrapping ErrInvalidOptions / ErrInvalidFault, never a panic; decoded
// options pass Check.
func FuzzDecodeOptions(f *testing.F) {
	for _, s := range []string{
		`{"allow_any_token":true,"max_message_bytes":1024,"ack_policy":{"delay_ns":1000}}`,
		`{"stream_lifetime_ns":0}`, `{"stream_lifetime_ns":1e300}`, `{"max_message_bytes":-1}`,
		`{"ack_policy":{"delay_ns":"x"}}`, `{"nope":1}`, `[]`, ``, `{`,
		`{"kind":"error","code":14,"after_records":3}`, `{"kind":"token_latency","latency_ns":9223372036854775808}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, text []byte) {
		o, err := DecodeOptions(text)
		if err != nil && !errors.Is(err, ErrInvalidOptions) {
			t.Fatalf("DecodeOptions(%q): %v does not wrap ErrInvalidOptions", text, err)
		}
		if err == nil {
			if cerr := o.Check(); cerr != nil {
				t.Fatalf("DecodeOptions(%q) gave options Check refuses: %v", text, cerr)
			}
		}
		if _, err := DecodeFault(text); err != nil && !errors.Is(err, ErrInvalidFault) {
			t.Fatalf("DecodeFault(%q): %v does not wrap ErrInvalidFault", text, err)
		}
	})
}

// FuzzParseColumns: any DDL parses or gives an error, never a panic; the
// columns parsed print as DDL that parses to the same columns.
func FuzzParseColumns(f *testing.F) {
	for _, s := range []string{fuzzDDL, "a DECIMAL(38,10) NOT NULL", "s STRUCT<a:STRUCT<b:ARRAY<MAP<STRING,INT>>>>", "x_1 int not null, y long", "a INT,", "a ARRAY<", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ddl string) {
		cols, err := ParseColumns(ddl)
		if err != nil {
			return
		}
		var b strings.Builder
		for i, c := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name + " " + c.Type.String())
			if !c.Nullable {
				b.WriteString(" NOT NULL")
			}
		}
		again, err := ParseColumns(b.String())
		if err != nil {
			t.Fatalf("ParseColumns(%q) ok, its columns as DDL %q: %v", ddl, b.String(), err)
		}
		if len(again) != len(cols) {
			t.Fatalf("ParseColumns(%q) = %d columns, again %d", ddl, len(cols), len(again))
		}
		for i := range cols {
			if again[i].Name != cols[i].Name || again[i].Type.String() != cols[i].Type.String() || again[i].Nullable != cols[i].Nullable {
				t.Fatalf("ParseColumns(%q)[%d] = %+v, again from %q %+v", ddl, i, cols[i], b.String(), again[i])
			}
		}
	})
}

// avroDAGSchema is a writer schema of n+1 record fields where record Ai
// has two fields of record Ai-1, used by name: a few hundred bytes a level,
// standing for 3·2^(n+1) column types.
func avroDAGSchema(n int) string {
	var b strings.Builder
	b.WriteString(`{"type":"record","name":"R","fields":[{"name":"f0","type":{"type":"record","name":"A0","fields":[{"name":"x","type":"int"}]}}`)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, `,{"name":"f%d","type":{"type":"record","name":"A%d","fields":[{"name":"a","type":"A%d"},{"name":"b","type":"A%d"}]}}`, i, i, i-1, i-1)
	}
	b.WriteString(`]}`)
	return b.String()
}

// TestAvroSchemaExpansionBounded: a writer schema whose named records,
// each used twice by the next, stand for exponentially many column types
// is refused once they pass maxAvroColumnTypes (it took seconds at 16
// levels and hours at 30, growing the memory with it: create_stream hung),
// at create_stream too; one within the bound is accepted with all its
// columns.
func TestAvroSchemaExpansionBounded(t *testing.T) {
	a, err := parseAvroSchema(avroDAGSchema(10)) // 6141 column types
	if err != nil || len(a.cols) != 11 || len(a.cols[10].Type.Fields) != 2 {
		t.Fatalf("10 levels: %v", err)
	}
	for _, n := range []int{16, 40} {
		if _, err := parseAvroSchema(avroDAGSchema(n)); err == nil || !strings.Contains(err.Error(), "more than 200000 column types") {
			t.Fatalf("%d levels: %v, want refused", n, err)
		}
	}
	s, err := fuzzServer()
	if err != nil {
		t.Fatal(err)
	}
	defer s.DropTable(fuzzNewTable)
	err, _ = runStream(t, s, fuzzNewTable, wire(t, createMsg(fuzzNewTable, zerobuspb.RecordType_AVRO, nil, avroDAGSchema(40))))
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "more than 200000 column types") {
		t.Fatalf("create_stream: %v", err)
	}
}

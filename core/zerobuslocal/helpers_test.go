package zerobuslocal_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/leakcheck"
)

const testTable = "main.default.events"

type (
	req  = zerobuspb.EphemeralStreamRequest
	resp = zerobuspb.EphemeralStreamResponse
)

// checkGoroutines fails the test if goroutines stay above the baseline
// after cleanup (bounded poll, no timing assertion on the server).
func checkGoroutines(t *testing.T) {
	t.Helper()
	base := runtime.NumGoroutine()
	t.Cleanup(func() { leakcheck.Goroutines(t, base, 30*time.Second) })
}

// start runs a server for the test; Close happens at cleanup, after every
// client connection of the test was closed (cleanups run LIFO).
func start(t *testing.T, opts zerobuslocal.Options) *zerobuslocal.Server {
	t.Helper()
	checkGoroutines(t)
	s, err := zerobuslocal.Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// authDetails builds the authorization_details form value.
func authDetails(table string, ops bool) string {
	p := strings.Split(table, ".")
	tbl := map[string]any{"type": "unity_catalog_privileges", "privileges": []string{"SELECT", "MODIFY"}, "object_type": "TABLE", "object_full_path": table}
	if ops {
		tbl["operations"] = []string{"zerobuswrite"}
	}
	b, _ := json.Marshal([]any{
		map[string]any{"type": "unity_catalog_privileges", "privileges": []string{"USE CATALOG"}, "object_type": "CATALOG", "object_full_path": p[0]},
		map[string]any{"type": "unity_catalog_privileges", "privileges": []string{"USE SCHEMA"}, "object_type": "SCHEMA", "object_full_path": p[0] + "." + p[1]},
		tbl,
	})
	return string(b)
}

func tokenForm(table string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {"all-apis"},
		"resource":              {"api://databricks/workspaces/127/zerobusDirectWriteApi"},
		"authorization_details": {authDetails(table, true)},
	}
}

type tokenResp struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func postToken(t *testing.T, s *zerobuslocal.Server, client *http.Client, id, secret string, form url.Values) (int, tokenResp) {
	t.Helper()
	if client == nil {
		client = http.DefaultClient
	}
	r, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, s.WorkspaceURL()+"/oidc/v1/token", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" || secret != "" {
		r.SetBasicAuth(id, secret)
	}
	res, err := client.Do(r)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer res.Body.Close()
	var tr tokenResp
	body, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatalf("token response %q: %v", body, err)
	}
	return res.StatusCode, tr
}

func token(t *testing.T, s *zerobuslocal.Server, table string) string {
	t.Helper()
	code, tr := postToken(t, s, nil, s.ClientID(), s.ClientSecret(), tokenForm(table))
	if code != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("token: got HTTP %d %+v, want 200 with a token", code, tr)
	}
	return tr.AccessToken
}

func dial(t *testing.T, s *zerobuslocal.Server) *grpc.ClientConn {
	t.Helper()
	creds := insecure.NewCredentials()
	if ca := s.CACertPEM(); ca != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(ca)
		creds = credentials.NewTLS(&tls.Config{RootCAs: pool})
	}
	cc, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return cc
}

// stream is a raw client stream; it is cancelled at cleanup.
type stream struct {
	t      *testing.T
	c      grpc.BidiStreamingClient[req, resp]
	cancel context.CancelFunc
}

func openStream(t *testing.T, cc *grpc.ClientConn, tok, table string) *stream {
	t.Helper()
	return openStreamHeader(t, cc, tok, table)
}

// openStreamHeader opens a stream whose table header is table ("" = none).
func openStreamHeader(t *testing.T, cc *grpc.ClientConn, tok, table string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	md := metadata.MD{}
	if table != "" {
		md.Append("x-databricks-zerobus-table-name", table)
	}
	if tok != "" {
		md.Append("authorization", "Bearer "+tok)
	}
	c, err := zerobuspb.NewZerobusClient(cc).EphemeralStream(metadata.NewOutgoingContext(ctx, md))
	if err != nil {
		t.Fatalf("EphemeralStream: %v", err)
	}
	return &stream{t: t, c: c, cancel: cancel}
}

func createReq(table string, desc *descriptorpb.DescriptorProto, rt zerobuspb.RecordType) *req {
	cs := &zerobuspb.CreateIngestStreamRequest{TableName: proto.String(table), RecordType: rt.Enum()}
	if desc != nil {
		b, err := proto.Marshal(desc)
		if err != nil {
			panic(err)
		}
		cs.DescriptorProto = b
	}
	return &req{Payload: &zerobuspb.EphemeralStreamRequest_CreateStream{CreateStream: cs}}
}

func recordReq(off int64, rec []byte) *req {
	return &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
		OffsetId: proto.Int64(off), Record: &zerobuspb.IngestRecordRequest_ProtoEncodedRecord{ProtoEncodedRecord: rec}}}}
}

func batchReq(off int64, recs ...[]byte) *req {
	return &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: &zerobuspb.IngestRecordBatchRequest{
		OffsetId: proto.Int64(off), Batch: &zerobuspb.IngestRecordBatchRequest_ProtoEncodedBatch{
			ProtoEncodedBatch: &zerobuspb.ProtoEncodedRecordBatch{Records: recs}}}}}
}

func jsonReq(off int64, recs ...string) *req {
	if len(recs) == 1 {
		return &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
			OffsetId: proto.Int64(off), Record: &zerobuspb.IngestRecordRequest_JsonRecord{JsonRecord: recs[0]}}}}
	}
	return &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: &zerobuspb.IngestRecordBatchRequest{
		OffsetId: proto.Int64(off), Batch: &zerobuspb.IngestRecordBatchRequest_JsonBatch{
			JsonBatch: &zerobuspb.JsonRecordBatch{Records: recs}}}}}
}

func (s *stream) send(m *req) {
	s.t.Helper()
	if err := s.c.Send(m); err != nil {
		s.t.Fatalf("Send: %v", err)
	}
}

func (s *stream) recv() *resp {
	s.t.Helper()
	m, err := s.c.Recv()
	if err != nil {
		s.t.Fatalf("Recv: %v", err)
	}
	return m
}

// create sends create_stream and returns the stream id.
func (s *stream) create(table string, desc *descriptorpb.DescriptorProto, rt zerobuspb.RecordType) string {
	s.t.Helper()
	s.send(createReq(table, desc, rt))
	m := s.recv()
	id := m.GetCreateStreamResponse().GetStreamId()
	if id == "" {
		s.t.Fatalf("first response: got %v, want create_stream_response with a stream id", m)
	}
	return id
}

// expectAck reads one response and checks it acks up to want.
func (s *stream) expectAck(want int64) {
	s.t.Helper()
	m := s.recv()
	got := m.GetIngestRecordResponse()
	if got == nil || got.DurabilityAckUpToOffset == nil || got.GetDurabilityAckUpToOffset() != want {
		s.t.Fatalf("response: got %v, want ack up to %d", m, want)
	}
}

// finish half-closes and returns the final status error (nil on clean end),
// skipping remaining acks.
func (s *stream) finish() error {
	s.t.Helper()
	_ = s.c.CloseSend()
	return s.drain()
}

// drain reads until the RPC ends and returns its error (nil: clean end).
func (s *stream) drain() error {
	for i := 0; i < 1_000_000; i++ {
		if _, err := s.c.Recv(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
	return fmt.Errorf("stream did not end")
}

// eventsDesc is the test table: id required int64, name optional string,
// tags repeated string, attrs map<string,int64>, loc optional struct.
func eventsDesc() *descriptorpb.DescriptorProto {
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	req := descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	f := func(name string, num int32, l *descriptorpb.FieldDescriptorProto_Label, typ descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		fd := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Label: l, Type: typ.Enum()}
		if typeName != "" {
			fd.TypeName = proto.String(typeName)
		}
		return fd
	}
	return &descriptorpb.DescriptorProto{
		Name: proto.String("Events"),
		Field: []*descriptorpb.FieldDescriptorProto{
			f("id", 1, req, descriptorpb.FieldDescriptorProto_TYPE_INT64, ""),
			f("name", 2, opt, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
			f("tags", 3, rep, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
			f("attrs", 4, rep, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".Events.AttrsEntry"),
			f("loc", 5, opt, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".Events.Loc"),
		},
		NestedType: []*descriptorpb.DescriptorProto{
			{
				Name: proto.String("AttrsEntry"),
				Field: []*descriptorpb.FieldDescriptorProto{
					f("key", 1, opt, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
					f("value", 2, opt, descriptorpb.FieldDescriptorProto_TYPE_INT64, ""),
				},
				Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
			},
			{
				Name: proto.String("Loc"),
				Field: []*descriptorpb.FieldDescriptorProto{
					f("lat", 1, opt, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE, ""),
					f("lon", 2, opt, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE, ""),
				},
			},
		},
	}
}

func eventsMD(t testing.TB) protoreflect.MessageDescriptor {
	md, err := protoarrow.MessageDescriptor(eventsDesc())
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// event builds one record of eventsDesc; name "" leaves it unset.
func event(t testing.TB, id int64, name string) *dynamicpb.Message {
	md := eventsMD(t)
	m := dynamicpb.NewMessage(md)
	m.Set(md.Fields().ByName("id"), protoreflect.ValueOfInt64(id))
	if name != "" {
		m.Set(md.Fields().ByName("name"), protoreflect.ValueOfString(name))
	}
	return m
}

func encode(t testing.TB, m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dialB(b *testing.B, s *zerobuslocal.Server) *grpc.ClientConn {
	cc, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cc.Close() })
	return cc
}

func openStreamB(b *testing.B, cc *grpc.ClientConn, table string) grpc.BidiStreamingClient[req, resp] {
	ctx, cancel := context.WithCancel(b.Context())
	b.Cleanup(cancel)
	md := metadata.Pairs("x-databricks-zerobus-table-name", table, "authorization", "Bearer bench")
	c, err := zerobuspb.NewZerobusClient(cc).EphemeralStream(metadata.NewOutgoingContext(ctx, md))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

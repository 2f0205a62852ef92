package zerobuslocal_test

import (
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// wantStatus checks err's gRPC code and that its message contains substr.
func wantStatus(t *testing.T, err error, code codes.Code, substr string) {
	t.Helper()
	st, ok := status.FromError(err)
	if !ok || st.Code() != code || !strings.Contains(st.Message(), substr) {
		t.Fatalf("status: got %v, want %v containing %q", err, code, substr)
	}
}

func TestCreateStreamRejections(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	if err := s.CreateTable("main.default.rawjson", eventsDesc()); err != nil {
		t.Fatal(err)
	}
	good := token(t, s, testTable)
	other := token(t, s, "main.default.other")
	expired := s.IssueToken(testTable, time.Nanosecond)
	revoked := s.IssueToken("main.default.revoked", time.Hour)
	if n := s.RevokeTokens("main.default.revoked"); n != 1 {
		t.Fatalf("RevokeTokens: got %d, want 1", n)
	}
	descBytes, _ := proto.Marshal(eventsDesc())

	tests := []struct {
		name   string
		token  string
		header string // x-databricks-zerobus-table-name; "-" for none
		first  *req
		code   codes.Code
		substr string
	}{
		{"first message is ingest", good, testTable, recordReq(0, nil), codes.InvalidArgument, "first message on a stream must be create_stream"},
		{"missing table header", good, "-", createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO), codes.InvalidArgument, "missing x-databricks-zerobus-table-name"},
		{"header differs", good, "main.default.x", createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO), codes.InvalidArgument, "differs from create_stream.table_name"},
		{"bad table name", good, "a.b", createReq("a.b", eventsDesc(), zerobuspb.RecordType_PROTO), codes.InvalidArgument, "catalog.schema.table"},
		{"no token", "", testTable, createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO), codes.Unauthenticated, "missing bearer token"},
		{"unknown token", "nope", testTable, createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO), codes.Unauthenticated, "invalid or revoked"},
		{"expired token", expired, testTable, createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO), codes.Unauthenticated, "expired"},
		{"revoked token", revoked, "main.default.revoked", createReq("main.default.revoked", eventsDesc(), zerobuspb.RecordType_PROTO), codes.Unauthenticated, "invalid or revoked"},
		{"token for another table", other, testTable, createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO), codes.PermissionDenied, "main.default.other"},
		{"record type unset", good, testTable, &req{Payload: &zerobuspb.EphemeralStreamRequest_CreateStream{CreateStream: &zerobuspb.CreateIngestStreamRequest{TableName: proto.String(testTable), DescriptorProto: descBytes}}}, codes.InvalidArgument, "record_type must be PROTO, JSON or AVRO"},
		{"proto without descriptor", good, testTable, createReq(testTable, nil, zerobuspb.RecordType_PROTO), codes.InvalidArgument, "descriptor_proto is required"},
		{"descriptor not a DescriptorProto", good, testTable, &req{Payload: &zerobuspb.EphemeralStreamRequest_CreateStream{CreateStream: &zerobuspb.CreateIngestStreamRequest{TableName: proto.String(testTable), RecordType: zerobuspb.RecordType_PROTO.Enum(), DescriptorProto: []byte{0xff, 0x01}}}}, codes.InvalidArgument, "not a serialized google.protobuf.DescriptorProto"},
		{"descriptor does not resolve", good, testTable, createReq(testTable, &descriptorpb.DescriptorProto{Name: proto.String("M"), Field: []*descriptorpb.FieldDescriptorProto{{Name: proto.String("t"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".google.protobuf.Timestamp")}}}, zerobuspb.RecordType_PROTO), codes.InvalidArgument, "google.protobuf.Timestamp"},
		{"avro without schema", good, testTable, createReq(testTable, nil, zerobuspb.RecordType_AVRO), codes.InvalidArgument, "avro_schema (field 5) is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := tc.header
			if table == "-" {
				table = ""
			}
			st := openStreamHeader(t, cc, tc.token, table)
			st.send(tc.first)
			_, err := st.c.Recv()
			wantStatus(t, err, tc.code, tc.substr)
			if strings.Contains(err.Error(), good) || (tc.token != "" && strings.Contains(err.Error(), tc.token) && tc.token != "nope") {
				t.Errorf("error %q contains the bearer token", err)
			}
		})
	}
	if got := s.Stats().StreamsCreated; got != 0 {
		t.Errorf("StreamsCreated: got %d, want 0", got)
	}
	if got, want := s.Stats().StreamsRejected, int64(len(tests)); got != want {
		t.Errorf("StreamsRejected: got %d, want %d", got, want)
	}
	if tables := s.Tables(); len(tables) != 1 {
		t.Errorf("Tables: got %v, want only the registered one (rejected streams create nothing)", tables)
	}
}

func TestProtoStreamToRawJSONTable(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	tok := token(t, s, testTable)
	js := openStream(t, cc, tok, testTable)
	js.create(testTable, nil, zerobuspb.RecordType_JSON)
	js.send(jsonReq(0, `{"a":1}`))
	js.expectAck(0)
	if err := js.finish(); err != nil {
		t.Fatal(err)
	}
	ps := openStream(t, cc, tok, testTable)
	ps.send(createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO))
	_, err := ps.c.Recv()
	wantStatus(t, err, codes.InvalidArgument, "has no schema")
}

func TestAutoCreateDisabled(t *testing.T) {
	s := start(t, zerobuslocal.Options{DisableAutoCreate: true})
	cc := dial(t, s)
	tok := token(t, s, testTable)
	st := openStream(t, cc, tok, testTable)
	st.send(createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO))
	_, err := st.c.Recv()
	wantStatus(t, err, codes.NotFound, testTable)
	// The message says how to create it whichever way the server runs (it
	// named the Go method CreateTable only).
	wantStatus(t, err, codes.NotFound, "zerobus local -table NAME -columns DDL, LocalServer.create_table")
	wantStatus(t, err, codes.NotFound, "-no-auto-create")

	if err := s.CreateTable(testTable, eventsDesc()); err != nil {
		t.Fatal(err)
	}
	st = openStream(t, cc, tok, testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	st.send(recordReq(0, encode(t, event(t, 1, "x"))))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	if got := s.RecordCount(testTable); got != 1 {
		t.Errorf("RecordCount: got %d, want 1", got)
	}
}

// mutate returns a copy of eventsDesc changed by f.
func mutate(f func(d *descriptorpb.DescriptorProto)) *descriptorpb.DescriptorProto {
	d := eventsDesc()
	f(d)
	return d
}

func TestSchemaValidation(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	if err := s.CreateTable(testTable, eventsDesc()); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, testTable)
	tests := []struct {
		name       string
		desc       *descriptorpb.DescriptorProto
		wantCauses string
		substr     string
	}{
		{"extra field", mutate(func(d *descriptorpb.DescriptorProto) {
			d.Field = append(d.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String("extra"), Number: proto.Int32(9), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_BOOL.Enum()})
		}), "FIELD_COUNT_MISMATCH,FIELD_NOT_IN_TABLE", `field "extra" is not a column`},
		{"missing required column", mutate(func(d *descriptorpb.DescriptorProto) { d.Field = d.Field[1:] }), "FIELD_COUNT_MISMATCH,MISSING_REQUIRED_COLUMN", `NOT NULL column "id"`},
		{"missing optional column", mutate(func(d *descriptorpb.DescriptorProto) { d.Field = d.Field[:4] }), "FIELD_COUNT_MISMATCH", "the table has 5 columns"},
		{"type changed", mutate(func(d *descriptorpb.DescriptorProto) {
			d.Field[1].Type = descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()
		}), "TYPE_INCOMPATIBLE", `field "name" has type int64, the table column needs string`},
		{"nullability changed", mutate(func(d *descriptorpb.DescriptorProto) {
			d.Field[0].Label = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
		}), "TYPE_INCOMPATIBLE", `field "id" is optional, the table column is required`},
		{"out of order", mutate(func(d *descriptorpb.DescriptorProto) { d.Field[1], d.Field[2] = d.Field[2], d.Field[1] }), "FIELD_OUT_OF_ORDER", `field "tags" is at position 2`},
		{"nested type changed", mutate(func(d *descriptorpb.DescriptorProto) {
			d.NestedType[1].Field[0].Type = descriptorpb.FieldDescriptorProto_TYPE_FLOAT.Enum()
		}), "TYPE_INCOMPATIBLE", `field "loc.lat" has type float`},
		{"map value changed", mutate(func(d *descriptorpb.DescriptorProto) {
			d.NestedType[0].Field[1].Type = descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
		}), "TYPE_INCOMPATIBLE", `map<string,string>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStream(t, cc, tok, testTable)
			st.send(createReq(testTable, tc.desc, zerobuspb.RecordType_PROTO))
			_, err := st.c.Recv()
			wantStatus(t, err, codes.InvalidArgument, tc.substr)
			var info *errdetails.ErrorInfo
			for _, d := range status.Convert(err).Details() {
				if ei, ok := d.(*errdetails.ErrorInfo); ok {
					info = ei
				}
			}
			if info == nil {
				t.Fatalf("no ErrorInfo detail in %v", err)
			}
			if info.GetReason() != "SCHEMA_VALIDATION_FAILED" {
				t.Errorf("reason: got %q, want SCHEMA_VALIDATION_FAILED", info.GetReason())
			}
			if got := info.GetMetadata()["causes"]; got != tc.wantCauses {
				t.Errorf("causes: got %q, want %q", got, tc.wantCauses)
			}
		})
	}
	if got := s.RecordCount(testTable); got != 0 {
		t.Errorf("RecordCount: got %d, want 0", got)
	}
}

// TestCompatibleDescriptorIsMappedByName: a descriptor with another package,
// other field numbers and other wire encodings of the same column types is
// accepted, and its records are stored as messages of the table's schema.
func TestCompatibleDescriptorIsMappedByName(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	if err := s.CreateTable(testTable, eventsDesc()); err != nil {
		t.Fatal(err)
	}
	alt := mutate(func(d *descriptorpb.DescriptorProto) {
		d.Field[0].Type = descriptorpb.FieldDescriptorProto_TYPE_SINT64.Enum()
		for i, f := range d.Field {
			f.Number = proto.Int32(int32(100 + i))
			if f.TypeName != nil {
				f.TypeName = proto.String(".acme.v2" + f.GetTypeName())
			}
		}
	})
	altMD, err := protoarrow.MessageDescriptor(alt)
	if err != nil {
		t.Fatal(err)
	}
	m := dynamicpb.NewMessage(altMD)
	fd := altMD.Fields()
	m.Set(fd.ByName("id"), protoreflect.ValueOfInt64(-77))
	m.Set(fd.ByName("name"), protoreflect.ValueOfString("alt"))
	m.Mutable(fd.ByName("tags")).List().Append(protoreflect.ValueOfString("t1"))
	m.Mutable(fd.ByName("attrs")).Map().Set(protoreflect.ValueOfString("k").MapKey(), protoreflect.ValueOfInt64(5))
	loc := m.Mutable(fd.ByName("loc")).Message()
	loc.Set(loc.Descriptor().Fields().ByName("lat"), protoreflect.ValueOfFloat64(1.25))

	st := openStream(t, cc, token(t, s, testTable), testTable)
	st.create(testTable, alt, zerobuspb.RecordType_PROTO)
	st.send(recordReq(0, encode(t, m)))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}

	want := event(t, -77, "alt")
	wfd := want.Descriptor().Fields()
	want.Mutable(wfd.ByName("tags")).List().Append(protoreflect.ValueOfString("t1"))
	want.Mutable(wfd.ByName("attrs")).Map().Set(protoreflect.ValueOfString("k").MapKey(), protoreflect.ValueOfInt64(5))
	wloc := want.Mutable(wfd.ByName("loc")).Message()
	wloc.Set(wloc.Descriptor().Fields().ByName("lat"), protoreflect.ValueOfFloat64(1.25))
	rows := s.Rows(testTable)
	if len(rows) != 1 {
		t.Fatalf("rows: got %d, want 1", len(rows))
	}
	if got := rows[0].Message.Descriptor().Fields().ByName("id").Number(); got != 1 {
		t.Errorf("stored message uses field number %d for id, want the table's 1", got)
	}
	if diff := cmp.Diff(proto.Message(want), proto.Message(rows[0].Message), protocmp.Transform()); diff != "" {
		t.Errorf("stored message (-want +got):\n%s", diff)
	}
}

func TestCreateTable(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTable(testTable, eventsDesc()); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	if err := s.CreateTable(testTable, eventsDesc()); !errors.Is(err, zerobuslocal.ErrTableExists) {
		t.Errorf("second CreateTable: got %v, want ErrTableExists", err)
	}
	for _, tc := range []struct {
		name, table string
		desc        *descriptorpb.DescriptorProto
		want        string
	}{
		{"bad name", "nodots", eventsDesc(), "catalog.schema.table"},
		{"nil descriptor", "a.b.c", nil, "nil descriptor"},
		{"no message name", "a.b.c", &descriptorpb.DescriptorProto{}, "no message name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.CreateTable(tc.table, tc.desc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CreateTable: got %v, want error containing %q", err, tc.want)
			}
		})
	}
	got, ok := s.TableDescriptor(testTable)
	if !ok || !proto.Equal(got, eventsDesc()) {
		t.Errorf("TableDescriptor: got %v %v, want the registered descriptor", got, ok)
	}
	if _, ok := s.TableDescriptor("x.y.z"); ok {
		t.Error("TableDescriptor of an unknown table: got ok")
	}
	if !s.DropTable(testTable) || s.DropTable(testTable) {
		t.Error("DropTable: want true then false")
	}
}

func TestCreateTableFromArrow(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	}, nil)
	if err := s.CreateTableFromArrow(testTable, schema); err != nil {
		t.Fatalf("CreateTableFromArrow: %v", err)
	}
	desc, _ := s.TableDescriptor(testTable)
	got, err := protoarrow.SchemaFromDescriptor(desc)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range got.Fields() {
		names = append(names, f.Name+":"+f.Type.String())
	}
	sort.Strings(names)
	want := []string{"id:int64", "name:utf8", "tags:list<item: utf8, nullable>"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("table columns (-want +got):\n%s", diff)
	}
	if err := s.CreateTableFromArrow("a.b.c", nil); err == nil {
		t.Error("CreateTableFromArrow(nil schema): got nil error")
	}
}

// TestCaseClashingDescriptorRefused: Unity Catalog column names are
// case-insensitive, so a descriptor with fields id and ID (also inside a
// nested message) cannot make a table, whether CreateTable or a PROTO
// stream's auto-create is given it; it made one with both columns (a
// table from DDL, Avro or a Flight schema was refused already).
func TestCaseClashingDescriptorRefused(t *testing.T) {
	clash := func(nested bool) *descriptorpb.DescriptorProto {
		d := &descriptorpb.DescriptorProto{Name: proto.String("events")}
		f := func(name string, n int32) *descriptorpb.FieldDescriptorProto {
			return &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(n),
				Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()}
		}
		if !nested {
			d.Field = []*descriptorpb.FieldDescriptorProto{f("id", 1), f("ID", 2)}
			return d
		}
		d.NestedType = []*descriptorpb.DescriptorProto{{Name: proto.String("Inner"), Field: []*descriptorpb.FieldDescriptorProto{f("key", 1), f("Key", 2)}}}
		inner := f("payload", 1)
		inner.Type, inner.TypeName = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), proto.String("Inner")
		d.Field = []*descriptorpb.FieldDescriptorProto{inner}
		return d
	}
	s := start(t, zerobuslocal.Options{})
	for _, nested := range []bool{false, true} {
		want := `columns "id" and "ID" differ only in case`
		if nested {
			want = `columns "payload.key" and "payload.Key" differ only in case`
		}
		if err := s.CreateTable("main.default.clash", clash(nested)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CreateTable (nested %v) = %v, want an error containing %q", nested, err, want)
		}
		cc := dial(t, s)
		tok := token(t, s, testTable)
		st := openStream(t, cc, tok, testTable)
		st.send(createReq(testTable, clash(nested), zerobuspb.RecordType_PROTO))
		_, err := st.c.Recv()
		wantStatus(t, err, codes.InvalidArgument, want)
	}
	if _, ok := s.TableDescriptor(testTable); ok {
		t.Error("a table was created")
	}
}

package convert

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// eventDescriptor is a caller-supplied descriptor as it would come from
// protoc for package acme.v1: package-qualified and relative type names, a
// nested enum, a map, required fields, and integer types other than the
// defaults.
const eventDescriptor = `
name: "Event"
field { name: "id" number: 1 label: LABEL_REQUIRED type: TYPE_INT64 }
field { name: "small" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 }
field { name: "u" number: 3 label: LABEL_OPTIONAL type: TYPE_UINT64 }
field { name: "z" number: 4 label: LABEL_OPTIONAL type: TYPE_SINT64 }
field { name: "f" number: 5 label: LABEL_OPTIONAL type: TYPE_FIXED32 }
field { name: "sf" number: 6 label: LABEL_OPTIONAL type: TYPE_SFIXED64 }
field { name: "kind" number: 7 label: LABEL_OPTIONAL type: TYPE_ENUM type_name: ".acme.v1.Event.Kind" }
field { name: "geo" number: 8 label: LABEL_OPTIONAL type: TYPE_MESSAGE type_name: "Geo" }
field { name: "tags" number: 9 label: LABEL_REPEATED type: TYPE_STRING }
field { name: "attrs" number: 10 label: LABEL_REPEATED type: TYPE_MESSAGE type_name: ".acme.v1.Event.AttrsEntry" }
field { name: "score" number: 11 label: LABEL_OPTIONAL type: TYPE_FLOAT }
field { name: "raw" number: 12 label: LABEL_OPTIONAL type: TYPE_BYTES }
field { name: "unused" number: 13 label: LABEL_OPTIONAL type: TYPE_STRING }
nested_type {
  name: "Geo"
  field { name: "lat" number: 1 label: LABEL_REQUIRED type: TYPE_DOUBLE }
  field { name: "lon" number: 2 label: LABEL_OPTIONAL type: TYPE_DOUBLE }
}
nested_type {
  name: "AttrsEntry"
  field { name: "key" number: 1 label: LABEL_OPTIONAL type: TYPE_STRING }
  field { name: "value" number: 2 label: LABEL_OPTIONAL type: TYPE_INT32 }
  options { map_entry: true }
}
enum_type { name: "Kind" value { name: "KIND_UNKNOWN" number: 0 } value { name: "CLICK" number: 1 } }
`

func parseDescriptor(t *testing.T, text string) *descriptorpb.DescriptorProto {
	t.Helper()
	d := new(descriptorpb.DescriptorProto)
	if err := prototext.Unmarshal([]byte(text), d); err != nil {
		t.Fatalf("parsing descriptor: %v", err)
	}
	return d
}

// batchFromJSON builds a record batch whose columns are given as JSON
// arrays, in schema order.
func batchFromJSON(t *testing.T, mem memory.Allocator, fields []arrow.Field, cols ...string) arrow.RecordBatch {
	t.Helper()
	arrs := make([]arrow.Array, len(fields))
	for i, f := range fields {
		arrs[i] = fromJSON(t, mem, f.Type, cols[i])
		defer arrs[i].Release()
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(arrs[0].Len()))
}

func TestNewPlanForDescriptor(t *testing.T) {
	mem := checkedMem(t)
	desc := parseDescriptor(t, eventDescriptor)
	orig := proto.Clone(desc)
	utf8 := arrow.BinaryTypes.String
	fields := []arrow.Field{ // a different order from the descriptor
		{Name: "geo", Type: arrow.StructOf(arrow.Field{Name: "lat", Type: arrow.PrimitiveTypes.Float64, Nullable: true}), Nullable: true},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "small", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "z", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "sf", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
		{Name: "kind", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: utf8}), Nullable: true},
		{Name: "attrs", Type: arrow.MapOf(utf8, arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "raw", Type: utf8, Nullable: true},
	}
	rec := batchFromJSON(t, mem, fields,
		`[{"lat": 1.5}, null, {"lat": null}, null]`,
		`[1, 2, 3, 4]`,
		`[-5, 3000000000, null, null]`,
		`[18446744073709551615, null, null, null]`,
		`[-3, null, null, null]`,
		`[7, null, null, -1]`,
		`[2, null, null, null]`,
		`[1, null, null, null]`,
		`[["a", "b"], null, null, null]`,
		`[[{"key": "k", "value": 9}], null, null, null]`,
		`[0.25, null, null, null]`,
		`["bytes", null, null, null]`,
	)
	defer rec.Release()
	p, err := NewPlanForDescriptor(rec.Schema(), desc, Options{MessageName: "Ignored", AllOptional: true})
	if err != nil {
		t.Fatalf("NewPlanForDescriptor: %v", err)
	}
	if !proto.Equal(desc, orig) {
		t.Error("NewPlanForDescriptor modified the caller's descriptor")
	}
	d := p.Descriptor()
	gotNames := map[string]string{}
	for _, f := range d.GetField() {
		if f.TypeName != nil {
			gotNames[f.GetName()] = f.GetTypeName()
		}
	}
	wantNames := map[string]string{"kind": ".Event.Kind", "geo": ".Event.Geo", "attrs": ".Event.AttrsEntry"}
	if diff := cmp.Diff(wantNames, gotNames); diff != "" {
		t.Errorf("normalized type names (-want +got):\n%s", diff)
	}
	b := encodeOK(t, p, rec)
	wantErr := map[int]string{1: "small", 2: "geo.lat", 3: "f"}
	gotErr := map[int]string{}
	for _, e := range b.Errors {
		gotErr[e.Row] = e.Column
	}
	if diff := cmp.Diff(wantErr, gotErr); diff != "" {
		t.Errorf("row errors (-want +got):\n%s\n%v", diff, b.Errors)
	}
	if len(b.Records) != 1 || b.Rows[0] != 0 {
		t.Fatalf("encoded rows %v, want [0]", b.Rows)
	}
	md := p.MessageDescriptor()
	want := parseText(t, md, `geo {lat: 1.5} id: 1 small: -5 u: 18446744073709551615 z: -3 f: 7 sf: 2000 kind: CLICK
		tags: "a" tags: "b" attrs {key: "k" value: 9} score: 0.25 raw: "bytes"`)
	if diff := cmp.Diff(want, decode(t, md, b.Records[0]), protocmp.Transform()); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

func TestNewPlanForDescriptorListsEveryMismatch(t *testing.T) {
	desc := parseDescriptor(t, eventDescriptor)
	utf8 := arrow.BinaryTypes.String
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "ID", Type: arrow.PrimitiveTypes.Int64},                     // wrong case; and required id is missing
		{Name: "nope", Type: utf8},                                         // no such field
		{Name: "tags", Type: utf8},                                         // field is repeated
		{Name: "geo", Type: utf8},                                          // field is a message
		{Name: "score", Type: utf8},                                        // float field
		{Name: "kind", Type: arrow.PrimitiveTypes.Float32},                 // enum field
		{Name: "small", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},    // field is not repeated
		{Name: "attrs", Type: arrow.MapOf(utf8, utf8)},                     // map value type
		{Name: "raw", Type: &arrow.Decimal128Type{Precision: 5, Scale: 1}}, // bytes field takes no decimal
		{Name: "u", Type: arrow.FixedWidthTypes.MonthInterval},             // unsupported type
	}, nil)
	_, err := NewPlanForDescriptor(schema, desc, Options{})
	var se *SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v, want *SchemaError", err)
	}
	got := map[string]string{}
	for _, p := range se.Problems {
		got[p.Column] = p.Reason
	}
	for col, reason := range map[string]string{
		"ID": `did you mean "id"`, "nope": "no field named", "tags": "repeated string", "geo": "message Event.Geo",
		"score": "float", "kind": "enum", "small": "not repeated", "attrs.value": "int32", "raw": "bytes",
		"u": "interval", "id": "requires field",
	} {
		if !strings.Contains(got[col], reason) {
			t.Errorf("problem for column %q = %q, want it to mention %q", col, got[col], reason)
		}
	}
	if len(se.Problems) != 11 {
		t.Errorf("got %d problems, want 11:\n%v", len(se.Problems), err)
	}
}

func TestNewPlanForMessageGenerated(t *testing.T) {
	mem := checkedMem(t)
	// IngestRecordRequest: proto2 with a oneof; package databricks.zerobus.
	rec := batchFromJSON(t, mem, []arrow.Field{
		{Name: "offset_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "proto_encoded_record", Type: arrow.BinaryTypes.Binary, Nullable: true},
	}, `[0, 41]`, `["AAE=", null]`)
	defer rec.Release()
	p, err := NewPlanForMessage(rec.Schema(), &zerobuspb.IngestRecordRequest{}, Options{})
	if err != nil {
		t.Fatalf("NewPlanForMessage: %v", err)
	}
	b := encodeOK(t, p, rec)
	want := []*zerobuspb.IngestRecordRequest{
		{OffsetId: proto.Int64(0), Record: &zerobuspb.IngestRecordRequest_ProtoEncodedRecord{ProtoEncodedRecord: []byte{0, 1}}},
		{OffsetId: proto.Int64(41)},
	}
	if len(b.Records) != len(want) {
		t.Fatalf("got %d records, want %d (errors %v)", len(b.Records), len(want), b.Errors)
	}
	for i, r := range b.Records {
		got := new(zerobuspb.IngestRecordRequest)
		if err := proto.Unmarshal(r, got); err != nil {
			t.Fatalf("record %d does not parse as the generated type: %v", i, err)
		}
		if diff := cmp.Diff(want[i], got, protocmp.Transform()); diff != "" {
			t.Errorf("record %d (-want +got):\n%s", i, diff)
		}
	}

	// A proto3 well-known type: implicit presence, zeros still written.
	ts := batchFromJSON(t, mem, []arrow.Field{
		{Name: "seconds", Type: arrow.PrimitiveTypes.Int64},
		{Name: "nanos", Type: arrow.PrimitiveTypes.Int32},
	}, `[1700000000, 0]`, `[5, 0]`)
	defer ts.Release()
	p, err = NewPlanForMessage(ts.Schema(), &timestamppb.Timestamp{}, Options{})
	if err != nil {
		t.Fatalf("NewPlanForMessage(Timestamp): %v", err)
	}
	b = encodeOK(t, p, ts)
	for i, want := range []*timestamppb.Timestamp{{Seconds: 1700000000, Nanos: 5}, {}} {
		got := new(timestamppb.Timestamp)
		if err := proto.Unmarshal(b.Records[i], got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
			t.Errorf("timestamp %d (-want +got):\n%s", i, diff)
		}
	}
}

func TestNewPlanForMessageProto3Optional(t *testing.T) {
	fdp := &descriptorpb.FileDescriptorProto{
		Name: proto.String("p3.proto"), Package: proto.String("p3"), Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{parseDescriptor(t, `
			name: "P3"
			field { name: "a" number: 1 label: LABEL_OPTIONAL type: TYPE_INT64 oneof_index: 1 proto3_optional: true }
			field { name: "b" number: 2 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 }
			field { name: "c" number: 3 label: LABEL_OPTIONAL type: TYPE_STRING oneof_index: 0 }
			oneof_decl { name: "real" }
			oneof_decl { name: "_a" }`)},
	}
	fd, err := protodesc.NewFile(fdp, new(protoregistry.Files))
	if err != nil {
		t.Fatal(err)
	}
	msg := dynamicpb.NewMessage(fd.Messages().Get(0))
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "c", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	p, err := NewPlanForMessage(schema, msg, Options{})
	if err != nil {
		t.Fatalf("NewPlanForMessage: %v", err)
	}
	d := p.Descriptor()
	if len(d.GetOneofDecl()) != 1 || d.GetOneofDecl()[0].GetName() != "real" {
		t.Errorf("oneofs = %v, want only the real one", d.GetOneofDecl())
	}
	for _, f := range d.GetField() {
		if f.GetProto3Optional() || (f.GetName() == "a" && f.OneofIndex != nil) || (f.GetName() == "c" && f.GetOneofIndex() != 0) {
			t.Errorf("field %v not normalized", f)
		}
	}
}

func TestNewPlanForDescriptorNotSelfContained(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "table_name", Type: arrow.BinaryTypes.String}}, nil)
	// CreateIngestStreamRequest.record_type is the top-level enum RecordType.
	_, err := NewPlanForMessage(schema, &zerobuspb.CreateIngestStreamRequest{}, Options{})
	if err == nil || !strings.Contains(err.Error(), ".databricks.zerobus.RecordType") || !strings.Contains(err.Error(), "self-contained") {
		t.Errorf("error = %v, want one naming the outside type and asking for a self-contained message", err)
	}
	_, err = NewPlanForDescriptor(schema, parseDescriptor(t, `name: "G" field { name: "g" number: 1 label: LABEL_OPTIONAL type: TYPE_GROUP type_name: ".G.Inner" } nested_type { name: "Inner" }`), Options{})
	if err == nil || !strings.Contains(err.Error(), "group") {
		t.Errorf("group field error = %v, want one about groups", err)
	}
	if _, err := NewPlanForDescriptor(schema, nil, Options{}); err == nil {
		t.Error("nil descriptor accepted")
	}
	if _, err := NewPlanForMessage(schema, nil, Options{}); err == nil {
		t.Error("nil message accepted")
	}
}

package protoarrow_test

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

func p3field(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, label descriptorpb.FieldDescriptorProto_Label, p3opt bool, oneof *int32) *descriptorpb.FieldDescriptorProto {
	return &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(),
		Label: label.Enum(), Proto3Optional: proto.Bool(p3opt), OneofIndex: oneof}
}

// A descriptor with proto3_optional fields, without oneofs (the official
// Rust SDK's descriptor_from_uc_columns) and with the synthetic oneofs
// protoc declares (here after a real oneof, in a nested message too),
// loads: each flagged field is a plain optional field with presence, the
// synthetic oneofs are gone, the real oneof keeps its two members, and
// the caller's descriptor is not modified. A record with the optional
// fields absent decodes with them unset; present zero values stay set.
func TestMessageDescriptorProto3Optional(t *testing.T) {
	const (
		i64 = descriptorpb.FieldDescriptorProto_TYPE_INT64
		str = descriptorpb.FieldDescriptorProto_TYPE_STRING
		msg = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE
		opt = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
		req = descriptorpb.FieldDescriptorProto_LABEL_REQUIRED
	)
	desc := &descriptorpb.DescriptorProto{
		Name: proto.String("Row"),
		Field: []*descriptorpb.FieldDescriptorProto{
			p3field("id", 1, i64, req, false, nil),
			p3field("name", 2, str, opt, true, nil), // no oneof: the Rust SDK's shape
			p3field("a", 3, i64, opt, false, proto.Int32(0)),
			p3field("b", 4, str, opt, false, proto.Int32(0)),
			p3field("note", 5, str, opt, true, proto.Int32(1)), // synthetic oneof "_note"
			p3field("inner", 6, msg, opt, true, proto.Int32(2)),
		},
		OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: proto.String("choice")}, {Name: proto.String("_note")}, {Name: proto.String("_inner")}},
		NestedType: []*descriptorpb.DescriptorProto{{
			Name:      proto.String("Inner"),
			Field:     []*descriptorpb.FieldDescriptorProto{p3field("v", 1, i64, opt, true, proto.Int32(0))},
			OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: proto.String("_v")}},
		}},
	}
	desc.Field[5].TypeName = proto.String("Inner")
	before := proto.Clone(desc)

	md, err := protoarrow.MessageDescriptor(desc)
	if err != nil {
		t.Fatalf("MessageDescriptor: %v", err)
	}
	if !proto.Equal(desc, before) {
		t.Errorf("the caller's descriptor was modified")
	}
	if n := md.Oneofs().Len(); n != 1 || md.Oneofs().Get(0).Name() != "choice" || md.Oneofs().Get(0).Fields().Len() != 2 {
		t.Fatalf("oneofs: got %d (%v), want only the real oneof \"choice\" with a and b", n, md.Oneofs())
	}
	for _, name := range []string{"name", "note", "inner"} {
		fd := md.Fields().ByName(protoreflect.Name(name))
		if fd == nil || !fd.HasPresence() || fd.ContainingOneof() != nil || fd.Cardinality().String() != "optional" {
			t.Errorf("field %s: got %v, want an optional field with presence outside any oneof", name, fd)
		}
	}
	for _, name := range []string{"a", "b"} {
		if fd := md.Fields().ByName(protoreflect.Name(name)); fd.ContainingOneof() == nil || fd.ContainingOneof().Name() != "choice" {
			t.Errorf("field %s: got oneof %v, want choice", name, fd.ContainingOneof())
		}
	}
	inner := md.Fields().ByName("inner").Message()
	if inner.Oneofs().Len() != 0 || !inner.Fields().ByName("v").HasPresence() {
		t.Errorf("nested message: got oneofs %v, want none and v with presence", inner.Oneofs())
	}

	// id=5, name="" (present, zero), inner{} (present, v absent), note absent.
	var rec []byte
	rec = protowire.AppendVarint(protowire.AppendTag(rec, 1, protowire.VarintType), 5)
	rec = protowire.AppendString(protowire.AppendTag(rec, 2, protowire.BytesType), "")
	rec = protowire.AppendBytes(protowire.AppendTag(rec, 6, protowire.BytesType), nil)
	m := dynamicpb.NewMessage(md)
	if err := proto.Unmarshal(rec, m); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, name := range []string{"id", "name", "a", "b", "note", "inner"} {
		got[name] = m.Has(md.Fields().ByName(protoreflect.Name(name)))
	}
	want := map[string]bool{"id": true, "name": true, "a": false, "b": false, "note": false, "inner": true}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s set: got %v, want %v", k, got[k], v)
		}
	}
	if m.Get(md.Fields().ByName("inner")).Message().Has(inner.Fields().ByName("v")) {
		t.Errorf("inner.v is set, want absent")
	}
}

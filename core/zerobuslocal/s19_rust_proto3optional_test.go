package zerobuslocal_test

import (
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// ucColumnsDescriptor is the descriptor the official Rust SDK's
// schema::descriptor_from_uc_columns (3.1.1) builds for
// "id BIGINT NOT NULL, name STRING, score DOUBLE,
// loc STRUCT<x: INT, y: STRING>, tags ARRAY<BIGINT>,
// props MAP<STRING, INT>": field number = position + 1, json_name = name,
// NOT NULL columns LABEL_REQUIRED, nullable ones LABEL_OPTIONAL with
// proto3_optional set (no oneof declared), ARRAY/MAP LABEL_REPEATED with
// proto3_optional false, struct and map-entry messages nested in the root
// under UpperCamel names referred to by relative type names, the map
// entry's key proto3_optional false and its value true.
func ucColumnsDescriptor() *descriptorpb.DescriptorProto {
	type ft = descriptorpb.FieldDescriptorProto_Type
	field := func(name string, num int32, typ ft, typeName string, nullable, repeated bool) *descriptorpb.FieldDescriptorProto {
		l := descriptorpb.FieldDescriptorProto_LABEL_REQUIRED
		switch {
		case repeated:
			l = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
		case nullable:
			l = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
		}
		f := &descriptorpb.FieldDescriptorProto{
			Name: proto.String(name), Number: proto.Int32(num), Label: l.Enum(), Type: typ.Enum(),
			JsonName: proto.String(name), Proto3Optional: proto.Bool(nullable && !repeated),
		}
		if typeName != "" {
			f.TypeName = proto.String(typeName)
		}
		return f
	}
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	return &descriptorpb.DescriptorProto{
		Name: proto.String("table_rs"),
		Field: []*descriptorpb.FieldDescriptorProto{
			field("id", 1, descriptorpb.FieldDescriptorProto_TYPE_INT64, "", false, false),
			field("name", 2, descriptorpb.FieldDescriptorProto_TYPE_STRING, "", true, false),
			field("score", 3, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE, "", true, false),
			field("loc", 4, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, "Loc", true, false),
			field("tags", 5, descriptorpb.FieldDescriptorProto_TYPE_INT64, "", true, true),
			field("props", 6, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, "PropsEntry", true, true),
		},
		NestedType: []*descriptorpb.DescriptorProto{
			{
				Name: proto.String("Loc"),
				Field: []*descriptorpb.FieldDescriptorProto{
					field("x", 1, descriptorpb.FieldDescriptorProto_TYPE_INT32, "", true, false),
					field("y", 2, descriptorpb.FieldDescriptorProto_TYPE_STRING, "", true, false),
				},
			},
			{
				Name: proto.String("PropsEntry"),
				Field: []*descriptorpb.FieldDescriptorProto{
					{Name: proto.String("key"), Number: proto.Int32(1), Label: opt, Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(),
						JsonName: proto.String("key"), Proto3Optional: proto.Bool(false)},
					{Name: proto.String("value"), Number: proto.Int32(2), Label: opt, Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum(),
						JsonName: proto.String("value"), Proto3Optional: proto.Bool(true)},
				},
				Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
			},
		},
	}
}

// The official Rust SDK's descriptor for Unity Catalog columns marks every
// nullable column proto3_optional. A stream created with it is accepted
// (it was refused with INVALID_ARGUMENT: "under proto3 optional semantics
// must be specified in the proto3 syntax"), and records encoded as a
// proto3-optional-aware encoder writes them (a present field written even
// when zero, an absent one not at all) are stored exactly: absent = null,
// present zero values kept.
func TestRustSDKProto3OptionalDescriptor(t *testing.T) {
	s := start(t, zerobuslocal.Options{DisableAutoCreate: true})
	const table = "main.default.p1"
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, name STRING, score DOUBLE, " +
		"loc STRUCT<x: INT, y: STRING>, tags ARRAY<BIGINT>, props MAP<STRING, INT>")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatalf("CreateTableColumns: %v", err)
	}
	desc := ucColumnsDescriptor()
	before := proto.Clone(desc)

	str := func(b []byte, num protowire.Number, v string) []byte {
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), v)
	}
	varint := func(b []byte, num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), v)
	}
	dbl := func(b []byte, num protowire.Number, v float64) []byte {
		return protowire.AppendFixed64(protowire.AppendTag(b, num, protowire.Fixed64Type), math.Float64bits(v))
	}
	msg := func(b []byte, num protowire.Number, inner []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), inner)
	}
	// Row 1: every column set.
	var r1 []byte
	r1 = varint(r1, 1, 1)
	r1 = str(r1, 2, "alpha")
	r1 = dbl(r1, 3, 2.5)
	r1 = msg(r1, 4, str(varint(nil, 1, 7), 2, "why"))
	r1 = protowire.AppendBytes(protowire.AppendTag(r1, 5, protowire.BytesType),
		protowire.AppendVarint(protowire.AppendVarint(nil, 10), 20)) // packed, as prost writes it
	r1 = msg(r1, 6, varint(str(nil, 1, "k"), 2, 5))
	// Row 2: only the NOT NULL column; every nullable column absent.
	r2 := varint(nil, 1, 2)
	// Row 3: nullable columns present with zero values, the struct with
	// its nullable field absent, a map value absent.
	var r3 []byte
	r3 = varint(r3, 1, 3)
	r3 = str(r3, 2, "")
	r3 = dbl(r3, 3, 0)
	r3 = msg(r3, 4, varint(nil, 1, 0))
	r3 = msg(r3, 6, str(nil, 1, "z"))

	st := openStream(t, dial(t, s), token(t, s, table), table)
	st.create(table, desc, zerobuspb.RecordType_PROTO)
	st.send(recordReq(0, r1))
	st.expectAck(0)
	st.send(batchReq(1, r2, r3))
	st.expectAck(1)
	if err := st.finish(); err != nil {
		t.Fatalf("stream end: %v", err)
	}
	if !proto.Equal(desc, before) {
		t.Errorf("the client's descriptor was modified")
	}

	_, rows := readBack(t, s, table)
	const want = `[{"id":1,"loc":{"x":7,"y":"why"},"name":"alpha","props":[{"key":"k","value":5}],"score":2.5,"tags":[10,20]},` +
		`{"id":2,"loc":null,"name":null,"props":[],"score":null,"tags":[]},` +
		`{"id":3,"loc":{"x":0,"y":null},"name":"","props":[{"key":"z","value":0}],"score":0,"tags":[]}]`
	if rows != want {
		t.Errorf("stored rows:\n got %s\nwant %s", rows, want)
	}
}

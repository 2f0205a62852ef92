package zerobuslocal

import (
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// missingRequired (wire format) and missingRequiredInMessage (decoded JSON)
// name the same first missing required field, at the top level and inside
// a singular, repeated and map-valued message, and nothing for a record the
// decoder accepts; a missing field is named exactly when the validator
// refuses the record.
func TestMissingRequiredNamesPath(t *testing.T) {
	req := descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	i64 := descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	f := func(name string, num int32, l *descriptorpb.FieldDescriptorProto_Label, typ *descriptorpb.FieldDescriptorProto_Type, typeName string) *descriptorpb.FieldDescriptorProto {
		fd := &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Label: l, Type: typ}
		if typeName != "" {
			fd.TypeName = proto.String(typeName)
		}
		return fd
	}
	md := fileMessage(t, &descriptorpb.FileDescriptorProto{
		Name: proto.String("mr.proto"), Package: proto.String("mr"), Syntax: proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("Row"),
			Field: []*descriptorpb.FieldDescriptorProto{
				f("id", 1, req, i64, ""),
				f("pt", 2, opt, msg, ".mr.Row.Pt"),
				f("pts", 3, rep, msg, ".mr.Row.Pt"),
				f("m", 4, rep, msg, ".mr.Row.MEntry"),
				f("s", 5, opt, str, ""),
			},
			NestedType: []*descriptorpb.DescriptorProto{
				{Name: proto.String("Pt"), Field: []*descriptorpb.FieldDescriptorProto{f("x", 1, req, i64, ""), f("w", 2, opt, str, "")}},
				{Name: proto.String("MEntry"), Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
					Field: []*descriptorpb.FieldDescriptorProto{f("key", 1, opt, str, ""), f("value", 2, opt, msg, ".mr.Row.Pt")}},
			},
		}},
	})
	v := protoarrow.NewValidator(md)
	for _, tc := range []struct {
		name, json, want string
	}{
		{"complete", `{"id": 1, "pt": {"x": 2}, "pts": [{"x": 3}], "m": {"k": {"x": 4}}, "s": "a"}`, ""},
		{"empty nested lists and maps", `{"id": 1, "pts": [], "m": {}}`, ""},
		{"top level", `{"s": "a"}`, `column "id": null in a NOT NULL column`},
		{"top level null", `{"id": null}`, `column "id": null in a NOT NULL column`},
		{"struct", `{"id": 1, "pt": {"w": "a"}}`, `field "pt.x": null in a NOT NULL field`},
		{"array element", `{"id": 1, "pts": [{"x": 1}, {"w": "a"}]}`, `field "pts.x": null in a NOT NULL field`},
		{"map value", `{"id": 1, "m": {"k": {"w": "a"}}}`, `field "m.value.x": null in a NOT NULL field`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := dynamicpb.NewMessage(md)
			if err := (protojson.UnmarshalOptions{AllowPartial: true}).Unmarshal([]byte(tc.json), m); err != nil {
				t.Fatal(err)
			}
			if got := missingRequiredInMessage(m, "", 0); got != tc.want {
				t.Errorf("decoded: got %q, want %q", got, tc.want)
			}
			rec, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := missingRequired(md, rec, "", 0); got != tc.want {
				t.Errorf("wire: got %q, want %q", got, tc.want)
			}
			if refused := v.Validate(rec) != nil; refused != (tc.want != "") {
				t.Errorf("validator refuses: %v, but missingRequired says %q", refused, tc.want)
			}
		})
	}
	// A singular STRUCT sent in two parts merges: x in one part is enough.
	pt := func(body []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), body)
	}
	x := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 5)
	w := protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "a")
	id := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 1)
	rec := append(append(append([]byte{}, id...), pt(x)...), pt(w)...)
	if got := missingRequired(md, rec, "", 0); got != "" || v.Validate(rec) != nil {
		t.Errorf("merged struct: got %q, validator %v; want neither to refuse", got, v.Validate(rec))
	}
	if got := missingRequired(md, []byte{0xff}, "", 0); got != "" {
		t.Errorf("malformed: got %q, want \"\" (the decoder's error is kept)", got)
	}
}

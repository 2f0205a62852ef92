package protoarrow_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// dagDescriptor is message R with n+1 fields where nested message Ai has
// two fields of Ai-1, used by name: 3·2^(n+1) fields in all.
func dagDescriptor(n int) *descriptorpb.DescriptorProto {
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	d := &descriptorpb.DescriptorProto{Name: proto.String("R")}
	d.NestedType = append(d.NestedType, &descriptorpb.DescriptorProto{Name: proto.String("A0"), Field: []*descriptorpb.FieldDescriptorProto{
		{Name: proto.String("x"), Number: proto.Int32(1), Label: opt, Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum()}}})
	d.Field = append(d.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String("f0"), Number: proto.Int32(1), Label: opt, Type: msg, TypeName: proto.String(".R.A0")})
	for i := 1; i <= n; i++ {
		prev := fmt.Sprintf(".R.A%d", i-1)
		d.NestedType = append(d.NestedType, &descriptorpb.DescriptorProto{Name: proto.String(fmt.Sprintf("A%d", i)), Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("a"), Number: proto.Int32(1), Label: opt, Type: msg, TypeName: proto.String(prev)},
			{Name: proto.String("b"), Number: proto.Int32(2), Label: opt, Type: msg, TypeName: proto.String(prev)}}})
		d.Field = append(d.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String(fmt.Sprintf("f%d", i)), Number: proto.Int32(int32(i + 1)), Label: opt, Type: msg, TypeName: proto.String(fmt.Sprintf(".R.A%d", i))})
	}
	return d
}

// TestSchemaFieldsBounded: a descriptor whose nested messages, each used
// twice by the next, stand for exponentially many fields is refused past
// 200000 (building the schema took seconds at 16 levels and hours at 30);
// one within the bound maps every field.
func TestSchemaFieldsBounded(t *testing.T) {
	s, err := protoarrow.SchemaFromDescriptor(dagDescriptor(10)) // 6141 fields
	if err != nil || s.NumFields() != 11 {
		t.Fatalf("10 levels: %v", err)
	}
	for _, n := range []int{16, 40} {
		if _, err := protoarrow.SchemaFromDescriptor(dagDescriptor(n)); err == nil || !strings.Contains(err.Error(), "more than 200000 fields") {
			t.Fatalf("%d levels: %v, want refused", n, err)
		}
	}
}

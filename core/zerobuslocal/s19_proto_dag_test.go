package zerobuslocal

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// TestProtoDescriptorExpansionBounded: a create_stream whose descriptor's
// nested messages, each used twice by the next, stand for exponentially
// many fields is refused with InvalidArgument (it hung: the schema and the
// table's columns were built in full).
func TestProtoDescriptorExpansionBounded(t *testing.T) {
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	d := &descriptorpb.DescriptorProto{Name: proto.String("R")}
	d.NestedType = append(d.NestedType, &descriptorpb.DescriptorProto{Name: proto.String("A0"), Field: []*descriptorpb.FieldDescriptorProto{
		{Name: proto.String("x"), Number: proto.Int32(1), Label: opt, Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum()}}})
	d.Field = append(d.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String("f0"), Number: proto.Int32(1), Label: opt, Type: msg, TypeName: proto.String(".R.A0")})
	for i := 1; i <= 40; i++ {
		prev := fmt.Sprintf(".R.A%d", i-1)
		d.NestedType = append(d.NestedType, &descriptorpb.DescriptorProto{Name: proto.String(fmt.Sprintf("A%d", i)), Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("a"), Number: proto.Int32(1), Label: opt, Type: msg, TypeName: proto.String(prev)},
			{Name: proto.String("b"), Number: proto.Int32(2), Label: opt, Type: msg, TypeName: proto.String(prev)}}})
		d.Field = append(d.Field, &descriptorpb.FieldDescriptorProto{Name: proto.String(fmt.Sprintf("f%d", i)), Number: proto.Int32(int32(i + 1)), Label: opt, Type: msg, TypeName: proto.String(fmt.Sprintf(".R.A%d", i))})
	}
	b, err := proto.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	s, err := fuzzServer()
	if err != nil {
		t.Fatal(err)
	}
	defer s.DropTable(fuzzNewTable)
	err, _ = runStream(t, s, fuzzNewTable, wire(t, createMsg(fuzzNewTable, zerobuspb.RecordType_PROTO, b, "")))
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "more than 200000 fields") {
		t.Fatalf("create_stream: %v", err)
	}
	if _, ok := s.TableDescriptor(fuzzNewTable); ok {
		t.Fatal("the table was created")
	}
}

package protoarrow

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// (s19 diff review M2: a 10000-field bound refused it.) A table of 2000 columns (core.MaxColumns), each a STRUCT of 5 fields:
// 12000 Arrow fields, a shape the client sends and records in debug files.
func TestWideStructTableWithinFieldBound(t *testing.T) {
	inner := &descriptorpb.DescriptorProto{Name: proto.String("S")}
	for i := 1; i <= 5; i++ {
		inner.Field = append(inner.Field, &descriptorpb.FieldDescriptorProto{
			Name: proto.String(fmt.Sprintf("f%d", i)), Number: proto.Int32(int32(i)),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum(),
		})
	}
	d := &descriptorpb.DescriptorProto{Name: proto.String("T"), NestedType: []*descriptorpb.DescriptorProto{inner}}
	for i := 1; i <= 2000; i++ {
		d.Field = append(d.Field, &descriptorpb.FieldDescriptorProto{
			Name: proto.String(fmt.Sprintf("c%d", i)), Number: proto.Int32(int32(i)),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(),
			TypeName: proto.String(".T.S"),
		})
	}
	if _, err := SchemaFromDescriptor(d); err != nil {
		t.Errorf("2000 STRUCT<5 x BIGINT> columns refused: %v", err)
	}
	rec, err := Decode(nil, d, nil)
	if err != nil {
		t.Errorf("Decode (debug reader path): %v", err)
	} else {
		rec.Release()
	}
}

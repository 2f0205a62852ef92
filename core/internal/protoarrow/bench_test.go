package protoarrow_test

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

func BenchmarkDecode(b *testing.B) {
	desc := allTypes("")
	md, err := protoarrow.MessageDescriptor(desc)
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 1000} {
		recs := make([][]byte, n)
		size := 0
		for i := range recs {
			m := dynamicpb.NewMessage(md)
			fd := md.Fields()
			m.Set(fd.ByName("i32"), protoreflect.ValueOfInt32(int32(i)))
			m.Set(fd.ByName("i64"), protoreflect.ValueOfInt64(int64(i)*7))
			m.Set(fd.ByName("s"), protoreflect.ValueOfString("a typical string value"))
			m.Set(fd.ByName("db"), protoreflect.ValueOfFloat64(float64(i)/3))
			m.Mutable(fd.ByName("tags")).List().Append(protoreflect.ValueOfString("t"))
			recs[i], _ = proto.Marshal(m)
			size += len(recs[i])
		}
		b.Run(map[int]string{1: "rows=1", 1000: "rows=1000"}[n], func(b *testing.B) {
			mem := memory.NewGoAllocator()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				rec, err := protoarrow.Decode(mem, desc, recs)
				if err != nil {
					b.Fatal(err)
				}
				rec.Release()
			}
		})
	}
}

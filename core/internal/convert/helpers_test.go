package convert

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// checkedMem returns an allocator that fails the test if any Arrow memory
// is still allocated when the test ends.
func checkedMem(t testing.TB) *memory.CheckedAllocator {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

// fromJSON builds an array of type dt from a JSON array literal.
func fromJSON(t testing.TB, mem memory.Allocator, dt arrow.DataType, js string) arrow.Array {
	t.Helper()
	arr, _, err := array.FromJSON(mem, dt, strings.NewReader(js), array.WithUseNumber())
	if err != nil {
		t.Fatalf("array.FromJSON(%s, %s): %v", dt, js, err)
	}
	return arr
}

// oneColumn wraps arr as the single column "v" of a record batch.
func oneColumn(arr arrow.Array, nullable bool) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arr.DataType(), Nullable: nullable}}, nil)
	return array.NewRecordBatch(schema, []arrow.Array{arr}, int64(arr.Len()))
}

// decode parses one encoded record with dynamicpb.
func decode(t testing.TB, md protoreflect.MessageDescriptor, b []byte) *dynamicpb.Message {
	t.Helper()
	m := dynamicpb.NewMessage(md)
	if err := (proto.UnmarshalOptions{}).Unmarshal(b, m); err != nil {
		t.Fatalf("decoding record %x: %v", b, err)
	}
	return m
}

// parseText builds the expected message from prototext.
func parseText(t testing.TB, md protoreflect.MessageDescriptor, text string) *dynamicpb.Message {
	t.Helper()
	m := dynamicpb.NewMessage(md)
	if err := prototext.Unmarshal([]byte(text), m); err != nil {
		t.Fatalf("parsing expected text %q: %v", text, err)
	}
	return m
}

// encodeOK encodes rec and fails the test on an Encode error.
func encodeOK(t testing.TB, p *Plan, rec arrow.RecordBatch) *Batch {
	t.Helper()
	b, err := p.Encode(rec)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return b
}

func equalMsg(a, b proto.Message) bool { return proto.Equal(a, b) }

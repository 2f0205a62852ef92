package protoarrow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ipcSeedSchema has what the verifier walks: nested fields, a dictionary,
// custom metadata on a field and on the schema.
var ipcSeedSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true,
		Metadata: arrow.NewMetadata([]string{"k"}, []string{"v"})},
	{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.StructOf(
		arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true})), Nullable: true},
	{Name: "d", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}, Nullable: true},
}, func() *arrow.Metadata { m := arrow.NewMetadata([]string{"a"}, []string{"b"}); return &m }())

// ipcSeeds returns the metadata of a schema message and of a record batch
// message of ipcSeedSchema, and the batch's body length.
func ipcSeeds(t testing.TB) (schema, batch []byte, body int64) {
	sp := ipc.GetSchemaPayload(ipcSeedSchema, memory.DefaultAllocator)
	defer sp.Release()
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(ipcSeedSchema.Fields()[:2], nil))
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	lb := b.Field(1).(*array.ListBuilder)
	lb.Append(true)
	lb.ValueBuilder().(*array.StringBuilder).Append("x")
	lb.AppendNull()
	lb.Append(true)
	rec := b.NewRecordBatch()
	defer rec.Release()
	bp, err := ipc.GetRecordBatchPayload(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer bp.Release()
	var buf bytes.Buffer
	if err := bp.SerializeBody(&buf); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(sp.Meta().Bytes()), bytes.Clone(bp.Meta().Bytes()), int64(buf.Len())
}

// Messages arrow-go writes pass with their body length; the checks that
// only a declared length can fail (a body longer than the bytes left, a
// buffer outside the body) name what is wrong.
func TestVerifyIPCMessage(t *testing.T) {
	schema, batch, body := ipcSeeds(t)
	if n, err := VerifyIPCMessage(schema, "the schema", 0); err != nil || n != 0 {
		t.Fatalf("schema: %d, %v", n, err)
	}
	if n, err := VerifyIPCMessage(batch, "record batch 0", body); err != nil || n != body {
		t.Fatalf("batch: %d, %v; want body %d", n, err, body)
	}
	_, err := VerifyIPCMessage(batch, "record batch 0", body-1)
	var me *IPCMetadataError
	if !errors.Is(err, ErrIPCMetadata) || !errors.As(err, &me) || me.What != "record batch 0" || !strings.Contains(me.Reason, "a body of") {
		t.Fatalf("short body: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("not a flatbuffer"), schema[:len(schema)/2]} {
		if _, err := VerifyIPCMessage(bad, "x", 1<<20); !errors.Is(err, ErrIPCMetadata) {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// FuzzVerifyIPCMessage: any bytes as a message's metadata are an error
// naming the message, never a panic; a message that passes declares a body
// that fits, and a schema that passes is read by arrow-go without a panic.
func FuzzVerifyIPCMessage(f *testing.F) {
	schema, batch, body := ipcSeeds(f)
	f.Add(schema, int64(0))
	f.Add(batch, body)
	f.Add([]byte("not a flatbuffer"), int64(8))
	f.Fuzz(func(t *testing.T, meta []byte, maxBody int64) {
		n, err := VerifyIPCMessage(meta, "the message", maxBody)
		if err != nil {
			var me *IPCMetadataError
			if !errors.As(err, &me) || !errors.Is(err, ErrIPCMetadata) || me.What != "the message" {
				t.Fatalf("error %v is not an IPCMetadataError naming the message", err)
			}
			return
		}
		if n < 0 || n > maxBody {
			t.Fatalf("body of %d bytes passes with %d left", n, maxBody)
		}
		if n != 0 || len(meta) > 1<<16 {
			return
		}
		// A stream of this message and its end: arrow-go reads a schema
		// (or refuses another message) without a panic.
		var s bytes.Buffer
		pad := (8 - len(meta)%8) % 8
		_ = binary.Write(&s, binary.LittleEndian, []uint32{0xFFFFFFFF, uint32(len(meta) + pad)})
		s.Write(meta)
		s.Write(make([]byte, pad))
		_ = binary.Write(&s, binary.LittleEndian, []uint32{0xFFFFFFFF, 0})
		if r, err := ipc.NewReader(&s); err == nil {
			r.Release()
		}
	})
}

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

// ipcSeedBatches writes two batches of id int64 and tags list<string> as an
// Arrow IPC stream and as an Arrow IPC file.
func ipcSeedBatches(t testing.TB) (stream, file []byte) {
	schema := arrow.NewSchema(ipcSeedSchema.Fields()[:2], nil)
	var s, f bytes.Buffer
	sw := ipc.NewWriter(&s, ipc.WithSchema(schema))
	fw, err := ipc.NewFileWriter(&f, ipc.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 2; k++ {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{int64(10 * k), int64(10*k + 1)}, nil)
		lb := b.Field(1).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.StringBuilder).Append("x")
		lb.AppendNull()
		rec := b.NewRecordBatch()
		if err := sw.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := fw.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		b.Release()
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return s.Bytes(), f.Bytes()
}

// readVerifiedStream reads every batch of data through the stream verifier
// and returns the ids of its rows.
func readVerifiedStream(data []byte) ([]int64, error) {
	r, err := ipc.NewReader(NewIPCStreamVerifier(bytes.NewReader(data), int64(len(data))))
	if err != nil {
		return nil, err
	}
	defer r.Release()
	var ids []int64
	for r.Next() {
		ids = append(ids, r.RecordBatch().Column(0).(*array.Int64).Int64Values()...)
	}
	return ids, r.Err()
}

// setBodyLength sets Message.bodyLength in the metadata flatbuffer meta.
func setBodyLength(meta []byte, n uint64) {
	root := int(binary.LittleEndian.Uint32(meta))
	vt := root - int(int32(binary.LittleEndian.Uint32(meta[root:])))
	off := int(binary.LittleEndian.Uint16(meta[vt+4+2*3:]))
	binary.LittleEndian.PutUint64(meta[root+off:], n)
}

// streamMessages returns where each message's metadata (after its 8-byte
// prefix) lies in stream.
func streamMessages(stream []byte) [][2]int {
	var out [][2]int
	for at := 0; at+8 <= len(stream); {
		mlen := int(binary.LittleEndian.Uint32(stream[at+4:]))
		if mlen == 0 {
			break
		}
		meta := stream[at+8 : at+8+mlen]
		root := int(binary.LittleEndian.Uint32(meta))
		vt := root - int(int32(binary.LittleEndian.Uint32(meta[root:])))
		body := 0
		if off := int(binary.LittleEndian.Uint16(meta[vt+4+2*3:])); off != 0 && vt+4+2*3 < vt+int(binary.LittleEndian.Uint16(meta[vt:])) {
			body = int(binary.LittleEndian.Uint64(meta[root+off:]))
		}
		out = append(out, [2]int{at + 8, at + 8 + mlen})
		at += 8 + mlen + body
	}
	return out
}

// A good stream and file pass and read back; a body declared past the end,
// a metadata length past the end and a stream cut anywhere are errors
// naming the message, and the batches before them are read.
func TestIPCStreamVerifier(t *testing.T) {
	stream, file := ipcSeedBatches(t)
	if ids, err := readVerifiedStream(stream); err != nil || len(ids) != 4 || ids[2] != 10 {
		t.Fatalf("good stream: %v, %v", ids, err)
	}
	if err := VerifyIPCFile(bytes.NewReader(file), int64(len(file))); err != nil {
		t.Fatalf("good file: %v", err)
	}
	msgs := streamMessages(stream)
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want the schema and 2 batches", len(msgs))
	}

	bad := bytes.Clone(stream)
	setBodyLength(bad[msgs[2][0]:msgs[2][1]], 1<<40)
	ids, err := readVerifiedStream(bad)
	if !errors.Is(err, ErrIPCMetadata) || !strings.Contains(err.Error(), "message 2: a body of 1099511627776 bytes, but only") || len(ids) != 2 {
		t.Errorf("long body: ids %v, %v", ids, err)
	}

	bad = bytes.Clone(stream)
	binary.LittleEndian.PutUint32(bad[msgs[1][0]-4:], 0x7FFFFFF0)
	ids, err = readVerifiedStream(bad)
	if !errors.Is(err, ErrIPCMetadata) || !strings.Contains(err.Error(), "message 1: 2147483632 bytes of metadata, but only") || len(ids) != 0 {
		t.Errorf("long metadata: ids %v, %v", ids, err)
	}

	for cut := 0; cut < len(stream); cut++ {
		ids, err := readVerifiedStream(stream[:cut])
		if err == nil && cut != msgs[1][0]-8 && cut != msgs[2][0]-8 && cut != len(stream)-8 {
			t.Errorf("cut at %d of %d: no error, ids %v", cut, len(stream), ids)
		}
		if want := 2 * countBefore(msgs[1:], len(stream), cut); len(ids) != want {
			t.Errorf("cut at %d: %d rows read, want %d (%v)", cut, len(ids), want, err)
		}
	}
}

// countBefore counts the batches complete before cut: a batch's body ends
// where the next message's prefix begins, the last one's 8 bytes before the
// stream's end.
func countBefore(batches [][2]int, streamLen, cut int) int {
	n := 0
	for k := range batches {
		end := streamLen - 8
		if k+1 < len(batches) {
			end = batches[k+1][0] - 8
		}
		if cut < end {
			break
		}
		n++
	}
	return n
}

// An IPC file whose footer places a block outside the data, or whose
// batch declares a longer body than its block, is refused naming the block.
func TestVerifyIPCFile(t *testing.T) {
	_, file := ipcSeedBatches(t)
	size := int64(len(file))
	if err := VerifyIPCFile(bytes.NewReader(file[:10]), 10); !errors.Is(err, ErrIPCMetadata) || !strings.Contains(err.Error(), "the file: 10 bytes") {
		t.Errorf("short file: %v", err)
	}
	bad := bytes.Clone(file)
	binary.LittleEndian.PutUint32(bad[size-10:], uint32(size))
	if err := VerifyIPCFile(bytes.NewReader(bad), size); !errors.Is(err, ErrIPCMetadata) || !strings.Contains(err.Error(), "the footer: a length of") {
		t.Errorf("long footer: %v", err)
	}
}

package protoarrow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ipcSeedBatches writes two batches of id int64 and tags list<string> as an
// Arrow IPC stream and as an Arrow IPC file, with the writer options opts
// (compression).
func ipcSeedBatches(t testing.TB, opts ...ipc.Option) (stream, file []byte) {
	schema := arrow.NewSchema(ipcSeedSchema.Fields()[:2], nil)
	var s, f bytes.Buffer
	sw := ipc.NewWriter(&s, append(opts, ipc.WithSchema(schema))...)
	fw, err := ipc.NewFileWriter(&f, append(opts, ipc.WithSchema(schema))...)
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
	return readIDs(NewIPCStreamVerifier(bytes.NewReader(data), int64(len(data))))
}

// readIDs reads the ids (column 0) of every batch of the IPC stream in.
func readIDs(in io.Reader) ([]int64, error) {
	r, err := ipc.NewReader(in)
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
		body, err := VerifyIPCMessage(stream[at+8:at+8+mlen], "", int64(len(stream)))
		if err != nil {
			panic(err)
		}
		out = append(out, [2]int{at + 8, at + 8 + mlen})
		at += 8 + mlen + int(body)
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

// A compressed buffer whose uncompressed length (its first 8 bytes) is not
// what its data decompresses to is refused before arrow-go allocates it,
// in a stream and a file, for zstd and lz4; the files as written pass.
func TestIPCCompressedBufferLength(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  ipc.Option
	}{{"zstd", ipc.WithZstd()}, {"lz4", ipc.WithLZ4()}} {
		t.Run(c.name, func(t *testing.T) {
			stream, file := ipcSeedBatches(t, c.opt, ipc.WithMinSpaceSavings(0))
			if ids, err := readVerifiedStream(stream); err != nil || len(ids) != 4 {
				t.Fatalf("good stream: %v, %v", ids, err)
			}
			if err := VerifyIPCFile(bytes.NewReader(file), int64(len(file))); err != nil {
				t.Fatalf("good file: %v", err)
			}
			// Batch 1's id values: the uncompressed length prefix of the
			// 16-byte buffer of two int64s is 16; make it 512 MiB (within
			// DecodedLimit: more is TestIPCDecodedLimit's), then 15.
			for _, n := range []uint64{1 << 29, 15} {
				for _, data := range [][]byte{stream, file} {
					bad := bytes.Clone(data)
					end := len(bad) - 8 // the stream's end marker, or the file's footer
					if !bytes.Equal(data, stream) {
						end = len(bad) - 10 - int(binary.LittleEndian.Uint32(bad[len(bad)-10:]))
					}
					at := bytes.LastIndex(bad[:end], binary.LittleEndian.AppendUint64(nil, 16))
					if at < 0 {
						t.Fatal("no buffer of 16 uncompressed bytes")
					}
					binary.LittleEndian.PutUint64(bad[at:], n)
					want := fmt.Sprintf("declares %d uncompressed bytes, its data holds", n)
					var err error
					if bytes.Equal(data, stream) {
						var ids []int64
						ids, err = readVerifiedStream(bad)
						if len(ids) != 2 || !strings.Contains(err.Error(), "message 2: compressed buffer ") {
							t.Errorf("stream, %d: ids %v, %v", n, ids, err)
						}
					} else {
						err = VerifyIPCFile(bytes.NewReader(bad), int64(len(bad)))
						if err == nil || !strings.Contains(err.Error(), "record batch 1: compressed buffer ") {
							t.Errorf("file, %d: %v", n, err)
						}
					}
					if !errors.Is(err, ErrIPCMetadata) || !strings.Contains(err.Error(), want) {
						t.Errorf("%d: %v; want %q", n, err, want)
					}
				}
			}
		})
	}
}

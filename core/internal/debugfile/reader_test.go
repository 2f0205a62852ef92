package debugfile

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/ipcbomb"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/debuglock"
)

// writeProtoFile writes records through a Writer and returns the file.
func writeProtoFile(t *testing.T, records [][]byte) string {
	t.Helper()
	w, err := New(table, Config{OutputDir: t.TempDir(), Proto: true})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteProto(testDesc("Row"), records, nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, p := w.Paths()
	return p
}

func TestProtoFileIsProtodelim(t *testing.T) {
	p := writeProtoFile(t, makeRecords(0, 5))
	desc, _, err := ReadProtoFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want, err := DecodeProto(desc, makeRecords(0, 5))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// The file is exactly what protodelim reads.
	r := bufio.NewReader(bytes.NewReader(raw))
	for i := range want {
		got := want[i].ProtoReflect().Type().New().Interface()
		if err := protodelim.UnmarshalFrom(r, got); err != nil {
			t.Fatalf("protodelim record %d: %v", i, err)
		}
		if !proto.Equal(got, want[i]) {
			gj, _ := protojson.Marshal(got)
			wj, _ := protojson.Marshal(want[i])
			t.Errorf("record %d = %s, want %s", i, gj, wj)
		}
	}
	if _, err := r.ReadByte(); err == nil {
		t.Error("bytes left after the last record")
	}
	if js, _ := protojson.Marshal(want[3]); !strings.Contains(string(js), `"id":"3"`) {
		t.Errorf("record 3 as JSON = %s", js)
	}
}

func TestReadProtoFileTruncated(t *testing.T) {
	p := writeProtoFile(t, makeRecords(0, 3))
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// A rotated file cut short is damage; the active one is still being
	// written (TestReadProtoFileCutAnywhere).
	p = rotatedCopy(t, p, raw[:len(raw)-2])
	_, recs, err := ReadProtoFile(p)
	if err == nil || !strings.Contains(err.Error(), "record 2") || !strings.Contains(err.Error(), p) {
		t.Fatalf("error = %v; want one naming record 2 and the file", err)
	}
	if len(recs) != 2 {
		t.Errorf("got %d complete records, want 2", len(recs))
	}
}

func TestReadProtoFileMissingSidecar(t *testing.T) {
	p := writeProtoFile(t, makeRecords(0, 1))
	if err := os.Remove(SidecarPath(p)); err != nil {
		t.Fatal(err)
	}
	_, _, err := ReadProtoFile(p)
	if err == nil || !strings.Contains(err.Error(), filepath.Base(SidecarPath(p))) {
		t.Errorf("error = %v; want one naming the missing sidecar", err)
	}
}

func TestReadProtoFileArrow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := writeProtoFile(t, makeRecords(0, 6))
	rec, err := ReadProtoFileArrow(p, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if rec.NumRows() != 6 {
		t.Fatalf("rows = %d, want 6", rec.NumRows())
	}
	ids, ok := rec.Column(0).(*array.Int64)
	if !ok {
		t.Fatalf("column 0 is %T, want int64", rec.Column(0))
	}
	for i := 0; i < 6; i++ {
		if ids.Value(i) != int64(i) {
			t.Errorf("row %d id = %d", i, ids.Value(i))
		}
	}
}

func TestReadArrowFileErrors(t *testing.T) {
	dir := t.TempDir()
	p := writeProtoFile(t, makeRecords(0, 1))
	if _, err := ReadArrowFile(p, nil); err == nil || !strings.Contains(err.Error(), "ReadProtoFile") {
		t.Errorf("reading a .proto as Arrow: %v; want a hint", err)
	}
	if _, err := ReadArrowFile(filepath.Join(dir, "missing.arrow"), nil); err == nil {
		t.Error("reading a missing file succeeded")
	}
}

// TestProtoRecordLengths writes records whose lengths straddle the varint
// sizes (1, 2 and 3 bytes) and the output buffer's size, in buffered and
// direct mode, and reads them back.
func TestProtoRecordLengths(t *testing.T) {
	var recs [][]byte
	for _, n := range []int{0, 1, 127, 128, 129, 200, 16383, 16384, 16385, 300 << 10, 5, 1<<20 - 3, 1 << 20, 127, 2} {
		r := make([]byte, n)
		for i := range r {
			r[i] = byte(i*7 + n)
		}
		recs = append(recs, r)
	}
	for i := 0; i < 20_000; i++ { // enough 2-byte-length records to fill the buffer several times
		recs = append(recs, bytes.Repeat([]byte{byte(i)}, 100+i%60))
	}
	for _, mode := range []string{"buffered", "direct"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			opt := WithBufferedIO()
			if mode == "direct" {
				opt = func(o *options) { o.pinnedIO = true }
			}
			w := mustNew(t, table, Config{OutputDir: dir, Proto: true}, opt)
			w.WriteProto(testDesc("Row"), recs[:7], nil)
			w.WriteProto(testDesc("Row"), recs[7:], nil)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, p := w.Paths()
			_, got, err := ReadProtoFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(recs) {
				t.Fatalf("read %d records, wrote %d", len(got), len(recs))
			}
			for i := range recs {
				if !bytes.Equal(got[i], recs[i]) {
					t.Fatalf("record %d: read %d bytes, wrote %d", i, len(got[i]), len(recs[i]))
				}
			}
		})
	}
}

// arrowMessages returns where each message of the Arrow IPC stream data
// lies: its 8-byte prefix at [0], its metadata at [1]:[2], its body at
// [2]:[3]. The end-of-stream marker is left out.
func arrowMessages(t testing.TB, data []byte) [][4]int {
	t.Helper()
	var out [][4]int
	for at := 0; at+8 <= len(data); {
		mlen := int(binary.LittleEndian.Uint32(data[at+4:]))
		if mlen == 0 {
			break
		}
		meta := data[at+8 : at+8+mlen]
		body := int(bodyLength(meta))
		out = append(out, [4]int{at, at + 8, at + 8 + mlen, at + 8 + mlen + body})
		at += 8 + mlen + body
	}
	return out
}

// fbField returns where field i of the flatbuffer table at pos in buf lies
// (0: absent).
func fbField(buf []byte, pos, i int) int {
	vt := pos - int(int32(binary.LittleEndian.Uint32(buf[pos:])))
	if vl := int(binary.LittleEndian.Uint16(buf[vt:])); vl < 4+2*(i+1) {
		return 0
	}
	if off := int(binary.LittleEndian.Uint16(buf[vt+4+2*i:])); off != 0 {
		return pos + off
	}
	return 0
}

// bodyField returns where Message.bodyLength lies in the metadata meta.
func bodyField(meta []byte) int {
	return fbField(meta, int(binary.LittleEndian.Uint32(meta)), 3)
}

func bodyLength(meta []byte) int64 {
	if p := bodyField(meta); p != 0 {
		return int64(binary.LittleEndian.Uint64(meta[p:]))
	}
	return 0
}

// lastBuffer returns where the last Buffer {offset, length} of the record
// batch message meta lies.
func lastBuffer(meta []byte) int {
	deref := func(p int) int { return p + int(binary.LittleEndian.Uint32(meta[p:])) }
	header := deref(fbField(meta, int(binary.LittleEndian.Uint32(meta)), 2)) // Message.header
	vec := deref(fbField(meta, header, 2))                                   // RecordBatch.buffers
	return vec + 4 + 16*(int(binary.LittleEndian.Uint32(meta[vec:]))-1)
}

// writeArrowDebugFile writes batches of rows [0,4), [4,8), [8,12) through
// a Writer and returns the file.
func writeArrowDebugFile(t testing.TB, codec Compression) string {
	t.Helper()
	w, err := New(table, Config{OutputDir: t.TempDir(), Arrow: true, ArrowCompression: codec})
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < 3; k++ {
		rec := makeBatch(memory.DefaultAllocator, 4*k, 4)
		w.WriteArrow(rec)
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p, _ := w.Paths()
	return p
}

// A damaged Arrow debug file (a metadata length, a body length, a buffer
// placed past the body, a cut inside a batch, a string offset in a body)
// is an error naming the file,
// the batch and what is wrong; the batches before the damage come back
// whole.
func TestReadArrowFileDamaged(t *testing.T) {
	p := writeArrowDebugFile(t, CompressionNone)
	debuglock.Hold(t, p) // the cut cases: its writer is still writing it
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	msgs := arrowMessages(t, good)
	if len(msgs) != 4 {
		t.Fatalf("%d messages, want the schema and 3 batches", len(msgs))
	}
	b2 := msgs[3] // batch 2 (message 3)
	b1 := msgs[2] // batch 1 (message 2)
	for _, c := range []struct {
		name   string
		damage func(d []byte) []byte
		batch  int    // the batch named, = the batches read whole
		want   string // in the error
		cut    bool   // the file ends inside a message: as the active file, still being written
	}{
		{"metadata length", func(d []byte) []byte {
			binary.LittleEndian.PutUint32(d[b2[0]+4:], 0x7FFFFFF0)
			return d
		}, 2, "message 3: 2147483632 bytes of metadata, but only", false},
		{"body length", func(d []byte) []byte {
			binary.LittleEndian.PutUint64(d[b1[1]+bodyField(d[b1[1]:b1[2]]):], 1<<40)
			return d
		}, 1, "message 2: a body of 1099511627776 bytes, but only", false},
		{"buffer length", func(d []byte) []byte {
			meta := d[b1[1]:b1[2]]
			binary.LittleEndian.PutUint64(meta[lastBuffer(meta)+8:], 1<<40)
			return d
		}, 1, "message 2: buffer ", false},
		{"cut in the body", func(d []byte) []byte { return d[:b2[3]-3] }, 2, fmt.Sprintf("message 3: a body of %d bytes, but only %d bytes are left", b2[3]-b2[2], b2[3]-b2[2]-3), true},
		{"string offset in the body", func(d []byte) []byte {
			// Batch 1's names: offsets [0 8 17 27 38]; offset 2 set to 30
			// makes row 2 end before it starts.
			meta := d[b1[1]:b1[2]]
			at := int(binary.LittleEndian.Uint64(meta[lastBuffer(meta)-16:])) // the offsets buffer
			binary.LittleEndian.PutUint32(d[b1[2]+at+8:], 30)
			return d
		}, 1, "corrupt Arrow data: column name, row 2: offset 3 is 27, below the offset 30 before it (the file is damaged from this batch on", false},
		{"cut in the metadata", func(d []byte) []byte { return d[:b1[1]+5] }, 1, fmt.Sprintf("message 2: %d bytes of metadata, but only 5 bytes of the stream are left", b1[2]-b1[1]), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			damaged := c.damage(bytes.Clone(good))
			if err := os.WriteFile(p, damaged, 0o600); err != nil {
				t.Fatal(err)
			}
			if c.cut { // the active file: the batches before the cut, no error
				recs, tail, err := ReadArrowFileTail(p, nil)
				for _, r := range recs {
					r.Release()
				}
				if err != nil || len(recs) != c.batch || !tail.StillWriting || tail.Offset != int64(msgs[c.batch+1][0]) {
					t.Fatalf("active file: %d batches, %+v, %v; want %d, still writing from %d, no error", len(recs), tail, err, c.batch, msgs[c.batch+1][0])
				}
			}
			p := rotatedCopy(t, p, damaged) // a rotated file: damage, also when cut
			recs, err := ReadArrowFile(p, nil)
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), fmt.Sprintf("batch %d: ", c.batch)) ||
				!strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v; want one naming %s, batch %d and %q", err, p, c.batch, c.want)
			}
			if len(recs) != c.batch {
				t.Fatalf("%d batches read, want %d", len(recs), c.batch)
			}
			for k, rec := range recs {
				ids := rec.Column(0).(*array.Int64).Int64Values()
				if !slices.Equal(ids, []int64{int64(4 * k), int64(4*k + 1), int64(4*k + 2), int64(4*k + 3)}) {
					t.Errorf("batch %d ids = %v", k, ids)
				}
			}
		})
	}
}

// A protobuf debug file whose next length prefix claims far more than the
// file holds (a flipped high bit) is an error naming the record and the
// file; nothing is allocated by the claimed length, and the records before
// it come back.
func TestReadProtoFileHugeLength(t *testing.T) {
	p := writeProtoFile(t, makeRecords(0, 3))
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	raw = protowire.AppendVarint(raw, 1<<34) // 16 GiB
	raw = append(raw, "short"...)
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, recs, err := ReadProtoFile(p)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "record 3 at byte offset") ||
		!strings.Contains(err.Error(), fmt.Sprintf("length %d runs past the end of the file", uint64(1<<34))) {
		t.Fatalf("error = %v; want one naming the file, record 3 and the length", err)
	}
	if len(recs) != 3 || recordID(t, recs[2]) != 2 {
		t.Fatalf("%d records read, want 3", len(recs))
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("reading a %d-byte file allocated %d bytes", len(raw), n)
	}
}

// BenchmarkReadArrowFile reads a debug file of 3 batches of 10,000 rows
// with ReadArrowFile (verified; a compressed body is decompressed once more
// to check its lengths) and with plain arrow-go, interleaved.
func BenchmarkReadArrowFile(b *testing.B) {
	sent, release := compressibleBatches(memory.DefaultAllocator, 3, 10_000)
	defer release()
	for _, codec := range []Compression{CompressionNone, CompressionZstd, CompressionLZ4} {
		p := writeArrowOnly(&testing.T{}, b.TempDir(), codec, memory.DefaultAllocator, sent)
		for _, rd := range []struct {
			name string
			read func() []arrow.RecordBatch
		}{
			{"verified", func() []arrow.RecordBatch {
				recs, err := ReadArrowFile(p, nil)
				if err != nil {
					b.Fatal(err)
				}
				return recs
			}},
			{"arrow-go", func() []arrow.RecordBatch { return readWithArrowGo(&testing.T{}, p, memory.DefaultAllocator) }},
		} {
			b.Run(cmp.Or(string(codec), "none")+"/"+rd.name, func(b *testing.B) {
				for range b.N {
					for _, r := range rd.read() {
						r.Release()
					}
				}
			})
		}
	}
}

// A small Arrow debug file whose zstd buffer really decompresses to 2 GiB
// of zeros is refused before anything is decompressed or allocated, naming
// the file, the batch and what to do (the compressed buffers of a batch
// may decompress to at most protoarrow.BatchDecodedLimit of its body); real
// compressed debug files still read (TestReadArrowFileEveryByteFlipped's
// zstd and lz4 files, read whole before they are flipped).
func TestReadArrowFileDecompressionBomb(t *testing.T) {
	p, size, err := ipcbomb.WriteFile(t.TempDir(), "bomb.arrow", false, 2)
	if err != nil {
		t.Fatal(err)
	}
	mem := &boundedAllocator{Allocator: memory.NewGoAllocator(), limit: 4*size + 1<<16}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	recs, err := ReadArrowFile(p, mem)
	runtime.ReadMemStats(&after)
	for _, r := range recs {
		r.Release()
	}
	want := "record batch 0 (message 1): its compressed buffers declare more than 1073741824 bytes uncompressed, the limit for one batch"
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "batch 0: ") ||
		!strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "debug_arrow_compression=lz4 or none") || len(recs) != 0 {
		t.Fatalf("%d batches, error %v; want one naming %s and %q", len(recs), err, p, want)
	}
	if n := mem.over.Load(); n != 0 {
		t.Errorf("a %d-byte allocation", n)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("refusing a %d-byte file allocated %d bytes", size, n)
	}
	for _, codec := range []Compression{CompressionZstd, CompressionLZ4} {
		recs, err := ReadArrowFile(writeArrowDebugFile(t, codec), nil)
		if err != nil || len(recs) != 3 {
			t.Errorf("%s: %d batches, %v", codec, len(recs), err)
		}
		for _, r := range recs {
			r.Release()
		}
	}
}

// ReadArrowFile of a protobuf debug file (KindOf: "proto") says which
// reader it needs; of another unreadable file, it does not.
func TestReadArrowFileOfAProtoFileSaysWhichReader(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		hint bool
	}{{"t-20260101T000000Z-1" + ProtoExt, true}, {"t" + ArrowExt, false}} {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte("\x0a\x03abc not arrow"), 0o600); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadArrowFile(p, nil)
		if err == nil || len(recs) != 0 || strings.Contains(err.Error(), "use ReadProtoFile") != c.hint {
			t.Errorf("%s: %d batches, %v", c.name, len(recs), err)
		}
	}
}

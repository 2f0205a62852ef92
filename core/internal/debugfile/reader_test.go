package debugfile

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
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
	if err := os.WriteFile(p, raw[:len(raw)-2], 0o600); err != nil {
		t.Fatal(err)
	}
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

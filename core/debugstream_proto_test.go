package core

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// A protobuf debug file is read for OpenDebugFile's batches one batch at a
// time: reading a ~50 MB file through, the Go heap never holds more than a
// fraction of it (the whole-file reader held the file, a slice of every
// record and every decoded batch at once: more than the file). The rows are
// all there, in order.
func TestOpenDebugFileProtoHoldsOneBatch(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "t-20261206T170000.000Z-0000.proto")
	desc := &descriptorpb.DescriptorProto{
		Name: proto.String("Row"),
		Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("id"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()},
			{Name: proto.String("name"), Number: proto.Int32(2), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
		},
	}
	side, err := proto.Marshal(desc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "t-20261206T170000.000Z-0000.descriptor.pb"), side, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	const rows = 1_200_000
	var rec, framed []byte
	for i := range rows {
		rec = protowire.AppendTag(rec[:0], 1, protowire.VarintType)
		rec = protowire.AppendVarint(rec, uint64(i))
		rec = protowire.AppendTag(rec, 2, protowire.BytesType)
		rec = protowire.AppendString(rec, fmt.Sprintf("row %08d of a file read a batch at a time", i))
		framed = protowire.AppendBytes(framed[:0], rec)
		if _, err := w.Write(framed); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}

	heap := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	base := heap()
	r, err := OpenDebugFile(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	peak, next := heap()-base, int64(0)
	for r.Next() {
		b := r.RecordBatch()
		ids := b.Column(0).(*array.Int64)
		for i := range ids.Len() {
			if ids.Value(i) != next {
				t.Fatalf("row %d has id %d", next, ids.Value(i))
			}
			next++
		}
		peak = max(peak, heap()-base)
	}
	if err := r.Damage(); err != nil {
		t.Fatal(err)
	}
	r.Release()
	if next != rows {
		t.Fatalf("%d rows read, want %d", next, rows)
	}
	if peak > st.Size()/3 {
		t.Fatalf("reading a %d MB protobuf debug file held up to %d MB of Go heap; want at most a third of the file", st.Size()>>20, peak>>20)
	}
	t.Logf("%d MB file: up to %d MB of Go heap held", st.Size()>>20, peak>>20)
}

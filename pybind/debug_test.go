//go:build cgo

package pybind

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/ipcbomb"
)

// damagedArrowFile writes an IPC stream of two batches {id, name}; batch
// 1's name offsets are [0 2 1 6]: row 1 ends before it starts.
func damagedArrowFile(t *testing.T) string {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String},
	}, nil)
	mem := memory.DefaultAllocator
	ids := func(v ...int64) arrow.Array {
		b := array.NewInt64Builder(mem)
		defer b.Release()
		b.AppendValues(v, nil)
		return b.NewArray()
	}
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"aa", "bb", "cc"}, nil)
	goodNames := sb.NewArray()
	sb.Release()
	offs := make([]byte, 16)
	for i, o := range []uint32{0, 2, 1, 6} {
		binary.LittleEndian.PutUint32(offs[4*i:], o)
	}
	badData := array.NewData(arrow.BinaryTypes.String, 3,
		[]*memory.Buffer{nil, memory.NewBufferBytes(offs), memory.NewBufferBytes([]byte("ddeeff"))}, nil, 0, 0)
	badNames := array.NewStringData(badData)
	badData.Release()
	good := array.NewRecordBatch(schema, []arrow.Array{ids(1, 2, 3), goodNames}, 3)
	bad := array.NewRecordBatch(schema, []arrow.Array{ids(4, 5, 6), badNames}, 3)
	defer good.Release()
	defer bad.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	for _, r := range []arrow.RecordBatch{good, bad} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "t.arrow")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A damaged Arrow debug file crosses as core.ReadDebugArrowFile returns it:
// the intact batch before the damage, and the error naming file, batch,
// column and row.
func TestExportDebugFileDamagedArrow(t *testing.T) {
	p := damagedArrowFile(t)
	_, recs, got := exported(t, p)
	defer releaseAll(recs)
	ids, names := idsNamesOf(recs)
	if want := []int64{1, 2, 3}; !slices.Equal(ids, want) || strings.Join(names, ",") != "aa,bb,cc" {
		t.Fatalf("intact rows: ids %v names %v, want [1 2 3] [aa bb cc]", ids, names)
	}
	kind, msg := damageOf(t, got.Damage())
	want := "batch 1: corrupt Arrow data: column name, row 1: offset 2 is 1, below the offset 2 before it"
	if !strings.Contains(msg, p) || !strings.Contains(msg, want) || kind != "unknown" {
		t.Fatalf("damage %s %q, want kind unknown and a message naming %s and %q", kind, msg, p, want)
	}
}

// A debug file whose compressed batch declares more than one batch may
// decompress to (1 GiB for a small one) is refused before anything is
// allocated; the message Python's read_file raises (DamagedDebugFileError:
// the batch is damaged or crafted, its schema is sound) names the file, the
// batch and what to do.
func TestExportDebugFileDecompressionBomb(t *testing.T) {
	p, _, err := ipcbomb.WriteFile(t.TempDir(), "bomb.arrow", false, 2)
	if err != nil {
		t.Fatal(err)
	}
	schema, recs, got := exported(t, p)
	defer releaseAll(recs)
	if got.Damage() == "" {
		t.Fatalf("no damage; want the damage reported with the (empty) intact part")
	}
	_, msg := damageOf(t, got.Damage())
	if !strings.Contains(msg, p) ||
		!strings.Contains(msg, "batch 0: ") || !strings.Contains(msg, "declare more than 1073741824 bytes uncompressed, the limit for one batch") ||
		!strings.Contains(msg, "may be damaged") || !strings.Contains(msg, "debug_arrow_compression=lz4 or none") {
		t.Fatalf("damage %s", msg)
	}
	if len(recs) != 0 || schema.NumFields() == 0 {
		t.Fatalf("intact part: want no batch and the file's schema, got %d batches, %v", len(recs), schema)
	}
}

package pybind

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/debuglock"
)

// readIPC decodes a DebugFile's IPC: its schema and the ids of column 0.
func readIPC(t *testing.T, b []byte) (*arrow.Schema, []int64) {
	t.Helper()
	r, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var ids []int64
	for r.Next() {
		ids = append(ids, r.RecordBatch().Column(0).(*array.Int64).Int64Values()...)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return r.Schema(), ids
}

// readIDsNames decodes a DebugFile's IPC of {id int64, name string}: the
// ids and names of its rows, in order.
func readIDsNames(t *testing.T, b []byte) ([]int64, []string) {
	t.Helper()
	r, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var ids []int64
	var names []string
	for r.Next() {
		rec := r.RecordBatch()
		ids = append(ids, rec.Column(rec.Schema().FieldIndices("id")[0]).(*array.Int64).Int64Values()...)
		nc := rec.Column(rec.Schema().FieldIndices("name")[0]).(*array.String)
		for i := 0; i < nc.Len(); i++ {
			names = append(names, nc.Value(i))
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return ids, names
}

// damageOf decodes a DebugFile's Damage (JSON): its kind and message.
func damageOf(t *testing.T, damage string) (kind, message string) {
	t.Helper()
	var d struct{ Kind, Message string }
	if err := json.Unmarshal([]byte(damage), &d); err != nil {
		t.Fatalf("damage %q: %v", damage, err)
	}
	return d.Kind, d.Message
}

// twoBatchStream is an IPC stream of two batches of {id}: 1,2 then 3,4.
func twoBatchStream(t *testing.T) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	for _, v := range [][]int64{{1, 2}, {3, 4}} {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		b.AppendValues(v, nil)
		a := b.NewArray()
		rec := array.NewRecordBatch(schema, []arrow.Array{a}, int64(len(v)))
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		a.Release()
		b.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// An active Arrow debug file just created (no schema yet) is no error: it
// is still being written, with no columns and no rows.
func TestReadDebugFileEmptyActiveArrow(t *testing.T) {
	p := filepath.Join(t.TempDir(), "main.default.t.arrow")
	debuglock.Hold(t, p) // its writer is still writing it
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDebugFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !got.StillWriting || !strings.Contains(got.Tail, "still being written") || got.Damage != "" {
		t.Fatalf("got still_writing %v tail %q damage %q, want still being written", got.StillWriting, got.Tail, got.Damage)
	}
	schema, ids := readIPC(t, got.IPC)
	if schema.NumFields() != 0 || len(ids) != 0 {
		t.Fatalf("got schema %v ids %v, want no columns and no rows", schema, ids)
	}
}

// A rotated file holding a schema and no batch is complete: no rows, its
// schema kept (s23; it was an error "holds no record batch"); a file of no
// byte holds no rows and no columns: TestReadDebugFileZeroByteArrow.
func TestReadDebugFileEmptyRotatedArrow(t *testing.T) {
	p := filepath.Join(t.TempDir(), "main.default.t-20261206T170000.000Z-0000.arrow")
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadDebugFile(p)
	if err != nil {
		t.Fatal(err)
	}
	schema, ids := readIPC(t, got.IPC)
	if schema.NumFields() != 1 || schema.Field(0).Name != "id" || len(ids) != 0 || got.StillWriting || got.Damage != "" || got.Tail != "complete" {
		t.Fatalf("got schema %v ids %v %+v; want the file's schema (id), no rows, complete", schema, ids, got)
	}
}

// An active file that ends inside its second batch returns the first and
// says it is still being written; the whole file says "complete".
func TestReadDebugFileActiveArrowTail(t *testing.T) {
	whole := twoBatchStream(t)
	p := filepath.Join(t.TempDir(), "main.default.t.arrow")
	debuglock.Hold(t, p)                                                    // its writer is still writing it
	if err := os.WriteFile(p, whole[:len(whole)-8-20], 0o600); err != nil { // no end marker, 20 bytes into batch 1
		t.Fatal(err)
	}
	got, err := ReadDebugFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ids := readIPC(t, got.IPC); len(ids) != 2 || ids[0] != 1 || ids[1] != 2 {
		t.Fatalf("ids %v, want [1 2]", ids)
	}
	if !got.StillWriting || !strings.Contains(got.Tail, "still being written: it ends inside a message at byte offset") {
		t.Fatalf("still_writing %v tail %q", got.StillWriting, got.Tail)
	}
	if err := os.WriteFile(p, whole, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = ReadDebugFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ids := readIPC(t, got.IPC); len(ids) != 4 || got.StillWriting || got.Tail != "complete" {
		t.Fatalf("ids %v still_writing %v tail %q, want 4 rows, complete", ids, got.StillWriting, got.Tail)
	}
}

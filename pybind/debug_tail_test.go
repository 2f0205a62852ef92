//go:build cgo

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

// idsOf is the ids (column 0, int64) of recs' rows, in order.
func idsOf(recs []arrow.RecordBatch) []int64 {
	var ids []int64
	for _, rec := range recs {
		ids = append(ids, rec.Column(0).(*array.Int64).Int64Values()...)
	}
	return ids
}

// idsNamesOf is the ids and names of recs' rows ({id int64, name
// string}), in order.
func idsNamesOf(recs []arrow.RecordBatch) ([]int64, []string) {
	var ids []int64
	var names []string
	for _, rec := range recs {
		ids = append(ids, rec.Column(rec.Schema().FieldIndices("id")[0]).(*array.Int64).Int64Values()...)
		nc := rec.Column(rec.Schema().FieldIndices("name")[0]).(*array.String)
		for i := 0; i < nc.Len(); i++ {
			names = append(names, nc.Value(i))
		}
	}
	return ids, names
}

// damageOf decodes a DebugReader's Damage (JSON): its kind and message.
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
func TestExportDebugFileEmptyActiveArrow(t *testing.T) {
	p := filepath.Join(t.TempDir(), "main.default.t.arrow")
	debuglock.Hold(t, p) // its writer is still writing it
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	schema, recs, got := exported(t, p)
	defer releaseAll(recs)
	if !got.StillWriting() || !strings.Contains(got.Tail(), "still being written") || got.Damage() != "" {
		t.Fatalf("got still_writing %v tail %q damage %q, want still being written", got.StillWriting(), got.Tail(), got.Damage())
	}
	if schema.NumFields() != 0 || len(recs) != 0 {
		t.Fatalf("got schema %v, %d batches, want no columns and no batch", schema, len(recs))
	}
}

// A rotated file holding a schema and no batch is complete: no rows, its
// schema kept (s23; it was an error "holds no record batch"); a file of no
// byte holds no rows and no columns: TestExportDebugFileZeroByteArrow.
func TestExportDebugFileEmptyRotatedArrow(t *testing.T) {
	p := filepath.Join(t.TempDir(), "main.default.t-20261206T170000.000Z-0000.arrow")
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	schema, recs, got := exported(t, p)
	defer releaseAll(recs)
	if schema.NumFields() != 1 || schema.Field(0).Name != "id" || len(recs) != 0 || got.StillWriting() || got.Damage() != "" || got.Tail() != "complete" {
		t.Fatalf("got schema %v, %d batches, still_writing %v damage %q tail %q; want the file's schema (id), no batch, complete",
			schema, len(recs), got.StillWriting(), got.Damage(), got.Tail())
	}
}

// An active file that ends inside its second batch returns the first and
// says it is still being written; the whole file says "complete".
func TestExportDebugFileActiveArrowTail(t *testing.T) {
	whole := twoBatchStream(t)
	p := filepath.Join(t.TempDir(), "main.default.t.arrow")
	debuglock.Hold(t, p)                                                    // its writer is still writing it
	if err := os.WriteFile(p, whole[:len(whole)-8-20], 0o600); err != nil { // no end marker, 20 bytes into batch 1
		t.Fatal(err)
	}
	_, recs, got := exported(t, p)
	defer releaseAll(recs)
	if ids := idsOf(recs); len(ids) != 2 || ids[0] != 1 || ids[1] != 2 {
		t.Fatalf("ids %v, want [1 2]", ids)
	}
	if !got.StillWriting() || !strings.Contains(got.Tail(), "still being written: it ends inside a message at byte offset") || got.Damage() != "" {
		t.Fatalf("still_writing %v tail %q damage %q", got.StillWriting(), got.Tail(), got.Damage())
	}
	if err := os.WriteFile(p, whole, 0o600); err != nil {
		t.Fatal(err)
	}
	_, recs, got = exported(t, p)
	defer releaseAll(recs)
	if ids := idsOf(recs); len(ids) != 4 || got.StillWriting() || got.Tail() != "complete" {
		t.Fatalf("ids %v still_writing %v tail %q, want 4 rows, complete", ids, got.StillWriting(), got.Tail())
	}
}

//go:build cgo

package pybind

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// sendProtoDebug sends n rows {id, name} through a Wrapper (writer
// disabled) writing protobuf debug files into a temp dir, and returns the
// protobuf file and the names sent.
func sendProtoDebug(t *testing.T, n int) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	w, err := core.New(context.Background(), core.Config{TableName: "main.default.t", WriterDisabled: true,
		DebugProtobufEnabled: true, DebugOutputDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("näme-%d-%s", i, strings.Repeat("z", i%9))
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(names[i])
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if _, err := w.SendBatch(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "zerobus", "proto", "main.default.t.proto")
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p, names
}

// A protobuf debug file cut short inside a record (a crash, a full disk)
// crosses to Python as a damaged Arrow file does: the complete records
// before the damage, and the error naming the record and its offset.
func TestExportDebugFileProtoCutShort(t *testing.T) {
	const n = 40
	p, names := sendProtoDebug(t, n)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data[:len(data)-3], 0o600); err != nil { // 3 bytes into the last record's end
		t.Fatal(err)
	}
	_, recs, got := exported(t, p)
	defer releaseAll(recs)
	ids, gotNames := idsNamesOf(recs)
	if len(ids) != n-1 {
		t.Fatalf("intact rows: %d, want %d", len(ids), n-1)
	}
	for i := range ids {
		if ids[i] != int64(i) || gotNames[i] != names[i] {
			t.Errorf("row %d = (%d, %q), want (%d, %q)", i, ids[i], gotNames[i], i, names[i])
		}
	}
	_, msg := damageOf(t, got.Damage())
	if !strings.Contains(msg, p) || !strings.Contains(msg, fmt.Sprintf("record %d at byte offset ", n-1)) || !strings.Contains(msg, "truncated") {
		t.Fatalf("damage %q; want a message naming %s, record %d and its offset", msg, p, n-1)
	}
	if got.StillWriting() {
		t.Errorf("a closed file reads as still being written")
	}
}

// A 0-byte Arrow debug file (a crash right after a rotation; also under a
// rotated name, after a restart) holds no rows: no columns, no rows, no
// error, complete.
func TestExportDebugFileZeroByteArrow(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"main.default.t.arrow", "main.default.t-20261206T170000.000Z-0000.arrow"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		schema, recs, got := exported(t, p)
		releaseAll(recs)
		if got.StillWriting() || got.Damage() != "" || got.Tail() != "complete" {
			t.Errorf("%s: still_writing %v tail %q damage %q; want complete", name, got.StillWriting(), got.Tail(), got.Damage())
		}
		if schema.NumFields() != 0 || len(recs) != 0 {
			t.Errorf("%s: schema %v, %d batches; want no columns and no batch", name, schema, len(recs))
		}
	}
}

package cli

import (
	"bytes"
	"context"
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

// schemaOnlyStream is an Arrow IPC stream of schema and no batch: the
// schema message, then the end-of-stream marker when closed.
func schemaOnlyStream(t *testing.T, schema *arrow.Schema, closed bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if !bytes.HasSuffix(b, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}) {
		t.Fatalf("arrow-go's stream of no batch does not end with the end-of-stream marker: % x", b[len(b)-8:])
	}
	if !closed {
		b = b[:len(b)-8]
	}
	return b
}

// readSchemaOnlyOut reads -format arrow's output: its schema and its rows.
func readSchemaOnlyOut(t *testing.T, out string) (*arrow.Schema, int64) {
	t.Helper()
	r, err := ipc.NewReader(strings.NewReader(out))
	if err != nil {
		t.Fatalf("-format arrow wrote no readable stream: %v", err)
	}
	defer r.Release()
	var rows int64
	for r.Next() {
		rows += r.RecordBatch().NumRows()
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return r.Schema(), rows
}

// s23 dbgread 2: -format arrow of an Arrow debug file holding its schema
// and no batch failed with "the file holds no schema to write" (and table
// printed nothing). It writes the schema alone (a stream of no batch), and
// table prints the header; a file with no schema says why there is no
// stream to write.
func TestS23DebugReadSchemaNoBatches(t *testing.T) {
	dir := t.TempDir()
	w, _ := s23Wrapper(t, "main.default.schemaonly", dir)
	defer w.Close(context.Background())
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "note", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range 500 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append("a row of the first batch")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if _, err := w.SendBatch(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	active := filepath.Join(dir, "zerobus", "arrow", "main.default.schemaonly.arrow")
	written, err := os.ReadFile(active)
	if err != nil {
		t.Fatal(err)
	}
	schemaLen := len(schemaOnlyStream(t, schema, false))
	if len(written) <= schemaLen+100 || !bytes.Equal(written[:schemaLen], schemaOnlyStream(t, schema, false)) {
		t.Fatalf("the wrapper's file (%d bytes) does not start with the schema message (%d bytes)", len(written), schemaLen)
	}
	// The wrapper (its writer holding the file's lock) as it is while the
	// disk takes its first batch: the file ends 100 bytes into it.
	if err := os.WriteFile(active, written[:schemaLen+100], 0o600); err != nil {
		t.Fatal(err)
	}
	// A rotated file closed before its first batch, with and without
	// its end-of-stream marker.
	rotated := filepath.Join(dir, "zerobus", "arrow", "main.default.schemaonly-20261207T000000.000Z-0001.arrow")
	if err := os.WriteFile(rotated, schemaOnlyStream(t, schema, true), 0o600); err != nil {
		t.Fatal(err)
	}
	rotatedCut := filepath.Join(dir, "zerobus", "arrow", "main.default.schemaonly-20261207T000000.000Z-0002.arrow")
	if err := os.WriteFile(rotatedCut, schemaOnlyStream(t, schema, false), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{active, rotated, rotatedCut} {
		name := filepath.Base(p)
		out, err := runDebugCmd(t, "read", "-format", "arrow", p)
		if err != nil {
			t.Fatalf("%s: -format arrow: %v", name, err)
		}
		got, rows := readSchemaOnlyOut(t, out)
		if !got.Equal(schema) || rows != 0 {
			t.Errorf("%s: -format arrow wrote %v with %d rows, want %v and no row", name, got, rows, schema)
		}
		out, err = runDebugCmd(t, "read", "-format", "table", p)
		if err != nil || strings.Join(strings.Fields(out), " ") != "id note" {
			t.Errorf("%s: -format table: %q, %v; want the header alone", name, out, err)
		}
		out, err = runDebugCmd(t, "read", p)
		if err != nil || out != "" {
			t.Errorf("%s: json: %q, %v; want no line", name, out, err)
		}
	}

	// No schema: an active file just created, a file of no byte left by a
	// crash after a rotation.
	fresh := filepath.Join(t.TempDir(), "main.default.fresh.arrow")
	debuglock.Hold(t, fresh) // its writer is writing it
	if err := os.WriteFile(fresh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = runDebugCmd(t, "read", "-format", "arrow", fresh)
	if err == nil || !strings.Contains(err.Error(), fresh+" has no schema yet (its writer has not written one): there is no Arrow stream to write yet") {
		t.Errorf("fresh active file: %v", err)
	}
	zero := filepath.Join(t.TempDir(), "main.default.t-20261207T000000.000Z-0003.arrow")
	if err := os.WriteFile(zero, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = runDebugCmd(t, "read", "-format", "arrow", zero)
	if err == nil || !strings.Contains(err.Error(), zero+" is a file of no byte") {
		t.Errorf("file of no byte: %v", err)
	}
}

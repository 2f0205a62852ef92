//go:build rustbench

// Helpers of the side-by-side benchmark against the original Rust encoder
// (bench/rust-encoder, `make bench-rust-encoder`). Built only with
// `-tags rustbench`, so `make test` never runs them: they read and write the
// directory named by ZEROBUS_RUST_BENCH_DIR.

package convert

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

func rustBenchDir(t *testing.T) string {
	dir := os.Getenv("ZEROBUS_RUST_BENCH_DIR")
	if dir == "" {
		t.Fatal("ZEROBUS_RUST_BENCH_DIR is not set (run `make bench-rust-encoder`)")
	}
	return dir
}

// TestRustBenchWriteInput writes the benchmark's reference batch (benchRows
// rows, the batch BenchmarkEncode encodes) to reference.arrow, an Arrow IPC
// file, for the Rust side to read.
func TestRustBenchWriteInput(t *testing.T) {
	dir := rustBenchDir(t)
	rec := ReferenceBatch(memory.DefaultAllocator, benchRows)
	defer rec.Release()
	f, err := os.Create(filepath.Join(dir, "reference.arrow"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := ipc.NewFileWriter(f, ipc.WithSchema(rec.Schema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRustBenchCompare checks the records the Rust side wrote to
// rust_records.bin (row index u32 LE, length u32 LE, bytes; one per row)
// against this package's encoding of the same rows: every row must be
// present and decode (with this package's message descriptor) to a message
// equal to ours. It reports how many are also byte-identical.
func TestRustBenchCompare(t *testing.T) {
	dir := rustBenchDir(t)
	data, err := os.ReadFile(filepath.Join(dir, "rust_records.bin"))
	if err != nil {
		t.Fatal(err)
	}
	rec := ReferenceBatch(memory.DefaultAllocator, benchRows)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Encode(rec)
	if err != nil || len(b.Errors) != 0 {
		t.Fatalf("Encode: %v %v", err, b.Errors)
	}
	defer b.Release()
	md := p.MessageDescriptor()
	n, identical := 0, 0
	for off := 0; off < len(data); n++ {
		if len(data)-off < 8 {
			t.Fatalf("rust_records.bin: truncated header at byte %d", off)
		}
		row := int(binary.LittleEndian.Uint32(data[off:]))
		size := int(binary.LittleEndian.Uint32(data[off+4:]))
		off += 8
		if len(data)-off < size {
			t.Fatalf("rust_records.bin: record of row %d truncated", row)
		}
		rust := data[off : off+size]
		off += size
		if row != n || n >= len(b.Records) || b.Rows[n] != row {
			t.Fatalf("rust_records.bin: record %d is row %d; want every row of %d in order", n, row, benchRows)
		}
		ours := b.Records[n]
		if bytes.Equal(rust, ours) {
			identical++
			continue
		}
		gotRust, gotOurs := dynamicpb.NewMessage(md), dynamicpb.NewMessage(md)
		if err := proto.Unmarshal(rust, gotRust); err != nil {
			t.Fatalf("row %d: the Rust record does not decode: %v", row, err)
		}
		if err := proto.Unmarshal(ours, gotOurs); err != nil {
			t.Fatalf("row %d: our record does not decode: %v", row, err)
		}
		if !proto.Equal(gotRust, gotOurs) {
			t.Fatalf("row %d differs:\nrust: %s\nours: %s", row, prototext.Format(gotRust), prototext.Format(gotOurs))
		}
	}
	if n != len(b.Records) {
		t.Fatalf("rust_records.bin has %d records, want %d", n, len(b.Records))
	}
	fmt.Printf("check: %d of %d rows decode to equal messages (all 12 columns); %d byte-identical\n", n, benchRows, identical)
}

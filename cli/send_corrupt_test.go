package cli

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// writeSnappyParquet writes ids 0..rows-1 (int64 "id", string "name") to path
// as snappy-compressed Parquet with row groups of rowGroup rows.
func writeSnappyParquet(t *testing.T, path string, rows, rowGroup int) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String},
	}, nil)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pqarrow.NewFileWriter(schema, f,
		parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(int64(rowGroup)),
			parquet.WithDictionaryDefault(false), parquet.WithCompression(compress.Codecs.Snappy)),
		pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := 0; i < rows; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(strings.Repeat("payload ", 8) + string(rune('a'+i%26)))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := w.WriteBuffered(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// corruptColumnChunk overwrites the second half of the compressed bytes of
// column col in row group rg (the page data after its header) with 0xff.
func corruptColumnChunk(t *testing.T, path string, rg, col int) {
	t.Helper()
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := pf.MetaData().RowGroup(rg).ColumnChunk(col)
	if err != nil {
		t.Fatal(err)
	}
	start, size := cc.DataPageOffset(), cc.TotalCompressedSize()
	pf.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := start + size/2; i < start+size; i++ {
		data[i] = 0xff
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSendCorruptParquet: a Parquet file whose compressed page is corrupt
// (snappy panics inside the reader) ends the command with an error naming the
// file and row group, the rows of the good row groups before it are sent and
// counted in the summary, and nothing panics.
func TestSendCorruptParquet(t *testing.T) {
	s := startServer(t)
	path := filepath.Join(t.TempDir(), "corrupt.parquet")
	writeSnappyParquet(t, path, 300, 100)
	corruptColumnChunk(t, path, 1, 1)
	const table = "main.default.corrupt_parquet"
	r := sendCLI(t, append(connFlags(s, table), "-batch-rows", "50", path)...)
	if r.err == nil {
		t.Fatalf("no error for a corrupt file; stdout:\n%s", r.stdout)
	}
	for _, want := range []string{"corrupt.parquet", "row group 1", "rows 100..199"} {
		if !strings.Contains(r.err.Error(), want) {
			t.Errorf("error %q lacks %q", r.err, want)
		}
	}
	t.Logf("error: %v\nsummary:\n%s", r.err, r.stdout)
	if got := s.RecordCount(table); got != 100 {
		t.Errorf("server holds %d rows, want the 100 of row group 0", got)
	}
	if !strings.Contains(r.stdout, "rows sent:    100 of 300 (200 not read)") {
		t.Errorf("summary does not account the rows sent before the corrupt row group:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "stopped early: reading "+path+" failed after 100 rows") {
		t.Errorf("summary does not say reading stopped:\n%s", r.stdout)
	}
}

// TestReadCorruptInputsNeverPanic flips random bytes anywhere in a Parquet
// file, and truncates Parquet and Arrow IPC files at every 64th byte, and
// reads them the way `zerobus send` does: every outcome is the rows or an
// error naming the file, never a panic, and nothing leaks. (Random flips in
// Arrow IPC metadata: TestCorruptIPCMetadata.)
func TestReadCorruptInputsNeverPanic(t *testing.T) {
	dir := t.TempDir()
	pq := filepath.Join(dir, "clean.parquet")
	writeSnappyParquet(t, pq, 300, 100)
	rec := mixedBatch(memory.DefaultAllocator, 0, 40)
	defer rec.Release()
	ipcFile, ipcStream := filepath.Join(dir, "clean.arrow"), filepath.Join(dir, "clean.arrows")
	writeArrow(t, ipcFile, false, mixedSchema, []arrow.RecordBatch{rec, rec})
	writeArrow(t, ipcStream, true, mixedSchema, []arrow.RecordBatch{rec, rec})
	read := func(t *testing.T, name string, data []byte) bool {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		err := readWholeInput(path)
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name the file", err)
		}
		return err != nil
	}
	clean, err := os.ReadFile(pq)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for seed := range 300 {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		data := append([]byte(nil), clean...)
		for range 1 + seed%8 {
			data[4+rng.IntN(len(data)-8)] = byte(rng.Uint32())
		}
		if read(t, fmt.Sprintf("flip-%d.parquet", seed), data) {
			failed++
		}
	}
	if failed < 30 {
		t.Errorf("only %d of 300 corrupted Parquet files failed to read: the corruption does not reach the decoders", failed)
	}
	for _, src := range []string{pq, ipcFile, ipcStream} {
		clean, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n < len(clean); n += 64 {
			if !read(t, fmt.Sprintf("cut-%d%s", n, filepath.Ext(src)), clean[:n]) && !strings.HasSuffix(src, ".arrows") {
				t.Errorf("%s cut to %d of %d bytes read without an error", filepath.Base(src), n, len(clean))
			}
		}
	}
}

// readWholeInput probes, opens and reads path as `zerobus send` does.
func readWholeInput(path string) (err error) {
	if _, _, err := probeInput(context.Background(), context.Background(), path, inputOptions{format: formatAuto, batchRows: 1024, csvInferRows: 10, mem: memory.DefaultAllocator}, nil); err != nil {
		return err
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	in, err := openInput(context.Background(), path, inputOptions{format: formatAuto, batchRows: 32, csvInferRows: 10, mem: mem})
	if err != nil {
		return err
	}
	defer in.Close()
	for in.reader.Next() {
	}
	if err := in.reader.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

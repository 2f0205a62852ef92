package debugfile

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

var compressibleSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "status", Type: arrow.BinaryTypes.String},
	{Name: "code", Type: arrow.PrimitiveTypes.Int32},
}, nil)

// makeCompressible returns n highly repetitive rows: ids cycling through
// 0..9, two alternating status strings and a constant code.
func makeCompressible(mem memory.Allocator, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, compressibleSchema)
	defer b.Release()
	ids := b.Field(0).(*array.Int64Builder)
	status := b.Field(1).(*array.StringBuilder)
	codes := b.Field(2).(*array.Int32Builder)
	for i := 0; i < n; i++ {
		ids.Append(int64(i % 10))
		status.Append([...]string{"status-ok-accepted", "status-retry-pending"}[i%2])
		codes.Append(200)
	}
	return b.NewRecordBatch()
}

// writeArrowOnly writes batches to a fresh Arrow-only debug writer under
// dir with codec, closes it and returns the active file's path.
func writeArrowOnly(t *testing.T, dir string, codec Compression, mem memory.Allocator, batches []arrow.RecordBatch) string {
	t.Helper()
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, ArrowCompression: codec}, WithAllocator(mem))
	for _, rec := range batches {
		w.WriteArrow(rec)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	path, _ := w.Paths()
	return path
}

// readWithArrowGo reads path with plain arrow-go ipc.NewReader (no project
// code) and returns retained batches the caller releases.
func readWithArrowGo(t *testing.T, path string, mem memory.Allocator) []arrow.RecordBatch {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewReader(f, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatalf("ipc.NewReader(%s): %v", filepath.Base(path), err)
	}
	defer r.Release()
	var recs []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("ipc.Reader(%s): %v", filepath.Base(path), err)
	}
	return recs
}

// compressibleBatches makes n batches of makeCompressible and a func that
// releases them (defer it after mem's size check).
func compressibleBatches(mem memory.Allocator, n, rows int) ([]arrow.RecordBatch, func()) {
	var recs []arrow.RecordBatch
	for range n {
		recs = append(recs, makeCompressible(mem, rows))
	}
	return recs, func() {
		for _, rec := range recs {
			rec.Release()
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func TestArrowCompression(t *testing.T) {
	const batches, rows = 3, 10_000
	for _, codec := range []Compression{CompressionZstd, CompressionLZ4} {
		t.Run(string(codec), func(t *testing.T) {
			checkGoroutines(t)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			sent, release := compressibleBatches(mem, batches, rows)
			defer release()

			plain := writeArrowOnly(t, t.TempDir(), CompressionNone, mem, sent)
			packed := writeArrowOnly(t, t.TempDir(), codec, mem, sent)

			plainSize, packedSize := fileSize(t, plain), fileSize(t, packed)
			ratio := float64(packedSize) / float64(plainSize)
			t.Logf("%s: %d bytes compressed vs %d uncompressed, ratio %.4f", codec, packedSize, plainSize, ratio)
			if ratio >= 0.5 {
				t.Errorf("%s file is %d bytes, uncompressed %d: ratio %.3f, want < 0.5", codec, packedSize, plainSize, ratio)
			}

			readers := []struct {
				name string
				read func(path string) []arrow.RecordBatch
			}{
				{"ReadArrowFile", func(path string) []arrow.RecordBatch {
					recs, err := ReadArrowFile(path, mem)
					if err != nil {
						t.Fatalf("ReadArrowFile: %v", err)
					}
					return recs
				}},
				{"ipc.NewReader", func(path string) []arrow.RecordBatch { return readWithArrowGo(t, path, mem) }},
			}
			for _, rd := range readers {
				got := rd.read(packed)
				if len(got) != len(sent) {
					t.Errorf("%s: read %d batches, want %d", rd.name, len(got), len(sent))
				}
				for i := range min(len(got), len(sent)) {
					if !array.RecordEqual(got[i], sent[i]) {
						t.Errorf("%s: batch %d differs from the batch written", rd.name, i)
					}
				}
				for _, rec := range got {
					rec.Release()
				}
			}
		})
	}
}

func TestArrowCompressionRotationBySize(t *testing.T) {
	checkGoroutines(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const batches, rows = 20, 1000
	const maxSize = 8 << 10 // several compressed batches; less than one uncompressed batch
	sent, release := compressibleBatches(mem, batches, rows)
	defer release()

	// run writes sent with codec and returns the Arrow files, oldest first.
	run := func(codec Compression) []string {
		dir := t.TempDir()
		w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, ArrowCompression: codec, MaxFileSize: maxSize, MaxFilesRetained: -1}, WithAllocator(mem))
		for _, rec := range sent {
			w.WriteArrow(rec)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		rotated, active := dataFiles(t, filepath.Join(dir, "zerobus", "arrow"), "main.default.events", ".arrow")
		if len(rotated) < 2 {
			t.Fatalf("%q: got %d rotated files, want several at %d bytes each", codec, len(rotated), maxSize)
		}
		return withActive(rotated, active)
	}
	var plainBytes int64
	for _, f := range run(CompressionNone) {
		plainBytes += fileSize(t, f)
	}
	plainPerRow := float64(plainBytes) / float64(batches*rows)

	files := run(CompressionZstd)
	var got []arrow.RecordBatch
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(raw, eos) {
			t.Errorf("%s does not end with the IPC end-of-stream marker", filepath.Base(f))
		}
		recs, err := ReadArrowFile(f, mem)
		if err != nil {
			t.Fatalf("ReadArrowFile(%s): %v", filepath.Base(f), err)
		}
		n := int64(0)
		for _, rec := range recs {
			n += rec.NumRows()
		}
		// Every file, not only the first, must be compressed.
		if perRow := float64(len(raw)) / float64(n); n == 0 || perRow >= plainPerRow/2 {
			t.Errorf("%s: %d bytes for %d rows (%.2f bytes/row), want under half of uncompressed %.2f bytes/row",
				filepath.Base(f), len(raw), n, perRow, plainPerRow)
		}
		got = append(got, recs...)
	}
	if len(got) != len(sent) {
		t.Errorf("read %d batches across %d files, want %d", len(got), len(files), len(sent))
	}
	for i := range min(len(got), len(sent)) {
		if !array.RecordEqual(got[i], sent[i]) {
			t.Errorf("batch %d differs from the batch written", i)
		}
	}
	for _, rec := range got {
		rec.Release()
	}
}

func TestParseCompression(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Compression
		wantErr bool
	}{
		{"", CompressionNone, false},
		{"none", CompressionNone, false},
		{"NONE", CompressionNone, false},
		{"zstd", CompressionZstd, false},
		{"ZSTD", CompressionZstd, false},
		{" lz4 ", CompressionLZ4, false},
		{"gzip", CompressionNone, true},
		{"snappy", CompressionNone, true},
	} {
		t.Run(fmt.Sprintf("%q", tc.in), func(t *testing.T) {
			got, err := ParseCompression(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("ParseCompression(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), `"zstd"`) {
				t.Errorf("error %q does not list the allowed values", err)
			}
		})
	}
	if err := (Config{OutputDir: t.TempDir(), Arrow: true, ArrowCompression: "gzip"}).validate(); err == nil || !strings.Contains(err.Error(), "ArrowCompression") {
		t.Errorf("validate with ArrowCompression gzip = %v, want an error naming ArrowCompression", err)
	}
}

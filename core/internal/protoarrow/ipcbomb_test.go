package protoarrow

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/ipcbomb"
)

// heapDuring returns the bytes allocated on the Go heap while f ran.
func heapDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A 130 KiB file whose zstd buffer really decompresses to 2 GiB of zeros
// is refused before anything is decompressed or allocated (a stream, the
// same stream read by a reader that keeps every batch, and a file), naming
// the record batch, the limit and what to do; without the bound arrow-go
// allocates the 2 GiB (the verifier only checked that the data holds what
// its length declares). Real compressed files pass.
func TestIPCDecodedLimit(t *testing.T) {
	if got := DecodedLimit(1000); got != MinDecodedLimit {
		t.Errorf("DecodedLimit(1000) = %d", got)
	}
	if got := DecodedLimit(10 << 30); got != DecodedLimitFactor*(10<<30) {
		t.Errorf("DecodedLimit(10 GiB) = %d", got)
	}
	if got := DecodedLimit(1 << 62); got != maxDecodedLimit {
		t.Errorf("DecodedLimit(2^62) = %d", got)
	}
	if got := BatchDecodedLimit(1000); got != MinDecodedLimit {
		t.Errorf("BatchDecodedLimit(1000) = %d", got)
	}
	if got := BatchDecodedLimit(10 << 30); got != BatchDecodedFactor*(10<<30) {
		t.Errorf("BatchDecodedLimit(10 GiB) = %d", got)
	}
	if got := BatchDecodedLimit(1 << 62); got != maxDecodedLimit {
		t.Errorf("BatchDecodedLimit(2^62) = %d", got)
	}
	for _, c := range []struct {
		name string
		file bool
		read func([]byte) ([]int64, error)
		want string
	}{
		{"stream", false, readVerifiedStream, "record batch 0 (message 1)"},
		{"held stream", false, func(d []byte) ([]int64, error) {
			return readIDs(NewIPCHeldStreamVerifier(bytes.NewReader(d), int64(len(d))))
		}, "record batch 0 (message 1)"},
		{"file", true, func(d []byte) ([]int64, error) {
			return nil, VerifyIPCFile(bytes.NewReader(d), int64(len(d)))
		}, "record batch 0"},
	} {
		data, err := ipcbomb.Make(c.file, 2)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		heap := heapDuring(func() { ids, err = c.read(data) })
		var se *IPCDecodedSizeError
		if !errors.As(err, &se) || se.Limit != MinDecodedLimit || !se.Batch || se.BodySize <= 0 || se.BodySize > int64(len(data)) ||
			!strings.Contains(err.Error(), c.want+": its compressed buffers declare more than 1073741824 bytes uncompressed, the limit for one batch") ||
			!strings.Contains(err.Error(), "may be damaged or crafted") ||
			!strings.Contains(err.Error(), "debug_arrow_compression=lz4 or none") || len(ids) != 0 {
			t.Errorf("%s: %d ids, %v; want an IPCDecodedSizeError naming %q", c.name, len(ids), err, c.want)
		}
		if heap > 16<<20 {
			t.Errorf("%s: %d bytes allocated refusing a %d-byte file", c.name, heap, len(data))
		}
	}
	// Real compressed files pass.
	for _, c := range []struct {
		name string
		opt  ipc.Option
	}{{"zstd", ipc.WithZstd()}, {"lz4", ipc.WithLZ4()}} {
		stream, file := ipcSeedBatches(t, c.opt, ipc.WithMinSpaceSavings(0))
		if ids, err := readVerifiedStream(stream); err != nil || len(ids) != 4 || ids[2] != 10 {
			t.Errorf("%s stream: %v, %v", c.name, ids, err)
		}
		if err := VerifyIPCFile(bytes.NewReader(file), int64(len(file))); err != nil {
			t.Errorf("%s file: %v", c.name, err)
		}
	}
}

// A reader that keeps every batch bounds them in all: the batches read
// before the bound is reached come back, and the error names the batch
// that reaches it. A reader that frees each batch bounds each alone: the
// same stream reads whole.
func TestIPCDecodedLimitAcrossBatches(t *testing.T) {
	stream, _ := ipcSeedBatches(t, ipc.WithZstd(), ipc.WithMinSpaceSavings(0))
	held := func(limit int64) ([]int64, error) {
		v := NewIPCHeldStreamVerifier(bytes.NewReader(stream), int64(len(stream))).(*ipcStreamVerifier)
		v.limit, v.budget = limit, limit
		return readIDs(v)
	}
	// Find what the two batches decompress to: the smallest limit that
	// reads both.
	full := int64(0)
	for ; full < 1<<20; full++ {
		if _, err := held(full); err == nil {
			break
		}
	}
	if full == 0 || full >= 1<<20 {
		t.Fatalf("limit %d", full)
	}
	ids, err := held(full - 1)
	var se *IPCDecodedSizeError
	if !errors.As(err, &se) || se.Limit != full-1 || se.Batch || !strings.Contains(err.Error(), "record batch 1 (message 2)") ||
		!strings.Contains(err.Error(), "the compressed batches up to this one decompress to more than") ||
		!strings.Contains(err.Error(), "split it") || len(ids) != 2 {
		t.Errorf("limit %d: ids %v, %v", full-1, ids, err)
	}
	if ids, err := readVerifiedStream(stream); err != nil || len(ids) != 4 {
		t.Errorf("not held: ids %v, %v", ids, err)
	}
}

// sparseStream is a genuine arrow-go zstd stream of 70 batches of 2^20
// rows, a constant column beside a 0.1 %-filled one: 1.1 GiB of buffers
// in about 530 KB (2218:1). The batch is compressed once and its message
// repeated, as the writer would write it 70 times.
func sparseStream(t *testing.T) []byte {
	schema := arrow.NewSchema([]arrow.Field{{Name: "status", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "opt", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
	const rows = 1 << 20
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range rows {
		b.Field(0).(*array.Int64Builder).Append(200)
		if i%1000 == 0 {
			b.Field(1).(*array.Float64Builder).Append(float64(i) * 1.5)
		} else {
			b.Field(1).(*array.Float64Builder).AppendNull()
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	write := func(n int) []byte {
		var out bytes.Buffer
		w := ipc.NewWriter(&out, ipc.WithSchema(schema), ipc.WithZstd())
		for range n {
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return out.Bytes()
	}
	empty, one := write(0), write(1)
	head, eos := empty[:len(empty)-8], empty[len(empty)-8:]
	batch := one[len(head) : len(one)-8]
	return append(append(head, bytes.Repeat(batch, 70)...), eos...)
}

// Genuine data compresses far beyond 256:1 (constant and mostly null
// columns): such a stream of 1.1 GiB in 530 KB passes whole, through the
// verifier of a reader that frees each batch and through the one of a
// reader that keeps them (it was refused at batch 63 of 70 as "damaged or
// crafted" when the bound was 256 × the file's size for the whole
// stream); arrow-go reads its batches back.
func TestIPCDecodedLimitGenuineSparseData(t *testing.T) {
	data := sparseStream(t)
	for _, held := range []bool{false, true} {
		in := NewIPCStreamVerifier(bytes.NewReader(data), int64(len(data)))
		if held {
			in = NewIPCHeldStreamVerifier(bytes.NewReader(data), int64(len(data)))
		}
		if n, err := io.Copy(io.Discard, in); err != nil || n != int64(len(data)) {
			t.Errorf("held %v: %d of %d bytes passed, %v", held, n, len(data), err)
		}
	}
	r, err := ipc.NewReader(NewIPCStreamVerifier(bytes.NewReader(data), int64(len(data))))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	for k := 0; k < 2 && r.Next(); k++ {
		rec := r.RecordBatch()
		if rec.NumRows() != 1<<20 || rec.Column(0).(*array.Int64).Value(5) != 200 || rec.Column(1).NullN() != 1<<20-1049 ||
			rec.Column(1).(*array.Float64).Value(1000) != 1500 {
			t.Fatalf("batch %d: %d rows, %d nulls", k, rec.NumRows(), rec.Column(1).NullN())
		}
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
}

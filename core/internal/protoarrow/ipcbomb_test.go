package protoarrow

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"

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
// is refused before anything is decompressed or allocated (a stream and a
// file), naming the record batch and the limit; without the bound arrow-go
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
	for _, file := range []bool{false, true} {
		data, err := ipcbomb.Make(file, 2)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		heap := heapDuring(func() {
			if file {
				err = VerifyIPCFile(bytes.NewReader(data), int64(len(data)))
			} else {
				ids, err = readVerifiedStream(data)
			}
		})
		var se *IPCDecodedSizeError
		want := "record batch 0"
		if !file {
			want = "record batch 0 (message 1)"
		}
		if !errors.As(err, &se) || se.Limit != MinDecodedLimit || se.FileSize != int64(len(data)) ||
			!strings.Contains(err.Error(), want+": the compressed batches up to this one decompress to more than 1073741824 bytes") ||
			!strings.Contains(err.Error(), "without compression, or with lz4") || len(ids) != 0 {
			t.Errorf("file %v: %d ids, %v; want an IPCDecodedSizeError naming %q", file, len(ids), err, want)
		}
		if heap > 16<<20 {
			t.Errorf("file %v: %d bytes allocated refusing a %d-byte file", file, heap, len(data))
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

// The limit is the file's, not each batch's: the batches read before it is
// reached come back, and the error names the batch that reaches it.
func TestIPCDecodedLimitAcrossBatches(t *testing.T) {
	stream, _ := ipcSeedBatches(t, ipc.WithZstd(), ipc.WithMinSpaceSavings(0))
	one := func(limit int64) ([]int64, error) {
		v := NewIPCStreamVerifier(bytes.NewReader(stream), int64(len(stream))).(*ipcStreamVerifier)
		v.limit, v.budget = limit, limit
		return readIDs(v)
	}
	// Find what the two batches decompress to: the smallest limit that
	// reads both.
	full := int64(0)
	for ; full < 1<<20; full++ {
		if _, err := one(full); err == nil {
			break
		}
	}
	if full == 0 || full >= 1<<20 {
		t.Fatalf("limit %d", full)
	}
	ids, err := one(full - 1)
	var se *IPCDecodedSizeError
	if !errors.As(err, &se) || se.Limit != full-1 || !strings.Contains(err.Error(), "record batch 1 (message 2)") || len(ids) != 2 {
		t.Errorf("limit %d: ids %v, %v", full-1, ids, err)
	}
}

package debugfile

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/ipcbomb"
)

// boundedAllocator refuses (panics, as a failed allocation does) and
// records any allocation larger than limit.
type boundedAllocator struct {
	memory.Allocator
	limit int
	over  atomic.Int64 // the largest refused size
}

func (a *boundedAllocator) Allocate(n int) []byte {
	if n > a.limit {
		a.over.Store(int64(n))
		panic("boundedAllocator: allocation too large")
	}
	return a.Allocator.Allocate(n)
}

func (a *boundedAllocator) Reallocate(n int, b []byte) []byte {
	if n > a.limit {
		a.over.Store(int64(n))
		panic("boundedAllocator: allocation too large")
	}
	return a.Allocator.Reallocate(n, b)
}

// FuzzReadArrowFile: any bytes as an Arrow debug file are read without a
// panic and without an allocation larger than the file could need (a few
// times its size); a failure names the file; a file read without error
// leaves nothing allocated once its batches are released.
func FuzzReadArrowFile(f *testing.F) {
	for _, codec := range []Compression{CompressionNone, CompressionZstd, CompressionLZ4} {
		data, err := os.ReadFile(writeArrowDebugFile(f, codec))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// A zstd buffer that really decompresses to 2 GiB, in 130 KiB: refused
	// before it is decompressed (protoarrow.BatchDecodedLimit).
	bomb, err := ipcbomb.Make(false, 2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(bomb)
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "fuzz.arrow")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
		mem := &boundedAllocator{Allocator: checked, limit: 4*len(data) + 1<<16}
		recs, err := ReadArrowFile(path, mem)
		for _, r := range recs {
			r.Release()
		}
		if n := mem.over.Load(); n != 0 {
			t.Fatalf("a %d-byte file asked for a %d-byte allocation (%v)", len(data), n, err)
		}
		if err != nil && !strings.Contains(err.Error(), path) {
			t.Fatalf("error %v does not name the file", err)
		}
		if err == nil {
			// arrow-go leaves what it allocated for a batch it fails to
			// load (a panic it recovers from) to the garbage collector.
			checked.AssertSize(t, 0)
		}
	})
}

// Every byte of a real debug file (uncompressed, zstd, lz4) flipped in
// turn: no panic, no allocation beyond the bound, an error names the file,
// and every batch that lies wholly before the flipped byte is read intact.
func TestReadArrowFileEveryByteFlipped(t *testing.T) {
	for _, codec := range []Compression{CompressionNone, CompressionZstd, CompressionLZ4} {
		t.Run(string(codec), func(t *testing.T) {
			good, err := os.ReadFile(writeArrowDebugFile(t, codec))
			if err != nil {
				t.Fatal(err)
			}
			msgs := arrowMessages(t, good)
			path := filepath.Join(t.TempDir(), "flipped.arrow")
			for i := range good {
				d := bytes.Clone(good)
				d[i] ^= 0xFF
				if err := os.WriteFile(path, d, 0o600); err != nil {
					t.Fatal(err)
				}
				mem := &boundedAllocator{Allocator: memory.NewGoAllocator(), limit: 4*len(d) + 1<<16}
				recs, err := ReadArrowFile(path, mem)
				whole := 0 // batches wholly before byte i
				for _, m := range msgs[1:] {
					if m[3] <= i {
						whole++
					}
				}
				if n := mem.over.Load(); n != 0 {
					t.Errorf("byte %d: a %d-byte allocation", i, n)
				}
				if err != nil && !strings.Contains(err.Error(), path) {
					t.Errorf("byte %d: %v does not name the file", i, err)
				}
				if len(recs) < whole {
					t.Errorf("byte %d: %d batches read, %d lie before it (%v)", i, len(recs), whole, err)
				}
				for k, rec := range recs {
					if k < whole && !slices.Equal(rec.Column(0).(*array.Int64).Int64Values(), seq(4*k, 4)) {
						t.Errorf("byte %d: batch %d ids = %v", i, k, rec.Column(0).(*array.Int64).Int64Values())
					}
					rec.Release()
				}
			}
		})
	}
}

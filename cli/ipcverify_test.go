package cli

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/ipcbomb"
)

// A record batch whose metadata declares a body longer than the bytes the
// file holds for it is refused before arrow-go reads it, the error naming
// the file, the message and what is wrong, in an IPC file and stream.
func TestIPCBodyLengthPastTheFile(t *testing.T) {
	rec := mixedBatch(memory.DefaultAllocator, 0, 10)
	defer rec.Release()
	for _, c := range []struct {
		ext, what string
		stream    bool
	}{{".arrow", "record batch 0: a body of", false}, {".arrows", "message 1: a body of", true}} {
		path := filepath.Join(t.TempDir(), "long-body"+c.ext)
		writeArrow(t, path, c.stream, mixedSchema, []arrow.RecordBatch{rec})
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rs := ipcMetadataRanges(t, data, !c.stream)
		meta := data[rs[len(rs)-1][0]:rs[len(rs)-1][1]] // the batch's message
		root := int(binary.LittleEndian.Uint32(meta))
		vt := root - int(int32(binary.LittleEndian.Uint32(meta[root:])))
		off := int(binary.LittleEndian.Uint16(meta[vt+4+2*3:])) // Message.bodyLength
		binary.LittleEndian.PutUint64(meta[root+off:], 1<<40)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		err = readWholeInput(path)
		if !errors.Is(err, core.ErrIPCMetadata) || !strings.Contains(err.Error(), path) ||
			!strings.Contains(err.Error(), "corrupt Arrow IPC metadata: "+c.what+" 1099511627776 bytes") {
			t.Errorf("%s: %v", c.ext, err)
		}
	}
}

// `zerobus send` of a small compressed .arrow file (IPC file or stream)
// whose zstd buffer really decompresses to 2 GiB of zeros is refused before
// anything is decompressed or allocated, naming the file, the batch and
// what to do; the same rows compressed honestly are sent.
func TestSendDecompressionBomb(t *testing.T) {
	for _, c := range []struct {
		ext, what string
		file      bool
	}{{".arrow", "record batch 0:", true}, {".arrows", "record batch 0 (message 1):", false}} {
		path, size, err := ipcbomb.WriteFile(t.TempDir(), "bomb"+c.ext, c.file, 2)
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := sendCLI(t, "-dry-run", "-table", "main.default.bomb", path)
		runtime.ReadMemStats(&after)
		if r.err == nil || !strings.Contains(r.err.Error(), path) ||
			!strings.Contains(r.err.Error(), c.what+" its compressed buffers declare more than 1073741824 bytes uncompressed, the limit for one batch (the larger of 1073741824 bytes and 256 × its ") ||
			!strings.Contains(r.err.Error(), "may be damaged or crafted") || !strings.Contains(r.err.Error(), "debug_arrow_compression=lz4 or none") {
			t.Errorf("%s: %v\n%s", c.ext, r.err, r.stdout)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
			t.Errorf("%s: refusing a %d-byte file allocated %d bytes", c.ext, size, n)
		}
	}
	rec := mixedBatch(memory.DefaultAllocator, 0, 10)
	defer rec.Release()
	for _, stream := range []bool{false, true} {
		for _, opt := range []ipc.Option{ipc.WithZstd(), ipc.WithLZ4()} {
			path := filepath.Join(t.TempDir(), "ok.arrow")
			writeArrow(t, path, stream, mixedSchema, []arrow.RecordBatch{rec}, opt)
			if r := sendCLI(t, "-dry-run", "-table", "main.default.ok", path); r.err != nil || !strings.Contains(r.stdout, "converted:    10 of 10") {
				t.Errorf("stream %v: %v\n%s", stream, r.err, r.stdout)
			}
		}
	}
}

package cli

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
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

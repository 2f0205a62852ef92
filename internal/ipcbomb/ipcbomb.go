// Package ipcbomb builds, for tests, a small Arrow IPC file or stream whose
// one zstd-compressed buffer honestly decompresses to far more bytes than
// the file holds (a frame of RLE blocks of zeros): the input a reader must
// refuse before it allocates the declared length. Every package that reads
// Arrow IPC files tests with the same crafted bytes.
package ipcbomb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Rows is the number of rows of the bomb's batch (one int64 column "id",
// random values, so that its compressed buffer is as large as the raw one).
const Rows = 1 << 14

const blockSize = 128 << 10 // a zstd block regenerates at most 128 KiB

// Make returns the bytes of an Arrow IPC file (file true) or stream of one
// zstd-compressed batch whose values buffer declares, and really
// decompresses to, gib GiB of zeros (1 <= gib <= 3), in about 130 KiB.
func Make(file bool, gib int) ([]byte, error) {
	if gib < 1 || gib > 3 {
		return nil, fmt.Errorf("ipcbomb: %d GiB: want 1 to 3", gib)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	r := rand.New(rand.NewPCG(1, 2))
	for range Rows {
		b.Append(r.Int64())
	}
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, Rows)
	defer rec.Release()
	var out bytes.Buffer
	var err error
	if file {
		var w *ipc.FileWriter
		if w, err = ipc.NewFileWriter(&out, ipc.WithSchema(schema), ipc.WithZstd()); err == nil {
			if err = w.Write(rec); err == nil {
				err = w.Close()
			}
		}
	} else {
		w := ipc.NewWriter(&out, ipc.WithSchema(schema), ipc.WithZstd())
		if err = w.Write(rec); err == nil {
			err = w.Close()
		}
	}
	if err != nil {
		return nil, err
	}
	data := out.Bytes()
	// The values buffer: its uncompressed length (8 bytes), then a zstd frame.
	prefix := binary.LittleEndian.AppendUint64(nil, Rows*8)
	prefix = append(prefix, 0x28, 0xB5, 0x2F, 0xFD)
	at := bytes.Index(data, prefix)
	if at < 0 || bytes.Index(data[at+1:], prefix) >= 0 {
		return nil, fmt.Errorf("ipcbomb: the compressed values buffer is not found once")
	}
	frame := data[at+8:]
	n, err := frameLen(frame)
	if err != nil {
		return nil, err
	}
	blocks := gib << 30 / blockSize
	bomb := []byte{0x28, 0xB5, 0x2F, 0xFD, 0x00, 7 << 3} // no content size, a 128 KiB window
	for k := range blocks {
		h := uint32(blockSize)<<3 | 1<<1 // RLE block
		if k == blocks-1 {
			h |= 1
		}
		bomb = append(bomb, byte(h), byte(h>>8), byte(h>>16), 0x00)
	}
	pad := n - len(bomb) - 8
	if pad < 0 {
		return nil, fmt.Errorf("ipcbomb: %d GiB take %d bytes, the buffer holds %d", gib, len(bomb)+8, n)
	}
	// A skippable frame fills the rest of the buffer.
	bomb = binary.LittleEndian.AppendUint32(bomb, 0x184D2A50)
	bomb = binary.LittleEndian.AppendUint32(bomb, uint32(pad))
	bomb = append(bomb, make([]byte, pad)...)
	binary.LittleEndian.PutUint64(data[at:], uint64(blocks)*blockSize)
	copy(frame, bomb)
	return data, nil
}

// WriteFile writes Make(file, gib) to dir/name and returns its path and
// size.
func WriteFile(dir, name string, file bool, gib int) (string, int, error) {
	data, err := Make(file, gib)
	if err != nil {
		return "", 0, err
	}
	p := filepath.Join(dir, name)
	return p, len(data), os.WriteFile(p, data, 0o600)
}

// frameLen walks the blocks of the zstd frame at the start of b.
func frameLen(b []byte) (int, error) {
	if len(b) < 6 {
		return 0, fmt.Errorf("ipcbomb: short zstd frame")
	}
	fhd := b[4]
	pos := 5
	single := fhd>>5&1 == 1
	if !single {
		pos++ // window descriptor
	}
	pos += []int{0, 1, 2, 4}[fhd&3]
	fcs := []int{0, 2, 4, 8}[fhd>>6]
	if fhd>>6 == 0 && single {
		fcs = 1
	}
	pos += fcs
	for {
		if pos+3 > len(b) {
			return 0, fmt.Errorf("ipcbomb: zstd frame cut")
		}
		h := int(b[pos]) | int(b[pos+1])<<8 | int(b[pos+2])<<16
		pos += 3
		size := h >> 3
		if h>>1&3 == 1 { // RLE: one byte
			size = 1
		}
		pos += size
		if h&1 == 1 {
			break
		}
	}
	if fhd>>2&1 == 1 {
		pos += 4 // content checksum
	}
	if pos > len(b) {
		return 0, fmt.Errorf("ipcbomb: zstd frame cut")
	}
	return pos, nil
}

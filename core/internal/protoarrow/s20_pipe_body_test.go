package protoarrow

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// A stream of unknown size (a pipe: `zerobus send -` passes MaxInt64) whose
// compressed batch declares a body far past its real bytes was read into
// one allocation of the declared length: 1<<50 bytes ended the process
// ("out of memory"), not the read. The body is now read as it arrives, so
// the lie is an error naming the batch once the stream ends, and memory
// follows the bytes that exist. (s20 clipipes leftover.)
func TestS20PipeCompressedBodyLengthLie(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  ipc.Option
	}{{"zstd", ipc.WithZstd()}, {"lz4", ipc.WithLZ4()}} {
		stream, _ := ipcSeedBatches(t, c.opt, ipc.WithMinSpaceSavings(0))
		msgs := streamMessages(stream)
		if len(msgs) != 3 {
			t.Fatalf("%d messages, want the schema and 2 batches", len(msgs))
		}
		for _, lie := range []uint64{1 << 50, 1 << 62} {
			bad := bytes.Clone(stream)
			setBodyLength(bad[msgs[2][0]:msgs[2][1]], lie)
			ids, err := readIDs(NewIPCStreamVerifier(bytes.NewReader(bad), math.MaxInt64))
			if err == nil || !strings.Contains(err.Error(), "message 2: the stream ends") || len(ids) != 2 {
				t.Errorf("%s, body %d on a pipe: ids %v, %v; want the first batch and an error naming message 2", c.name, lie, ids, err)
			}
		}
		// A metadata length of almost 4 GiB on a pipe: an error naming the
		// message, not a 4 GiB allocation.
		bad := bytes.Clone(stream)
		binary.LittleEndian.PutUint32(bad[msgs[1][0]-4:], 0xFFFFFFF0)
		if ids, err := readIDs(NewIPCStreamVerifier(bytes.NewReader(bad), math.MaxInt64)); err == nil ||
			!strings.Contains(err.Error(), "message 1: the stream ends") || len(ids) != 0 {
			t.Errorf("%s, metadata of 4 GiB on a pipe: ids %v, %v", c.name, ids, err)
		}
		// The stream itself still reads whole on a pipe.
		if ids, err := readIDs(NewIPCStreamVerifier(bytes.NewReader(stream), math.MaxInt64)); err != nil || len(ids) != 4 {
			t.Errorf("%s good stream on a pipe: %v, %v", c.name, ids, err)
		}
	}
}

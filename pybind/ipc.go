package pybind

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// gather copies the memory segments listed in segments into one Go byte
// slice: the single copy of Arrow data from Python to Go. segments is
// "addr:size[,addr:size...]", each a block of Python memory valid during
// the call (Python passes the encapsulated IPC messages of the schema and
// of each batch, so it never concatenates them itself).
func gather(segments string) ([]byte, error) {
	var views [][]byte
	total := 0
	for _, seg := range strings.Split(segments, ",") {
		if seg == "" {
			continue
		}
		a, sz, ok := strings.Cut(seg, ":")
		addr, err1 := strconv.ParseInt(a, 10, 64)
		size, err2 := strconv.ParseInt(sz, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, errorOf(core.KindUnknown, "zerobus: bad memory segment %q (want addr:size)", seg)
		}
		v, err := pyMemory(addr, size)
		if err != nil {
			return nil, err
		}
		views = append(views, v)
		total += len(v)
	}
	own := make([]byte, 0, total)
	for _, v := range views {
		own = append(own, v...)
	}
	return own, nil
}

// readSegments gathers segments (the one copy out of Python memory) and
// decodes the Arrow IPC stream they hold; the caller releases the batches.
func readSegments(segments string) ([]arrow.RecordBatch, error) {
	data, err := gather(segments)
	if err != nil {
		return nil, err
	}
	return readIPC(data)
}

// readIPC decodes every record batch of the Arrow IPC stream in data (Go
// memory) in place: the batches' buffers are slices of data, which the GC
// keeps alive as long as any batch refers to it. The caller releases the
// batches.
func readIPC(data []byte) ([]arrow.RecordBatch, error) {
	r, err := ipc.NewReaderFromMessageReader(&bytesMessageReader{data: data}, ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, errorOf(core.KindConversion, "zerobus: the data is not an Arrow IPC stream: %v", err)
	}
	defer r.Release()
	var recs []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil && !errors.Is(err, io.EOF) {
		releaseAll(recs)
		return nil, errorOf(core.KindConversion, "zerobus: reading the Arrow IPC stream: %v", err)
	}
	if len(recs) == 0 {
		// A stream with a schema and no batch is an empty batch of that schema.
		recs = append(recs, emptyBatch(r.Schema()))
	}
	return recs, nil
}

// continuation marks the start of an encapsulated IPC message.
const continuation = 0xFFFFFFFF

// bytesMessageReader is an ipc.MessageReader over an IPC stream held in
// memory: message metadata and bodies are slices of data, not copies.
type bytesMessageReader struct {
	data []byte
	off  int
	msg  *ipc.Message
	refs atomic.Int64
}

func (r *bytesMessageReader) take(n int64, what string) ([]byte, error) {
	if n < 0 || n > int64(len(r.data)-r.off) {
		return nil, fmt.Errorf("truncated Arrow IPC stream: %s of %d bytes at offset %d, %d bytes left", what, n, r.off, len(r.data)-r.off)
	}
	b := r.data[r.off : r.off+int(n) : r.off+int(n)]
	r.off += int(n)
	return b, nil
}

// Message returns the next message; io.EOF at the end-of-stream marker or
// the end of data. The previous message is released, as ipc's own reader
// does.
func (r *bytesMessageReader) Message() (*ipc.Message, error) {
	if r.msg != nil {
		r.msg.Release()
		r.msg = nil
	}
	if len(r.data)-r.off < 4 {
		return nil, io.EOF
	}
	word, _ := r.take(4, "message prefix")
	n := int64(binary.LittleEndian.Uint32(word))
	if n == continuation {
		if len(r.data)-r.off < 4 {
			return nil, io.EOF
		}
		word, _ = r.take(4, "message length")
		n = int64(int32(binary.LittleEndian.Uint32(word)))
	}
	if n == 0 {
		return nil, io.EOF // end-of-stream marker
	}
	meta, err := r.take(n, "message metadata")
	if err != nil {
		return nil, err
	}
	bodyLen := ipc.NewMessage(memory.NewBufferBytes(meta), memory.NewBufferBytes(nil)).BodyLen()
	body, err := r.take(bodyLen, "message body")
	if err != nil {
		return nil, err
	}
	r.msg = ipc.NewMessage(memory.NewBufferBytes(meta), memory.NewBufferBytes(body))
	return r.msg, nil
}

// Retain and Release implement ipc.MessageReader.
func (r *bytesMessageReader) Retain() { r.refs.Add(1) }

// Release releases the current message when the last reference goes.
func (r *bytesMessageReader) Release() {
	if r.refs.Add(-1) < 0 && r.msg != nil {
		r.msg.Release()
		r.msg = nil
	}
}

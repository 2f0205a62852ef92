package pybind

import (
	"bytes"
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

// views parses segments, "addr:size[,addr:size...]", into byte slices over
// the Python memory they describe, without copying. Each segment is valid
// only during the call that received it (Python passes the encapsulated IPC
// messages of the schema and of each batch, so it never concatenates them
// itself).
func views(segments string) ([][]byte, error) {
	var out [][]byte
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
		if len(v) > 0 {
			out = append(out, v)
		}
	}
	return out, nil
}

// gather copies the memory segments into one Go byte slice: the copy a
// call needs when Go keeps the data after returning to Python.
func gather(segments string) ([]byte, error) {
	vs, err := views(segments)
	if err != nil {
		return nil, err
	}
	return bytes.Join(vs, nil), nil
}

// readSegments decodes the Arrow IPC stream held in segments; the caller
// releases the batches.
//
// With borrow false the data is first copied into Go memory (gather), so
// the batches may outlive the call. With borrow true the batches are read
// in place from Python memory, saving a copy of the whole batch: the caller
// must release them, and nothing may keep a reference to their buffers,
// before returning to Python. core.Wrapper.SendBatch keeps none once it
// returns (conversion and debug writes are synchronous; cached schemas hold
// copied strings), except the debug file's IPC writer, which keeps the last
// dictionaries it wrote: a schema with a dictionary column is therefore
// always copied. A stream whose messages straddle segments is copied too.
func readSegments(segments string, borrow bool) ([]arrow.RecordBatch, error) {
	if borrow {
		vs, err := views(segments)
		if err != nil {
			return nil, err
		}
		recs, err := readIPC(vs...)
		switch {
		case errors.Is(err, errStraddle):
		case err != nil:
			return nil, err
		case len(recs) > 0 && hasDictionary(recs[0].Schema()):
			releaseAll(recs)
		default:
			return recs, nil
		}
	}
	data, err := gather(segments)
	if err != nil {
		return nil, err
	}
	return readIPC(data)
}

// hasDictionary reports whether any field of schema, at any depth, is
// dictionary-encoded.
func hasDictionary(schema *arrow.Schema) bool {
	var dict func(arrow.DataType) bool
	dict = func(dt arrow.DataType) bool {
		switch t := dt.(type) {
		case *arrow.DictionaryType:
			return true
		case arrow.NestedType:
			for _, f := range t.Fields() {
				if dict(f.Type) {
					return true
				}
			}
		case arrow.ExtensionType:
			return dict(t.StorageType())
		}
		return false
	}
	for _, f := range schema.Fields() {
		if dict(f.Type) {
			return true
		}
	}
	return false
}

// readIPC decodes every record batch of the Arrow IPC stream held in segs
// (consecutive pieces, each a whole number of messages) in place: the
// batches' buffers are slices of segs. For Go memory the GC keeps it alive
// as long as any batch refers to it. The caller releases the batches.
func readIPC(segs ...[]byte) ([]arrow.RecordBatch, error) {
	r, err := ipc.NewReaderFromMessageReader(&bytesMessageReader{segs: segs}, ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		if errors.Is(err, errStraddle) {
			return nil, err
		}
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
		if errors.Is(err, errStraddle) {
			return nil, err
		}
		return nil, errorOf(core.KindConversion, "zerobus: reading the Arrow IPC stream: %v", err)
	}
	if len(recs) == 0 {
		// A stream with a schema and no batch is an empty batch of that schema.
		recs = append(recs, emptyBatch(r.Schema()))
	}
	return recs, nil
}

// errStraddle reports a message that does not end where its segment ends.
var errStraddle = errors.New("an Arrow IPC message straddles two memory segments")

// continuation marks the start of an encapsulated IPC message.
const continuation = 0xFFFFFFFF

// bytesMessageReader is an ipc.MessageReader over an IPC stream held in
// memory as consecutive segments: message metadata and bodies are slices of
// the segments, not copies.
type bytesMessageReader struct {
	segs [][]byte // the segments after data
	data []byte   // the current segment
	off  int
	msg  *ipc.Message
	refs atomic.Int64
}

func (r *bytesMessageReader) take(n int64, what string) ([]byte, error) {
	if n < 0 || n > int64(len(r.data)-r.off) {
		if len(r.segs) > 0 {
			return nil, errStraddle
		}
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
	for r.off == len(r.data) && len(r.segs) > 0 {
		r.data, r.segs, r.off = r.segs[0], r.segs[1:], 0
	}
	if len(r.data)-r.off < 4 {
		if len(r.data) > r.off && len(r.segs) > 0 {
			return nil, errStraddle
		}
		return nil, io.EOF
	}
	word, _ := r.take(4, "message prefix")
	n := int64(binary.LittleEndian.Uint32(word))
	if n == continuation {
		word, err := r.take(4, "message length")
		if err != nil {
			if errors.Is(err, errStraddle) {
				return nil, err
			}
			return nil, io.EOF
		}
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

package core

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/debugfile"
)

// DebugFileReader reads a debug file's batches one at a time: an
// array.RecordReader (to hand to an Arrow C stream, say) whose batches end
// before any damage, which Damage then reports. Both kinds are read
// batch by batch (the batches already read are not held: a file larger than
// memory can be read through): an Arrow debug file's batches as written, a
// protobuf debug file's records decoded with its descriptor (as
// ReadDebugProtoFileArrowTail decodes them) into batches of at most 65536
// records as they are read. Open it with OpenDebugFile. Read it from one
// goroutine at a time, as any array.RecordReader: Next releases the batch
// RecordBatch returned before. Damage, Tail, Retain and Release may be
// called from any goroutine.
type DebugFileReader struct {
	refs atomic.Int64

	mu     sync.Mutex
	stream debugStream // an Arrow or a protobuf file's
	schema *arrow.Schema
	cur    arrow.RecordBatch
	damage error
	tail   DebugTail
	done   bool
	closed bool
}

// debugStream is the stream a DebugFileReader reads: a
// debugfile.ArrowStream or a debugfile.ProtoStream.
type debugStream interface {
	Next() bool
	RecordBatch() arrow.RecordBatch
	Err() error
	Tail() debugfile.Tail
	Close()
}

// debugReaders counts the DebugFileReaders opened and not yet released
// (DebugReadersOpen).
var debugReaders atomic.Int64

// DebugReadersOpen is the number of DebugFileReaders opened and not yet
// released (their last Release), for leak checks.
func DebugReadersOpen() int64 { return debugReaders.Load() }

// debugReadBytes counts the bytes the DebugFileReaders' allocations hold
// (DebugReadBytes).
var debugReadBytes atomic.Int64

// DebugReadBytes is the number of bytes allocated for the batches of
// DebugFileReaders and not yet freed (every batch released), for leak
// checks: batches handed out (exported to Python, say) hold theirs until
// released.
func DebugReadBytes() int64 { return debugReadBytes.Load() }

// countingAllocator is an allocator that counts what it holds in
// debugReadBytes.
type countingAllocator struct{ mem memory.Allocator }

func (a countingAllocator) Allocate(size int) []byte {
	b := a.mem.Allocate(size)
	debugReadBytes.Add(int64(len(b)))
	return b
}

func (a countingAllocator) Reallocate(size int, b []byte) []byte {
	old := len(b)
	b = a.mem.Reallocate(size, b)
	debugReadBytes.Add(int64(len(b) - old))
	return b
}

func (a countingAllocator) Free(b []byte) {
	debugReadBytes.Add(-int64(len(b)))
	a.mem.Free(b)
}

// OpenDebugFile opens a debug file written by a wrapper with debug output
// on, for reading its batches one at a time: an Arrow debug file (".arrow")
// as ReadDebugArrowFileTail reads it, a protobuf debug file (".proto", with
// its descriptor sidecar) as ReadDebugProtoFileArrowTail does; another file
// (a descriptor sidecar) is an error saying what to pass (DebugFileKind).
//
// Its Schema is the file's: an Arrow file holding its schema and no batch
// gives that schema and no batch; an active Arrow file with no schema yet
// (StillWriting) and an Arrow file of no byte an empty schema and no batch.
// Damage (or a file cut short) ends the batches: Next returns false after
// the intact batches before it and Damage returns the error the whole-file
// readers return with them (naming the file, batch, column and row; for a
// protobuf file the record and its byte offset); Err stays nil. A file
// that cannot be read at all (its schema unreadable, no descriptor) is
// OpenDebugFile's error, as is a protobuf file whose first 65536 records do
// not all decode with its descriptor (the whole-file reader's descriptor
// mismatch error); a record further on that does not decode ends the
// batches before its batch, Damage then being that error. The caller must Release the reader. A nil mem
// means memory.DefaultAllocator.
func OpenDebugFile(path string, mem memory.Allocator) (*DebugFileReader, error) {
	kind, err := DebugFileKind(path)
	if err != nil {
		return nil, err
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	mem = countingAllocator{mem}
	r := &DebugFileReader{}
	if kind == "proto" {
		s, err := debugfile.OpenProtoStream(path, mem)
		if err != nil {
			return nil, err
		}
		r.stream, r.schema = s, s.Schema()
	} else {
		s, err := debugfile.OpenArrowStream(path, mem)
		if err != nil {
			return nil, err
		}
		r.stream, r.schema, r.tail = s, s.Schema(), s.Tail()
		if r.schema == nil {
			if !r.tail.StillWriting && !emptyDebugFile(path) {
				s.Close()
				return nil, fmt.Errorf("debug file %q holds no record batch", path)
			}
			r.schema = arrow.NewSchema(nil, nil) // no schema yet, or no byte: no columns
		}
	}
	r.refs.Store(1)
	debugReaders.Add(1)
	return r, nil
}

// emptyDebugFile reports whether path is a file of no byte: a debug file a
// crash left right after a rotation, which holds no rows (not an error).
func emptyDebugFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() == 0
}

// Schema is the file's schema (see OpenDebugFile).
func (r *DebugFileReader) Schema() *arrow.Schema { return r.schema }

// Next reads the next intact batch; false at the end of the file, at damage
// (Damage) and once released.
func (r *DebugFileReader) Next() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done || r.closed {
		return false
	}
	if r.stream.Next() {
		r.cur = r.stream.RecordBatch()
		r.cur.Retain()
		return true
	}
	r.done = true
	r.damage, r.tail = r.stream.Err(), r.stream.Tail()
	r.stream.Close()
	return false
}

// RecordBatch is the batch Next read, until the next Next.
func (r *DebugFileReader) RecordBatch() arrow.RecordBatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// Record is RecordBatch.
//
// Deprecated: use RecordBatch (array.RecordReader still requires it).
func (r *DebugFileReader) Record() arrow.RecordBatch { return r.RecordBatch() }

// Err is nil: damage ends the batches without an error (Damage).
func (r *DebugFileReader) Err() error { return nil }

// Damage is the damage (or cut) that ended the batches, nil for a sound
// file, once Next returned false (an Arrow file's: DebugDamageSchema gives
// its schema). Its text is the whole-file readers'.
func (r *DebugFileReader) Damage() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.damage
}

// Tail says how the file ends (whether it is still being written),
// complete once Next returned false.
func (r *DebugFileReader) Tail() DebugTail {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tail
}

// Retain adds a reference.
func (r *DebugFileReader) Retain() { r.refs.Add(1) }

// Release drops a reference; the last closes the file and releases the
// batches the reader holds (not those handed out and retained). Damage and
// Tail keep their values.
func (r *DebugFileReader) Release() {
	if r.refs.Add(-1) != 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur != nil {
		r.cur.Release()
	}
	r.cur, r.closed = nil, true
	r.stream.Close()
	debugReaders.Add(-1)
}

package debugfile

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// ArrowStream reads an Arrow debug file one batch at a time, as
// ReadArrowFileTail reads it (the same snapshot of its size, the same
// checks of every message and batch, the same Tail and errors) without
// holding the batches already read: a file larger than memory can be read
// through. It is not safe for concurrent use.
type ArrowStream struct {
	path    string
	f       *os.File // nil once closed
	r       *ipc.Reader
	read    *countingReader // what r read of the stream
	end     int64           // the stream's end: the snapshot, or where the message being written starts
	v       *protoarrow.ArrowValidator
	schema  *arrow.Schema
	tail    Tail
	cur     arrow.RecordBatch
	batches int
	err     error
	done    bool
}

// OpenArrowStream opens the Arrow debug file at path and reads its schema.
// The errors are ReadArrowFileTail's for a file that cannot be read as an
// Arrow IPC stream (its schema unreadable). A file of no byte (not being
// written) and an active file with no schema yet open with no schema
// (Schema is nil) and no batch, the latter with Tail().StillWriting. The
// caller must Close the stream. A nil mem means memory.DefaultAllocator.
func OpenArrowStream(path string, mem memory.Allocator) (*ArrowStream, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &ArrowStream{path: path, f: f}
	size := st.Size() // the snapshot: bytes appended later are not read
	snap := io.NewSectionReader(f, 0, size)
	end, cut := arrowCut(snap, size)
	if cut && end == 0 && size == 0 && !beingWritten(path) {
		s.Close() // a file of no byte holds no batch
		return s, nil
	}
	if cut && (!beingWritten(path) || arrowMoreAfter(snap, end, size)) {
		cut = false // cut short or damaged: the reader below names it
	}
	if cut {
		s.tail = Tail{StillWriting: true, Offset: end, Bytes: size - end}
		if end == 0 {
			s.Close() // no schema yet
			return s, nil
		}
	} else {
		end = size
	}
	read := &countingReader{r: protoarrow.NewIPCHeldStreamVerifier(io.NewSectionReader(f, 0, end), end)}
	r, err := ipc.NewReader(read, ipc.WithAllocator(mem))
	if err != nil {
		f.Close()
		hint := ""
		if kind, _ := KindOf(path); kind == "proto" {
			hint = " (this is a protobuf debug file; use ReadProtoFile)"
		}
		return nil, fmt.Errorf("%q is not a readable Arrow IPC stream%s: %w", path, hint, err)
	}
	s.r, s.read, s.end, s.v, s.schema = r, read, end, protoarrow.NewArrowValidator(), r.Schema()
	return s, nil
}

// Schema is the file's schema; nil for a file of no byte and an active one
// with no schema yet.
func (s *ArrowStream) Schema() *arrow.Schema { return s.schema }

// Next reads and checks the next batch; false at the end of the file, at
// damage (Err) and once closed. The batch is RecordBatch's until the next
// call of Next or Close.
func (s *ArrowStream) Next() bool {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	if s.done || s.r == nil {
		s.done = true
		return false
	}
	if !s.r.Next() {
		if err := s.r.Err(); err != nil {
			s.fail(err, "")
		} else if err := s.TrailingData(); err != nil {
			s.fail(err, "")
		}
		s.done = true
		s.tail.Schema = s.schema
		if s.err != nil {
			s.tail = Tail{}
		}
		s.closeFile()
		return false
	}
	rec := s.r.RecordBatch()
	if err := s.v.Record(rec); errors.Is(err, protoarrow.ErrValidatorFailure) {
		s.fail(err, "")
	} else if err != nil {
		s.fail(err, fmt.Sprintf(" (the file is damaged from this batch on; the %d batches before it are intact)", s.batches))
	}
	if s.err != nil {
		s.done, s.tail = true, Tail{}
		s.closeFile()
		return false
	}
	rec.Retain()
	s.cur = rec
	s.batches++
	return true
}

// TrailingData is the error for a stream whose reader ended without an
// error before the end of the file: an end-of-stream marker (also 4 zero
// bytes, arrow-go's legacy one) where a message starts, with more bytes
// after it, which arrow-go reads as the end, dropping the rest without a
// word (zeros written over a message: a damaged disk block). nil while the
// reader has not ended, and when it ended at the end of the file. (arrow-go
// reads each message exactly, so what it read is where it stopped.)
func (s *ArrowStream) TrailingData() error {
	if s.read == nil || s.read.n >= s.end {
		return nil
	}
	return fmt.Errorf("an end-of-stream marker ends the stream %d bytes into the file, but %d more bytes follow it: the file is damaged there", s.read.n, s.end-s.read.n)
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// fail records the damage at the next batch, as ReadArrowFileTail names it.
func (s *ArrowStream) fail(err error, note string) {
	s.err = &BatchDamageError{Schema: s.schema, Batch: s.batches, err: fmt.Errorf("%q: batch %d: %w%s", s.path, s.batches, err, note)}
}

// RecordBatch is the batch Next read (nil before the first Next and after
// the last).
func (s *ArrowStream) RecordBatch() arrow.RecordBatch { return s.cur }

// Err is the damage (a *BatchDamageError, naming the file, batch and, for a
// damaged body, column and row) that ended the batches; nil for a sound
// file and while batches remain.
func (s *ArrowStream) Err() error { return s.err }

// Tail says how the file ends, once Next returned false (before, only
// StillWriting and its offsets are known: an active file ending inside a
// message). Its Schema is the file's (nil with an error).
func (s *ArrowStream) Tail() Tail { return s.tail }

// Batches is the number of intact batches read so far.
func (s *ArrowStream) Batches() int { return s.batches }

// Close releases the current batch and the reader and closes the file;
// Next then returns false. It may be called more than once.
func (s *ArrowStream) Close() {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	s.done = true
	s.closeFile()
}

func (s *ArrowStream) closeFile() {
	if s.r != nil {
		s.r.Release()
		s.r = nil
	}
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// ProtoChunkRecords is the most records ReadProtoFileArrowBatches decodes
// into one batch.
const ProtoChunkRecords = 1 << 16

// ReadProtoFileArrowBatches is ReadProtoFileArrowTail decoding the records
// into batches of at most ProtoChunkRecords records (one batch of no rows
// for none) rather than one: the same rows, errors and tail, read through a
// ProtoStream (the file is not held whole). The caller must Release every
// batch, also when err != nil (a *RecordDamageError: the complete records
// before the damage); on another error none is returned.
func ReadProtoFileArrowBatches(path string, mem memory.Allocator) ([]arrow.RecordBatch, Tail, error) {
	s, err := OpenProtoStream(path, mem)
	if err != nil {
		return nil, Tail{}, err
	}
	defer s.Close()
	var recs []arrow.RecordBatch
	for s.Next() {
		rec := s.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	var damage *RecordDamageError
	if err := s.Err(); err != nil && !errors.As(err, &damage) {
		for _, r := range recs {
			r.Release()
		}
		return nil, Tail{}, err
	}
	return recs, s.Tail(), s.Err()
}

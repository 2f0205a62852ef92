package debugfile

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// ProtoStream reads a protobuf debug file a batch of at most
// ProtoChunkRecords records at a time, as ReadProtoFileArrowTail reads it
// (the same snapshot of its size, the same framing, Tail, damage and
// descriptor rules, the same rows) without holding the file or the records
// of other batches: it reads the records with ProtoRecords and decodes
// each batch's records as they are read. A file larger than memory can be
// read through. It is not safe for concurrent use.
type ProtoStream struct {
	path    string
	r       *ProtoRecords // nil once closed
	records int           // the records read so far (in the batches)
	b       *protoarrow.Builder
	buf     []byte   // the bytes of the batch's records
	recs    [][]byte // the batch's records, in buf
	schema  *arrow.Schema
	first   arrow.RecordBatch // read by OpenProtoStream, handed out by the first Next
	cur     arrow.RecordBatch
	tail    Tail
	end     error // damage (*RecordDamageError) ending the records, once reached
	err     error // what ended the batches: end once the records before it were handed out, or a record that does not decode
	ended   bool  // the records are all read (end, tail or the snapshot's end reached)
	done    bool
}

// OpenProtoStream opens the protobuf debug file at path (its descriptor
// from the sidecar, SidecarPath) and decodes its first batch. Its errors
// are ReadProtoFileArrowTail's for a file that cannot be read (no or a bad
// descriptor, an Arrow stream) and for a record of the first batch that
// does not decode with the descriptor (a descriptor mismatch). The first
// Next gives the first batch, of no rows when the file holds no record
// (of no byte, damaged or cut inside its first record); Next gives no
// further batch of no rows. The caller must Close the stream. A nil mem
// means memory.DefaultAllocator.
func OpenProtoStream(path string, mem memory.Allocator) (*ProtoStream, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	r, err := OpenProtoRecords(path)
	if err != nil {
		return nil, err
	}
	s := &ProtoStream{path: path, r: r}
	if err := s.readRecords(); err != nil { // the framing's errors come first, as in ReadProtoFileTail
		s.Close()
		return nil, err
	}
	md, err := protoarrow.MessageDescriptor(r.Descriptor())
	if err == nil {
		s.b, err = protoarrow.NewBuilder(mem, md)
	}
	if err != nil {
		s.Close()
		return nil, descriptorMismatch(path, err)
	}
	rec, err := s.decode()
	if err != nil {
		s.Close()
		return nil, err
	}
	s.first, s.schema = rec, rec.Schema()
	return s, nil
}

// readRecords reads the next batch's records (none at the end), up to
// ProtoChunkRecords or the end of the records: the snapshot's end, damage
// (s.end) or an active file's record being written (s.tail). The error is
// one that ends the reading (an Arrow stream, an I/O error).
func (s *ProtoStream) readRecords() error {
	s.recs, s.buf = s.recs[:0], s.buf[:0]
	for !s.ended && len(s.recs) < ProtoChunkRecords {
		if !s.r.Next() {
			s.ended = true
			if err := s.r.Err(); isRecordDamage(err) {
				s.end = err
			} else if err != nil {
				return err
			}
			s.tail = s.r.Tail()
			break
		}
		rec := s.r.Record()
		n := len(rec)
		if cap(s.buf)-len(s.buf) < n {
			// a new buffer: the records already in the old one keep it
			s.buf = make([]byte, 0, max(2*cap(s.buf), n, 1<<16))
		}
		at := len(s.buf)
		s.buf = append(s.buf, rec...)
		s.recs = append(s.recs, s.buf[at:at+n:at+n])
	}
	return nil
}

// decode builds the batch of the records read; a record that does not
// decode is a descriptor mismatch naming its index in the file, as
// ReadProtoFileArrowTail's.
func (s *ProtoStream) decode() (arrow.RecordBatch, error) {
	for i, r := range s.recs {
		if err := s.b.AppendRecord(r); err != nil {
			s.b.NewRecordBatch().Release()
			return nil, descriptorMismatch(s.path, fmt.Errorf("protoarrow: record %d: %w", s.records+i, err))
		}
	}
	s.records += len(s.recs)
	s.recs = s.recs[:0]
	return s.b.NewRecordBatch(), nil
}

// Schema is the batches' schema, the descriptor's columns.
func (s *ProtoStream) Schema() *arrow.Schema { return s.schema }

// Next reads and decodes the next batch; false at the end of the records,
// at damage or a record that does not decode (Err), and once closed. The
// batch is RecordBatch's until the next call of Next or Close.
func (s *ProtoStream) Next() bool {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	if s.done {
		return false
	}
	if s.first != nil {
		s.cur, s.first = s.first, nil
		return true
	}
	var err error
	if !s.ended {
		err = s.readRecords()
	}
	if err == nil && len(s.recs) > 0 {
		s.cur, err = s.decode()
		if err == nil {
			return true
		}
	}
	if err == nil {
		err = s.end
	}
	if err != nil {
		s.err, s.tail = err, Tail{}
	}
	s.done = true
	s.closeFile()
	return false
}

// RecordBatch is the batch Next read (nil before the first Next and after
// the last).
func (s *ProtoStream) RecordBatch() arrow.RecordBatch { return s.cur }

// Err is what ended the batches, once Next returned false: the damage (a
// *RecordDamageError naming the file, the record and its byte offset, as
// ReadProtoFileTail's) after the records before it, or a record of a later
// batch that does not decode with the descriptor
// (ReadProtoFileArrowTail's error for it; the batches before it were
// given); nil for a sound file and while batches remain.
func (s *ProtoStream) Err() error { return s.err }

// Tail says how the file ends, once Next returned false (ReadProtoFileTail's).
func (s *ProtoStream) Tail() Tail { return s.tail }

// Records is the number of records in the batches read so far.
func (s *ProtoStream) Records() int { return s.records }

// Close releases the batches held and closes the file; Next then returns
// false. It may be called more than once.
func (s *ProtoStream) Close() {
	for _, b := range []arrow.RecordBatch{s.cur, s.first} {
		if b != nil {
			b.Release()
		}
	}
	s.cur, s.first = nil, nil
	s.done = true
	s.closeFile()
}

func (s *ProtoStream) closeFile() {
	if s.b != nil {
		s.b.Release()
		s.b = nil
	}
	if s.r != nil {
		s.r.Close()
		s.r = nil
	}
	s.buf, s.recs = nil, nil
}

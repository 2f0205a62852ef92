package debugfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// ProtoRecords reads the records of a protobuf debug file one at a time,
// still encoded, as ReadProtoFileTail reads them (the same snapshot of its
// size, the same framing, Tail and damage rules, the same records) without
// holding the file: it walks the records' length prefixes through a
// buffered reader. Rewind reads the same records again. It is not safe for
// concurrent use.
type ProtoRecords struct {
	path string
	desc *descriptorpb.DescriptorProto
	f    *os.File // nil once closed
	br   *bufio.Reader
	size int64 // the snapshot: bytes appended later are not read
	off  int64 // where the next record starts
	n    int   // the records read
	rec  []byte
	tail Tail
	err  error
	done bool
}

// OpenProtoRecords opens the protobuf debug file at path and reads its
// descriptor from the sidecar (SidecarPath); its errors are
// ReadProtoFileTail's for a descriptor missing or bad and a file that does
// not open. The caller must Close it.
func OpenProtoRecords(path string) (*ProtoRecords, error) {
	desc, err := readProtoDescriptor(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("reading %q: %w", path, err)
	}
	r := &ProtoRecords{path: path, desc: desc, f: f, size: st.Size()}
	r.br = bufio.NewReaderSize(io.NewSectionReader(f, 0, r.size), 1<<20)
	return r, nil
}

// Descriptor is the file's descriptor, from its sidecar.
func (r *ProtoRecords) Descriptor() *descriptorpb.DescriptorProto { return r.desc }

// Next reads the next record; false at the end of the records (the
// snapshot's end, damage or an active file's record being written: Err and
// Tail say which) and once closed.
func (r *ProtoRecords) Next() bool {
	if r.done || r.f == nil {
		return false
	}
	left := r.size - r.off
	if left == 0 {
		r.done = true
		return false
	}
	head, err := r.br.Peek(int(min(left, binary.MaxVarintLen64)))
	if err != nil {
		return r.fail(fmt.Errorf("reading %q: %w", r.path, err))
	}
	n, l, cut, ferr := frameRecord(head, left, r.n, r.off)
	if ferr != nil {
		var start []byte
		if r.n == 0 {
			start = head
		}
		off := r.off
		r.tail, r.err = recordsEnd(r.path, r.desc, ferr, r.n, off, cut, start, func() ([]byte, error) {
			rest := make([]byte, left)
			_, err := r.f.ReadAt(rest, off)
			return rest, err
		})
		r.done = true
		return false
	}
	if _, err := r.br.Discard(l); err != nil {
		return r.fail(fmt.Errorf("reading %q: %w", r.path, err))
	}
	r.rec = slices.Grow(r.rec[:0], int(n))[:n]
	if _, err := io.ReadFull(r.br, r.rec); err != nil {
		return r.fail(fmt.Errorf("reading %q: %w", r.path, err))
	}
	r.n++
	r.off += int64(l) + n
	return true
}

func (r *ProtoRecords) fail(err error) bool {
	r.err, r.done = err, true
	return false
}

// Record is the record Next read, without its length prefix, until the
// next call of Next, Rewind or Close.
func (r *ProtoRecords) Record() []byte { return r.rec }

// Records is the number of records read since the open (or Rewind).
func (r *ProtoRecords) Records() int { return r.n }

// Err is what ended the records, once Next returned false:
// ReadProtoFileTail's error (a *RecordDamageError for damage, which
// follows the records read; an Arrow stream; an I/O error); nil for a sound
// file and while records remain.
func (r *ProtoRecords) Err() error { return r.err }

// Tail says how the file ends, once Next returned false (ReadProtoFileTail's).
func (r *ProtoRecords) Tail() Tail { return r.tail }

// Rewind goes back to the first record, to read the records of the same
// snapshot again.
func (r *ProtoRecords) Rewind() error {
	if r.f == nil {
		return fmt.Errorf("reading %q: %w", r.path, os.ErrClosed)
	}
	r.br.Reset(io.NewSectionReader(r.f, 0, r.size))
	r.off, r.n, r.tail, r.err, r.done = 0, 0, Tail{}, nil, false
	return nil
}

// Close closes the file; Next then returns false. It may be called more
// than once.
func (r *ProtoRecords) Close() {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	r.br, r.rec, r.done = nil, nil, true
}

// isRecordDamage reports whether err is damage at a record
// (*RecordDamageError).
func isRecordDamage(err error) bool {
	var damage *RecordDamageError
	return errors.As(err, &damage)
}

// ProtoDecoder parses the records of a protobuf debug file into dynamic
// messages one at a time (for printing, e.g. with protojson), as
// DecodeProto does.
type ProtoDecoder struct {
	md protoreflect.MessageDescriptor
}

// NewProtoDecoder is the decoder of records of desc; a descriptor that
// does not build is the error.
func NewProtoDecoder(desc *descriptorpb.DescriptorProto) (*ProtoDecoder, error) {
	md, err := protoarrow.MessageDescriptor(desc)
	if err != nil {
		return nil, err
	}
	return &ProtoDecoder{md: md}, nil
}

// Decode parses record i of the file (its index, for the error): one that
// does not parse, lacks a required field or carries fields unknown to the
// descriptor is an error naming the record index.
func (d *ProtoDecoder) Decode(i int, rec []byte) (proto.Message, error) {
	m, err := protoarrow.Unmarshal(d.md, rec)
	if err != nil {
		return nil, fmt.Errorf("record %d: %w", i, err)
	}
	return m, nil
}

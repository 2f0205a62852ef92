package debugfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// SidecarPath returns the path of the serialized DescriptorProto that
// describes the records of protobuf debug file protoPath
// (T.proto -> T.descriptor.pb, T-<stamp>-<seq>.proto -> T-<stamp>-<seq>.descriptor.pb).
func SidecarPath(protoPath string) string {
	pb, _ := sidecars(protoPath)
	return pb
}

// Sidecars returns the paths of protobuf debug file protoPath's descriptor
// and of its text form.
func Sidecars(protoPath string) (pb, text string) { return sidecars(protoPath) }

// Tail says how a debug file ended when it was read. A file whose name is
// not a rotated one (<table>-<stamp>-<seq>.<ext>) and whose writer still
// holds its lock (<file>.lock; where writers do not lock, the name alone
// decides: see beingWritten) is the active file of a Writer, which writes
// its messages through a buffer: it can end inside a
// message (the rest is still in the writer's buffer, or a crash cut it
// there) and, for an Arrow file, be empty (created, its schema not written
// yet). Such a file is read up to its last complete message, with
// StillWriting set and no error. A rotated file is complete: ending inside
// a message there is an error (truncated), as is damage anywhere.
//
// A length that runs past the end counts as a message being written only
// when nothing after it shows damage: an Arrow message's metadata is
// verified whenever all of it is present, and no end-of-stream marker (the
// file was closed) or whole message with verified metadata may follow it;
// the bytes after a protobuf record's length must be fields of the
// descriptor with their wire types. So damage further up stays an error,
// but a damaged length in the last message of an active file cannot be
// told from one being written.
type Tail struct {
	// StillWriting: the file ends inside a message (an Arrow file: also
	// before its schema) that starts at Offset, of which Bytes bytes are
	// present; what came before Offset was returned.
	StillWriting bool
	Offset       int64
	Bytes        int64
	// Schema is the schema an Arrow file's stream declares, read with its
	// batches (nil for a protobuf file, for an Arrow file with no schema
	// yet or of no byte, and with an error), so that a reader keeps the
	// columns of a file that holds its schema and no batch (a rotated
	// file closed before its first batch, or an active one whose first
	// batch is being written): no batch is returned for it.
	Schema *arrow.Schema
}

// String says how the file ended, for a note to the user.
func (t Tail) String() string {
	if !t.StillWriting {
		return "complete"
	}
	if t.Offset == 0 && t.Bytes == 0 {
		return "empty: still being written (nothing written yet)"
	}
	return fmt.Sprintf("still being written: it ends inside a message at byte offset %d (%d bytes of it so far); everything before it was read", t.Offset, t.Bytes)
}

// beingWritten reports whether a Writer may still be writing path: it has
// an active file's name and, where writers lock their names (Unix), its
// writer holds the lock (<path>.lock). An active file with no lock held was
// closed by its writer (or its writer crashed): it is complete, and read as
// strictly as a rotated one. Where writers do not lock, the name decides.
func beingWritten(path string) bool {
	if !activeName(path) {
		return false
	}
	return !lockSupported || lockHeld(path+lockSuffix)
}

// activeName reports whether path may be the active file of a Writer: its
// name is not a rotated file's (rotatedParts).
func activeName(path string) bool {
	name := filepath.Base(path)
	_, _, _, _, rotated := rotatedParts(name[:len(name)-len(filepath.Ext(name))])
	return !rotated
}

// ReadProtoFile reads a protobuf debug file: the descriptor from its sidecar
// (SidecarPath) and the records, each still encoded, with their varint
// length prefixes removed. The records share one buffer. When a rotated
// file ends inside a record (a crash or a full disk), the complete records
// before it are returned together with an error naming the record and
// offset; the active file is read up to its last complete record without
// an error (ReadProtoFileTail says whether it ended inside one). Safe for
// concurrent use; the file may be read while a Writer appends to it.
func ReadProtoFile(path string) (*descriptorpb.DescriptorProto, [][]byte, error) {
	desc, records, _, err := ReadProtoFileTail(path)
	return desc, records, err
}

// ReadProtoFileTail is ReadProtoFile that also says how the file ended
// (Tail).
func ReadProtoFileTail(path string) (*descriptorpb.DescriptorProto, [][]byte, Tail, error) {
	desc, err := readProtoDescriptor(path)
	if err != nil {
		return nil, nil, Tail{}, err
	}
	data, err := os.ReadFile(path) // to its end when read: one snapshot
	if err != nil {
		return desc, nil, Tail{}, fmt.Errorf("reading %q: %w", path, err)
	}
	records, cut, err := splitDelimited(data)
	if err != nil {
		tail, err := recordsEnd(path, desc, err, len(records), recordOffset(data, len(records)), cut >= 0, data[:min(len(data), len(arrowContinuation))], func() ([]byte, error) { return data[cut:], nil })
		return desc, records, tail, err
	}
	return desc, records, Tail{}, nil
}

// readProtoDescriptor reads the descriptor sidecar of protobuf debug file
// path.
func readProtoDescriptor(path string) (*descriptorpb.DescriptorProto, error) {
	side := SidecarPath(path)
	raw, err := os.ReadFile(side)
	if err != nil {
		return nil, fmt.Errorf("reading the descriptor of %q: %w (it is expected beside the file, named %s)", path, err, filepath.Base(side))
	}
	desc := new(descriptorpb.DescriptorProto)
	if err := proto.Unmarshal(raw, desc); err != nil {
		return nil, fmt.Errorf("%q is not a serialized google.protobuf.DescriptorProto: %w", side, err)
	}
	return desc, nil
}

// recordsEnd applies the rules for a protobuf debug file whose records end
// with framing error ferr (splitDelimited's, frameRecord's) at record rec,
// which starts at byte offset off: records is the number of complete
// records before it, cut whether the file ends inside that record (its
// length prefix or its bytes), head the file's first bytes (up to 4) and
// rest the bytes from off to the end (read only when needed). It returns
// the Tail of an active file being written (no error), or the error: a
// file that is an Arrow stream (ferr at the first record), else a
// *RecordDamageError.
func recordsEnd(path string, desc *descriptorpb.DescriptorProto, ferr error, rec int, off int64, cut bool, head []byte, rest func() ([]byte, error)) (Tail, error) {
	if rec == 0 && bytes.HasPrefix(head, arrowContinuation) {
		return Tail{}, fmt.Errorf("%q holds an Arrow IPC stream (it starts with the Arrow continuation marker), not protobuf records: read it as an .arrow file (rename it)", path)
	}
	if cut && beingWritten(path) {
		b, err := rest()
		if err != nil {
			return Tail{}, fmt.Errorf("reading %q: %w", path, err)
		}
		if recordPrefix(desc, b) {
			return Tail{StillWriting: true, Offset: off, Bytes: int64(len(b))}, nil
		}
	}
	return Tail{}, &RecordDamageError{Record: rec, Offset: off, err: fmt.Errorf("%q: %w", path, ferr)}
}

// arrowContinuation starts every message of an Arrow IPC stream.
var arrowContinuation = []byte{0xff, 0xff, 0xff, 0xff}

// descriptorMismatch is the error for records of path that do not decode
// with its descriptor: it names the descriptor, whose likely cause is
// another table's descriptor put beside the file, without protoarrow's
// prefix.
func descriptorMismatch(path string, err error) error {
	return &mismatchError{err: err, msg: fmt.Sprintf("%q: %s (the records do not decode with the descriptor %s beside the file: is it another table's?)",
		path, strings.TrimPrefix(err.Error(), "protoarrow: "), filepath.Base(SidecarPath(path)))}
}

type mismatchError struct {
	err error
	msg string
}

func (e *mismatchError) Error() string { return e.msg }
func (e *mismatchError) Unwrap() error { return e.err }

// RecordDamageError is ReadProtoFileTail's error for a protobuf debug file
// damaged (or cut short: a crash, a full disk) at a record, after a sound
// descriptor: the Record complete records before byte Offset were returned
// with it. Its text names the file, the record and the offset.
type RecordDamageError struct {
	Record int   // the damaged record: the number of complete records before it
	Offset int64 // where it starts in the file
	err    error
}

func (e *RecordDamageError) Error() string { return e.err.Error() }
func (e *RecordDamageError) Unwrap() error { return e.err }

// recordOffset returns where record n of the varint-delimited data starts
// (the first n records being sound).
func recordOffset(data []byte, n int) int64 {
	off := 0
	for range n {
		l, k := protowire.ConsumeVarint(data[off:])
		off += k + int(l)
	}
	return int64(off)
}

// splitDelimited splits varint-length-prefixed records. When the data ends
// inside a record (its length prefix, or the bytes it declares), cut is
// where that record starts; otherwise -1.
func splitDelimited(data []byte) (records [][]byte, cut int, err error) {
	for off := 0; off < len(data); {
		n, l, isCut, err := frameRecord(data[off:], int64(len(data)-off), len(records), int64(off))
		if err != nil {
			if !isCut {
				off = -1
			}
			return records, off, err
		}
		start := off + l
		records = append(records, data[start:start+int(n):start+int(n)])
		off = start + int(n)
	}
	return records, -1, nil
}

// frameRecord reads the varint length prefix of record rec of a protobuf
// debug file, which starts at byte offset off: b holds the file's bytes
// from off (at least its first binary.MaxVarintLen64, or all of them when
// fewer are left), left is the number of bytes from off to the file's end.
// It returns the record's length n and its prefix's l, or the error for a
// bad prefix or for a file that ends inside the record (cut: its prefix or
// its bytes are cut off by the end).
func frameRecord(b []byte, left int64, rec int, off int64) (n int64, l int, cut bool, err error) {
	v, l := protowire.ConsumeVarint(b)
	if l < 0 {
		if protowire.ParseError(l) == io.ErrUnexpectedEOF {
			return 0, 0, true, fmt.Errorf("record %d at byte offset %d: the file ends inside its length prefix (truncated)", rec, off)
		}
		return 0, 0, false, fmt.Errorf("record %d at byte offset %d: bad length prefix (the file is damaged or not a protobuf debug file)", rec, off)
	}
	if v > uint64(left-int64(l)) {
		return 0, 0, true, fmt.Errorf("record %d at byte offset %d: length %d runs past the end of the file by %d bytes (truncated)", rec, off, v, v-uint64(left-int64(l)))
	}
	return int64(v), l, false, nil
}

// recordPrefix reports whether rest, the bytes of a record cut off by the
// end of the file (its length prefix included), could be the start of a
// record of desc still being written: its length prefix is cut, or the
// bytes after it are fields of desc with their wire types, the last one
// possibly cut. Anything else (unknown fields: the bytes of further
// records after a damaged length) is damage.
func recordPrefix(desc *descriptorpb.DescriptorProto, rest []byte) bool {
	_, l := protowire.ConsumeVarint(rest)
	if l < 0 {
		return true // the length prefix is cut (a bad one is not a cut)
	}
	md, err := protoarrow.MessageDescriptor(desc)
	if err != nil {
		return false
	}
	for b := rest[l:]; len(b) > 0; {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n) == io.ErrUnexpectedEOF
		}
		fd := md.Fields().ByNumber(num)
		if fd == nil || !wireTypeFits(fd, typ) {
			return false
		}
		b = b[n:]
		if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
			return protowire.ParseError(n) == io.ErrUnexpectedEOF
		}
		b = b[n:]
	}
	return true
}

// wireTypeFits reports whether a field fd may be encoded with wire type typ.
func wireTypeFits(fd protoreflect.FieldDescriptor, typ protowire.Type) bool {
	if fd.IsList() && typ == protowire.BytesType {
		return true // packed
	}
	switch fd.Kind() {
	case protoreflect.BoolKind, protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Uint32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		return typ == protowire.VarintType
	case protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind, protoreflect.FloatKind:
		return typ == protowire.Fixed32Type
	case protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind, protoreflect.DoubleKind:
		return typ == protowire.Fixed64Type
	case protoreflect.GroupKind:
		return typ == protowire.StartGroupType
	}
	return typ == protowire.BytesType // string, bytes, message
}

// DecodeProto parses records with desc into dynamic messages (for printing,
// e.g. with protojson). Records that do not parse, lack a required field or
// carry fields unknown to desc are an error naming the record index.
func DecodeProto(desc *descriptorpb.DescriptorProto, records [][]byte) ([]proto.Message, error) {
	d, err := NewProtoDecoder(desc)
	if err != nil {
		return nil, err
	}
	msgs := make([]proto.Message, len(records))
	for i, r := range records {
		if msgs[i], err = d.Decode(i, r); err != nil {
			return nil, err
		}
	}
	return msgs, nil
}

// ReadProtoFileArrow reads a protobuf debug file and converts its records to
// one Arrow record batch (protoarrow.Decode), whose schema follows from the
// descriptor. The caller must Release the batch, also when err != nil: on a
// file damaged or cut short at a record (a *RecordDamageError, as
// ReadProtoFile returns it) the batch holds the complete records before the
// damage (none, a batch of no rows, when the first record is damaged) and
// the error names the record and its byte offset; on another error the
// batch is nil. A nil mem means memory.DefaultAllocator.
func ReadProtoFileArrow(path string, mem memory.Allocator) (arrow.RecordBatch, error) {
	rec, _, err := ReadProtoFileArrowTail(path, mem)
	return rec, err
}

// ReadProtoFileArrowTail is ReadProtoFileArrow that also says how the file
// ended (Tail): the batch and the tail come from one read of the file.
func ReadProtoFileArrowTail(path string, mem memory.Allocator) (arrow.RecordBatch, Tail, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	desc, records, tail, readErr := ReadProtoFileTail(path)
	var damage *RecordDamageError
	if readErr != nil && !errors.As(readErr, &damage) {
		return nil, Tail{}, readErr
	}
	rec, err := protoarrow.Decode(mem, desc, records)
	if err != nil {
		return nil, Tail{}, descriptorMismatch(path, err)
	}
	return rec, tail, readErr
}

// ReadArrowFile reads every record batch of an Arrow IPC stream debug file,
// also one still being written: it reads the bytes the file holds when it
// is opened (a snapshot of its size; what is appended later is not read),
// and the active file up to its last complete message, without an error
// (ReadArrowFileTail says whether it ended inside one or before its
// schema: see Tail). A file of no byte holds no batch: nil, no error. The caller must Release every returned batch, also
// when err != nil: on a damaged stream (or a rotated file cut short) the
// batches before the damage are returned with the error, which names the
// file and the batch. Each message's metadata is verified
// (protoarrow.NewIPCHeldStreamVerifier: every batch is kept, so their
// compressed buffers may decompress to protoarrow.DecodedLimit in all)
// before arrow-go, which trusts its lengths, reads it, so damage is an
// error, not a panic or an allocation of what a corrupt length asks for;
// each batch's body is validated
// (protoarrow.ArrowValidator) before it is returned, so a damaged offset,
// index or length in it is an error naming the batch, column and row, not
// garbage or a panic in whoever reads it. A nil mem means
// memory.DefaultAllocator.
func ReadArrowFile(path string, mem memory.Allocator) (recs []arrow.RecordBatch, err error) {
	recs, _, err = ReadArrowFileTail(path, mem)
	return recs, err
}

// ReadArrowFileTail is ReadArrowFile that also says how the file ended
// (Tail), and gives the file's schema (Tail.Schema): a file holding its
// schema and no batch returns none, and its schema there.
func ReadArrowFileTail(path string, mem memory.Allocator) (recs []arrow.RecordBatch, tail Tail, err error) {
	recs, tail, _, err = ReadArrowFileRows(path, mem, 0)
	return recs, tail, err
}

// ReadArrowFileRows is ReadArrowFileTail that stops reading once the
// batches read hold maxRows rows (0: all), so that the first rows of a
// large file are read without holding (or checking) the rest; more then
// says whether the file holds another batch after them, unread.
func ReadArrowFileRows(path string, mem memory.Allocator, maxRows int64) (recs []arrow.RecordBatch, tail Tail, more bool, err error) {
	s, err := OpenArrowStream(path, mem) // the file's snapshot, its tail and schema read
	if err != nil {
		return nil, Tail{}, false, err
	}
	defer s.Close()
	if s.r == nil { // of no byte, or no schema yet
		return nil, s.tail, false, nil
	}
	r, tail := s.r, s.tail
	v := protoarrow.NewArrowValidator()
	var rows int64
	for r.Next() {
		if maxRows > 0 && rows >= maxRows {
			tail.Schema = r.Schema()
			return recs, tail, true, nil // the rest is not read
		}
		rec := r.RecordBatch()
		if err := v.Record(rec); errors.Is(err, protoarrow.ErrValidatorFailure) {
			return recs, Tail{}, false, &BatchDamageError{Schema: r.Schema(), Batch: len(recs), err: fmt.Errorf("%q: batch %d: %w", path, len(recs), err)}
		} else if err != nil {
			return recs, Tail{}, false, &BatchDamageError{Schema: r.Schema(), Batch: len(recs), err: fmt.Errorf("%q: batch %d: %w (the file is damaged from this batch on; the %d batches before it are intact)", path, len(recs), err, len(recs))}
		}
		rec.Retain()
		recs = append(recs, rec)
		rows += rec.NumRows()
	}
	if err := r.Err(); err != nil {
		return recs, Tail{}, false, &BatchDamageError{Schema: r.Schema(), Batch: len(recs), err: fmt.Errorf("%q: batch %d: %w", path, len(recs), err)}
	}
	if err := s.TrailingData(); err != nil { // zeros where a message starts: not the end
		return recs, Tail{}, false, &BatchDamageError{Schema: r.Schema(), Batch: len(recs), err: fmt.Errorf("%q: batch %d: %w", path, len(recs), err)}
	}
	tail.Schema = r.Schema()
	return recs, tail, false, nil
}

// BatchDamageError is ReadArrowFileTail's error for a file damaged (or cut
// short) at a batch, after a sound schema: Schema is the file's, so a reader
// can give the intact part as a table also when it holds no batch (damage in
// batch 0). Its text and what it wraps are the reader's error's.
type BatchDamageError struct {
	Schema *arrow.Schema
	Batch  int // the damaged batch: the number of intact batches before it
	err    error
}

func (e *BatchDamageError) Error() string { return e.err.Error() }
func (e *BatchDamageError) Unwrap() error { return e.err }

// arrowCut reports whether the Arrow IPC stream r (size bytes) ends inside
// a message, or is empty, and where that message starts. It follows the
// framing only as far as it is sound: a message whose metadata is all
// present is verified (protoarrow.VerifyIPCMessage) and its body length
// used; a length prefix must be continued (0xFFFFFFFF) and pad its
// metadata to 8 bytes, as every writer of this format does. Where it meets
// anything else (an end-of-stream marker, damage), it reports no cut: the
// reader then reads the whole stream and reports the damage.
func arrowCut(r io.ReaderAt, size int64) (int64, bool) {
	var head [8]byte
	for off := int64(0); ; {
		if off == size {
			return off, off == 0
		}
		n, _ := r.ReadAt(head[:], off)
		if n < 4 {
			return off, bytes.Equal(head[:n], []byte{0xFF, 0xFF, 0xFF, 0xFF}[:n])
		}
		if binary.LittleEndian.Uint32(head[:4]) != 0xFFFFFFFF {
			return 0, false
		}
		if n < 8 {
			return off, true
		}
		mlen := int64(binary.LittleEndian.Uint32(head[4:]))
		if mlen == 0 || mlen%8 != 0 {
			return 0, false // end of stream, or not a length this format writes
		}
		if mlen > size-off-8 {
			return off, true
		}
		meta := make([]byte, mlen)
		if _, err := r.ReadAt(meta, off+8); err != nil {
			return 0, false
		}
		body, err := protoarrow.VerifyIPCMessage(meta, "", math.MaxInt64)
		if err != nil {
			return 0, false
		}
		if body > size-off-8-mlen {
			return off, true
		}
		off += 8 + mlen + body
	}
}

// arrowMoreAfter reports whether the bytes of the stream r (size bytes)
// after the message at off show that it is not a message cut off by the
// end of the file but one with a damaged length: they end with an
// end-of-stream marker (the file was closed), or a whole message with
// verified metadata starts at an 8-byte-aligned offset among them.
func arrowMoreAfter(r io.ReaderAt, off, size int64) bool {
	var head [8]byte
	if size-off >= 16 {
		if n, _ := r.ReadAt(head[:], size-8); n == 8 && binary.LittleEndian.Uint32(head[:4]) == 0xFFFFFFFF && binary.LittleEndian.Uint32(head[4:]) == 0 {
			return true
		}
	}
	const maxMeta = 1 << 20 // a candidate's metadata read; real metadata is far smaller
	br := bufio.NewReaderSize(io.NewSectionReader(r, off+8, size-off-8), 1<<16)
	for at := off + 8; at+8 <= size; at += 8 {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			return false
		}
		if binary.LittleEndian.Uint32(head[:4]) != 0xFFFFFFFF {
			continue
		}
		mlen := int64(binary.LittleEndian.Uint32(head[4:]))
		if mlen == 0 || mlen%8 != 0 || mlen > maxMeta || mlen > size-at-8 {
			continue
		}
		meta := make([]byte, mlen)
		if _, err := r.ReadAt(meta, at+8); err != nil {
			continue
		}
		if body, err := protoarrow.VerifyIPCMessage(meta, "", math.MaxInt64); err == nil && body <= size-at-8-mlen {
			return true
		}
	}
	return false
}

// DropsPath returns the path of the drops sidecar of debug file path
// (T.arrow -> T.drops.jsonl, T-<stamp>-<seq>.proto -> T-<stamp>-<seq>.drops.jsonl).
// It exists only when writes meant for that file were dropped.
func DropsPath(path string) string { return dropsPath(path) }

// ReadDrops returns the gaps recorded for debug file path (an Arrow or
// protobuf data file): each says how many writes, rows and bytes were
// dropped just before the file's write number BeforeWrite (row
// BeforeRow). No sidecar means nothing was dropped: nil, nil. The sidecar
// holds one JSON object per line, so other tools read it too.
//
// A damaged line (half a line left by a short write on a full disk, with
// the next gap possibly appended to it) does not stop the reading: the gap
// at its end is kept when it parses, and every gap read is returned with a
// *DamagedDropsError naming the file and the damaged lines.
func ReadDrops(path string) ([]Gap, error) {
	side := dropsPath(path)
	data, err := os.ReadFile(side)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the drops record of %q: %w", path, err)
	}
	var gaps []Gap
	var damaged *DamagedDropsError
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var g Gap
		err := json.Unmarshal(line, &g)
		if err == nil {
			gaps = append(gaps, g)
			continue
		}
		// A gap appended after half a line: keep it.
		if j := bytes.LastIndex(line, []byte(`{"before_write":`)); j > 0 && json.Unmarshal(line[j:], &g) == nil {
			gaps = append(gaps, g)
		}
		if damaged == nil {
			damaged = &DamagedDropsError{Path: side}
		}
		damaged.Lines = append(damaged.Lines, DamagedDropsLine{Line: i + 1, Err: err})
	}
	if damaged != nil {
		return gaps, damaged
	}
	return gaps, nil
}

// DamagedDropsError is ReadDrops' report of the lines of a drops sidecar
// that do not parse (the gaps of the other lines are returned with it).
type DamagedDropsError struct {
	Path  string // the sidecar
	Lines []DamagedDropsLine
}

// DamagedDropsLine is one damaged line of a drops sidecar (1-based).
type DamagedDropsLine struct {
	Line int
	Err  error
}

func (e *DamagedDropsError) Error() string {
	return strings.Join(e.DamagedLines(), "; ")
}

// Sidecar returns the damaged sidecar's path (Path), and LineNumbers its
// damaged lines (1-based, in order, as DamagedLines describes them): the
// command line and the Python bindings, which cannot name this type, find
// it by these methods.
func (e *DamagedDropsError) Sidecar() string { return e.Path }

// LineNumbers: see Sidecar.
func (e *DamagedDropsError) LineNumbers() []int {
	out := make([]int, len(e.Lines))
	for i, l := range e.Lines {
		out[i] = l.Line
	}
	return out
}

// DamagedLines describes each damaged line: "<sidecar>" line N: <error>.
// (The command line finds it by this method: it cannot name the type.)
func (e *DamagedDropsError) DamagedLines() []string {
	out := make([]string, len(e.Lines))
	for i, l := range e.Lines {
		out[i] = fmt.Sprintf("%q line %d is damaged: %v", e.Path, l.Line, l.Err)
	}
	return out
}

package protoarrow

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Arrow IPC metadata is a flatbuffer that arrow-go trusts: a corrupt vector
// length there (a field's children, custom metadata, a batch's buffers)
// makes it allocate that many elements at once, and a few flipped bits ask
// for tens of GB: the process dies of it, beyond any recover. The verifier
// here checks the parts of the metadata arrow-go sizes allocations by
// before arrow-go reads them: every offset, table, vector and string lies
// inside the buffer and every field inside its table, the number of tables
// visited is bounded by the buffer's size (shared sub-tables cannot fan
// out), nesting is bounded, and the lengths a message declares (its body,
// the buffers in it, row and null counts) fit. It is a subset of a
// flatbuffer verifier for Arrow's Schema.fbs, Message.fbs and File.fbs,
// enough for what arrow-go allocates by. The command line checks input
// files with it, the local server each FlightData header.

// ErrIPCMetadata is wrapped by every error of VerifyIPCMessage and
// VerifyIPCFooter (each an *IPCMetadataError).
var ErrIPCMetadata = errors.New("corrupt Arrow IPC metadata")

// IPCMetadataError says what in which metadata is malformed.
type IPCMetadataError struct {
	What   string // the metadata checked: "the schema", "record batch 3", "the footer"
	Reason string // what is wrong, with offsets, field numbers and lengths
}

func (e *IPCMetadataError) Error() string {
	return ErrIPCMetadata.Error() + ": " + e.What + ": " + e.Reason
}

// Is makes errors.Is(err, ErrIPCMetadata) true.
func (e *IPCMetadataError) Is(target error) bool { return target == ErrIPCMetadata }

// IPCDecodedSizeError is a well-formed compressed record batch whose
// buffers declare more uncompressed bytes in all than the caller's bound
// (IPCMessageVerifier.VerifyBody), or, read from a file (VerifyIPCFile,
// NewIPCStreamVerifier, NewIPCHeldStreamVerifier), more than one batch
// may decompress to (Batch: BatchDecodedLimit of its body), or, where
// every batch is kept, more than the file may decompress to with the
// batches before it (DecodedLimit).
type IPCDecodedSizeError struct {
	Limit int64
	// Read from a file: the batch ("record batch 3") and the file's size.
	What     string
	FileSize int64
	// Batch: Limit bounds this batch alone, of a BodySize-byte body.
	Batch    bool
	BodySize int64
}

// decodedSizeHint is what to do with a genuine file of data that
// compresses more than the bound allows.
const decodedSizeHint = "write it with lz4 compression (at most about 255:1) or none (the wrapper's debug files: debug_arrow_compression=lz4 or none)"

func (e *IPCDecodedSizeError) Error() string {
	switch {
	case e.What == "":
		return fmt.Sprintf("the compressed record batch decompresses to more than %d bytes", e.Limit)
	case e.Batch:
		return fmt.Sprintf("%s: its compressed buffers declare more than %d bytes uncompressed, the limit for one batch "+
			"(the larger of %d bytes and %d × its %d-byte body); the file may be damaged or crafted. "+
			"If it is genuine (data compressed more than %d:1, such as constant or mostly null columns), write it in smaller batches, or %s",
			e.What, e.Limit, MinDecodedLimit, BatchDecodedFactor, e.BodySize, BatchDecodedFactor, decodedSizeHint)
	default:
		return fmt.Sprintf("%s: the compressed batches up to this one decompress to more than %d bytes, the limit for reading "+
			"a whole Arrow IPC file of %d bytes into memory (the larger of %d bytes and %d × its size); the file may be damaged or crafted. "+
			"If it is genuine (data compressed more than %d:1, such as constant or mostly null columns), split it, or %s",
			e.What, e.Limit, e.FileSize, MinDecodedLimit, DecodedLimitFactor, DecodedLimitFactor, decodedSizeHint)
	}
}

// Bounds on what the compressed buffers of an Arrow IPC file may
// decompress to, checked before each batch's buffers are decompressed
// (arrow-go allocates each buffer's declared length first): a small file of
// zeros otherwise makes its reader allocate without bound. Real data can
// compress far beyond 256:1 (zstd of a constant or mostly null column
// reaches thousands to one), so neither bound is a test of the data: one
// batch may decompress to BatchDecodedLimit of its body (a reader that
// frees each batch before the next holds no more), and a reader that keeps
// every batch (NewIPCHeldStreamVerifier) to DecodedLimit of the file's
// size in all. lz4 cannot exceed about 255:1.
const (
	MinDecodedLimit    = 1 << 30 // 1 GiB
	BatchDecodedFactor = 256
	DecodedLimitFactor = 4096
	maxDecodedLimit    = math.MaxInt64 / 4 // compressedBody sums up to twice a limit
)

// BatchDecodedLimit is the most bytes the compressed buffers of one batch
// with a body of body bytes may decompress to: the larger of
// MinDecodedLimit and BatchDecodedFactor × body.
func BatchDecodedLimit(body int64) int64 {
	if body > maxDecodedLimit/BatchDecodedFactor {
		return maxDecodedLimit
	}
	return max(MinDecodedLimit, BatchDecodedFactor*body)
}

// DecodedLimit is the most bytes the compressed buffers of an Arrow IPC
// file of size bytes may decompress to in all when every batch is kept in
// memory: the larger of MinDecodedLimit and DecodedLimitFactor × size.
func DecodedLimit(size int64) int64 {
	if size > maxDecodedLimit/DecodedLimitFactor {
		return maxDecodedLimit
	}
	return max(MinDecodedLimit, DecodedLimitFactor*size)
}

// MaxIPCNesting bounds the nesting of schema fields.
const MaxIPCNesting = 64

// IPCBlock is where a file's footer places one message: its metadata
// (continuation marker and length prefix included) at Offset, MetaLen
// bytes, then BodyLen bytes of body.
type IPCBlock struct {
	Offset, MetaLen, BodyLen int64
}

// VerifyIPCMessage checks meta, the flatbuffer of one IPC Message (after
// its continuation marker and length), whose body may hold at most maxBody
// bytes (the bytes left in a file, the size of a FlightData body), and
// returns the body length it declares. what names the message in errors.
//
// Alone it cannot check that a batch counts the variadic buffers of each
// of its view arrays, which arrow-go trusts: that needs the stream's
// schema, which IPCMessageVerifier keeps.
func VerifyIPCMessage(meta []byte, what string, maxBody int64) (int64, error) {
	return newIPCVerifier(meta, what).message(maxBody)
}

// IPCMessageVerifier verifies the messages of one IPC stream in order, as
// VerifyIPCMessage does, and each batch against the arrays of the stream's
// schema; VerifyBody then checks a compressed batch's body. Not safe for
// concurrent use.
type IPCMessageVerifier struct {
	views *ipcViews
	last  *ipcVerifier // the last message verified, for VerifyBody
}

// Verify is VerifyIPCMessage for the stream's next message.
func (s *IPCMessageVerifier) Verify(meta []byte, what string, maxBody int64) (int64, error) {
	v := newIPCVerifier(meta, what)
	v.views = s.views
	n, err := v.message(maxBody)
	if err == nil && v.schemaViews != nil {
		s.views = v.schemaViews
	}
	s.last = nil
	if err == nil {
		s.last = v
	}
	return n, err
}

// VerifyBody checks the body of the message Verify accepted last: each
// buffer of a compressed batch must decompress to the uncompressed length
// it starts with, which arrow-go allocates before it decompresses (a
// corrupt length of a TiB is a fatal out-of-memory, not a panic), and
// their uncompressed lengths together may be at most maxUncompressed
// bytes, checked before anything is decompressed (a small body of highly
// compressible data can really decompress to gigabytes). A body of an
// uncompressed message, or after a failed Verify, passes.
func (s *IPCMessageVerifier) VerifyBody(body []byte, maxUncompressed int64) error {
	if s.last == nil || len(s.last.buffers) == 0 {
		return nil
	}
	_, err := s.last.compressedBody(body, maxUncompressed)
	return err
}

// BodyCompression.codec values (Message.fbs).
const (
	codecLZ4Frame = 0
	codecZstd     = 1
)

// VerifyIPCFooter checks footer, the flatbuffer of an IPC file's Footer,
// with its schema, and returns the blocks of its dictionary batches and
// record batches (their placement in the file is the caller's to check).
func VerifyIPCFooter(footer []byte) (dicts, batches []IPCBlock, err error) {
	dicts, batches, _, err = verifyIPCFooter(footer)
	return dicts, batches, err
}

// verifyIPCFooter is VerifyIPCFooter that also returns the view fields of
// the schema.
func verifyIPCFooter(footer []byte) (dicts, batches []IPCBlock, views *ipcViews, err error) {
	v := newIPCVerifier(footer, "the footer")
	root, err := v.u32(0)
	if err != nil {
		return nil, nil, nil, err
	}
	foot, err := v.table(int(root))
	if err != nil {
		return nil, nil, nil, err
	}
	if s, err := foot.sub(1); err != nil {
		return nil, nil, nil, err
	} else if s == nil {
		return nil, nil, nil, v.fail("no schema")
	} else if err := v.schema(s); err != nil {
		return nil, nil, nil, err
	}
	if err := foot.keyValues(4); err != nil {
		return nil, nil, nil, err
	}
	// Block {offset int64, metaDataLength int32, pad, bodyLength int64}.
	blocks := func(field int) ([]IPCBlock, error) {
		start, n, err := foot.vector(field, 24)
		if err != nil || n == 0 {
			return nil, err
		}
		out := make([]IPCBlock, n) // n*24 bytes of the footer
		for k := range out {
			b := footer[start+24*k:]
			out[k] = IPCBlock{
				Offset:  int64(binary.LittleEndian.Uint64(b)),
				MetaLen: int64(int32(binary.LittleEndian.Uint32(b[8:]))),
				BodyLen: int64(binary.LittleEndian.Uint64(b[16:])),
			}
		}
		return out, nil
	}
	if dicts, err = blocks(2); err != nil {
		return nil, nil, nil, err
	}
	if batches, err = blocks(3); err != nil {
		return nil, nil, nil, err
	}
	return dicts, batches, v.schemaViews, nil
}

// fbTable is a flatbuffer table at pos in buf, with its vtable.
type fbTable struct {
	v           *ipcVerifier
	pos, vt, vl int
}

type ipcVerifier struct {
	buf    []byte
	what   string
	budget int // tables left to visit

	// The view fields of the stream's schema, for its batches (nil: not
	// known), and of the schema this message holds (nil: none).
	views, schemaViews *ipcViews

	kind byte // the message's header type (headerRecordBatch, ...)

	// A compressed batch's codec (-1: none) and buffers (Offset, BodyLen).
	codec   int
	buffers []IPCBlock
}

func newIPCVerifier(buf []byte, what string) *ipcVerifier {
	return &ipcVerifier{buf: buf, what: what, budget: len(buf)/4 + 1, codec: -1}
}

func (v *ipcVerifier) fail(format string, args ...any) error {
	return &IPCMetadataError{What: v.what, Reason: fmt.Sprintf(format, args...)}
}

func (v *ipcVerifier) in(pos, n int64) bool {
	return pos >= 0 && n >= 0 && pos <= int64(len(v.buf)) && n <= int64(len(v.buf))-pos
}

func (v *ipcVerifier) u32(pos int) (uint32, error) {
	if !v.in(int64(pos), 4) {
		return 0, v.fail("offset %d beyond the %d-byte metadata", pos, len(v.buf))
	}
	return binary.LittleEndian.Uint32(v.buf[pos:]), nil
}

// table checks the table at pos and its vtable.
func (v *ipcVerifier) table(pos int) (*fbTable, error) {
	if v.budget--; v.budget < 0 {
		return nil, v.fail("more tables than the metadata can hold")
	}
	soff, err := v.u32(pos)
	if err != nil {
		return nil, err
	}
	vt := int64(pos) - int64(int32(soff))
	if !v.in(vt, 4) || vt%2 != 0 {
		return nil, v.fail("vtable at %d out of range", vt)
	}
	vl := int(binary.LittleEndian.Uint16(v.buf[vt:]))
	objLen := int(binary.LittleEndian.Uint16(v.buf[vt+2:]))
	if vl < 4 || vl%2 != 0 || !v.in(vt, int64(vl)) || objLen < 4 {
		return nil, v.fail("table at %d has a bad vtable", pos)
	}
	return &fbTable{v: v, pos: pos, vt: int(vt), vl: vl}, nil
}

// field returns the position of field i's inline value (0: absent) after
// checking that size bytes of it lie in the metadata. Not within the
// table's inline size from its vtable: the Go flatbuffers builder (arrow-go
// writes with it) shares a vtable between tables whose field offsets are
// equal without comparing their sizes, so a DictionaryEncoding (an 8-byte
// id at offset 8) can carry the 12-byte size of a KeyValue's vtable. As
// flatbuffers' own verifier does, a field is checked against the buffer.
func (t *fbTable) field(i, size int) (int, error) {
	at := 4 + 2*i
	if at+2 > t.vl {
		return 0, nil
	}
	o := int(binary.LittleEndian.Uint16(t.v.buf[t.vt+at:]))
	if o == 0 {
		return 0, nil
	}
	if !t.v.in(int64(t.pos+o), int64(size)) {
		return 0, t.v.fail("field %d of the table at %d lies outside the %d-byte metadata", i, t.pos, len(t.v.buf))
	}
	return t.pos + o, nil
}

// ref follows the offset in field i (0: absent).
func (t *fbTable) ref(i int) (int, error) {
	p, err := t.field(i, 4)
	if p == 0 || err != nil {
		return 0, err
	}
	o, err := t.v.u32(p)
	if err != nil {
		return 0, err
	}
	target := int64(p) + int64(o)
	if !t.v.in(target, 4) {
		return 0, t.v.fail("field %d of the table at %d points outside the metadata", i, t.pos)
	}
	return int(target), nil
}

// sub checks the table field i points at (nil: absent).
func (t *fbTable) sub(i int) (*fbTable, error) {
	p, err := t.ref(i)
	if p == 0 || err != nil {
		return nil, err
	}
	return t.v.table(p)
}

// vector checks the vector in field i of elements of elem bytes and returns
// the position of its first element and its length.
func (t *fbTable) vector(i, elem int) (start, n int, err error) {
	p, err := t.ref(i)
	if p == 0 || err != nil {
		return 0, 0, err
	}
	l, err := t.v.u32(p)
	if err != nil {
		return 0, 0, err
	}
	if !t.v.in(int64(p)+4, int64(l)*int64(elem)) {
		return 0, 0, t.v.fail("a vector at %d claims %d elements, more than the %d-byte metadata holds", p, l, len(t.v.buf))
	}
	return p + 4, int(l), nil
}

// tables checks every table of the table vector in field i with check.
func (t *fbTable) tables(i int, check func(*fbTable) error) error {
	start, n, err := t.vector(i, 4)
	if err != nil {
		return err
	}
	for k := 0; k < n; k++ {
		p := start + 4*k
		o, _ := t.v.u32(p) // inside the checked vector
		sub, err := t.v.table(p + int(o))
		if err != nil {
			return err
		}
		if err := check(sub); err != nil {
			return err
		}
	}
	return nil
}

func (t *fbTable) i64(i int) (int64, error) {
	p, err := t.field(i, 8)
	if p == 0 || err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(t.v.buf[p:])), nil
}

func (t *fbTable) u8(i int) (byte, error) {
	p, err := t.field(i, 1)
	if p == 0 || err != nil {
		return 0, err
	}
	return t.v.buf[p], nil
}

// keyValues checks a custom_metadata vector.
func (t *fbTable) keyValues(i int) error {
	return t.tables(i, func(kv *fbTable) error {
		if _, _, err := kv.vector(0, 1); err != nil {
			return err
		}
		_, _, err := kv.vector(1, 1)
		return err
	})
}

// ipcViews describes what the batches of a schema must carry: arrow-go
// reads one variadic buffer count from a batch's metadata for each binary_view
// and string_view array, and one field node and a fixed number of buffers
// for each array, by index, without checking that the batch's vectors are
// that long (flatbuf's Nodes and Buffers read past a short vector into
// whatever follows it, and a compressed buffer read there makes arrow-go
// allocate the uncompressed length it finds).
type ipcViews struct {
	record ipcShape           // outside dictionaries: a record batch's
	dicts  map[int64]ipcShape // the value type of each dictionary id
}

// ipcShape counts, for the arrays of one batch (a record batch, or the
// dictionary of one id), the view arrays, field nodes and buffers arrow-go
// reads, and the unions among them (each reads one more buffer, its
// validity bitmap, in metadata before V5).
type ipcShape struct {
	views, nodes, buffers, unions int
}

// Schema.fbs Type union values whose arrays do not have the 2 buffers of
// a primitive array (validity, values).
const (
	typeNull          = 1
	typeBinary        = 4
	typeUtf8          = 5
	typeStruct        = 13
	typeUnion         = 14
	typeFixedSizeList = 16
	typeLargeBinary   = 19
	typeLargeUtf8     = 20
	typeRunEndEncoded = 22
	typeBinaryView    = 23
	typeUtf8View      = 24
	typeListView      = 25
	typeLargeListView = 26
)

// ipcBuffers returns how many buffers arrow-go's loader reads for an array
// of Type union value kind (in V5 metadata; a view array's variadic
// buffers come on top), and whether it is a union; dense reports a dense
// union (it reads its offsets too).
func ipcBuffers(kind byte, dense bool) (n int, union bool) {
	switch kind {
	case typeNull, typeRunEndEncoded:
		return 0, false
	case typeStruct, typeFixedSizeList:
		return 1, false
	case typeUnion:
		if dense {
			return 2, true
		}
		return 1, true
	case typeBinary, typeUtf8, typeLargeBinary, typeLargeUtf8, typeListView, typeLargeListView:
		return 3, false
	default: // primitive, list, large list, map, fixed-size binary, views
		return 2, false
	}
}

// metadataV5 is MetadataVersion.V5 (Schema.fbs).
const metadataV5 = 4

// Schema.fbs: Schema {endianness, fields, custom_metadata, features}.
func (v *ipcVerifier) schema(s *fbTable) error {
	v.schemaViews = &ipcViews{dicts: map[int64]ipcShape{}}
	shape := &v.schemaViews.record
	if err := s.tables(1, func(f *fbTable) error { return v.field(f, 0, shape) }); err != nil {
		return err
	}
	if err := s.keyValues(2); err != nil {
		return err
	}
	_, _, err := s.vector(3, 8)
	return err
}

// Field {name, nullable, type_type, type, dictionary, children, custom_metadata}.
// It adds the field's arrays to shape (a dictionary-encoded field's
// indices; its values make the shape of its dictionary's batches).
func (v *ipcVerifier) field(f *fbTable, depth int, shape *ipcShape) error {
	if depth > MaxIPCNesting {
		return v.fail("fields nested deeper than %d", MaxIPCNesting)
	}
	if _, _, err := f.vector(0, 1); err != nil {
		return err
	}
	typ, err := f.sub(3)
	if err != nil {
		return err
	}
	if d, err := f.sub(4); err != nil {
		return err
	} else if d != nil {
		if _, err := d.sub(1); err != nil { // DictionaryEncoding.indexType
			return err
		}
		id, err := d.i64(0) // DictionaryEncoding.id
		if err != nil {
			return err
		}
		shape.nodes++
		shape.buffers += 2 // the indices: validity, values
		dict := ipcShape{}
		shape = &dict
		defer func() { v.schemaViews.dicts[id] = dict }()
	}
	kind, err := f.u8(2)
	if err != nil {
		return err
	}
	dense := false
	if kind == typeUnion && typ != nil { // Union {mode: short (Sparse, Dense), typeIds}
		p, err := typ.field(0, 2)
		if err != nil {
			return err
		}
		dense = p != 0 && binary.LittleEndian.Uint16(v.buf[p:]) == 1
	}
	n, union := ipcBuffers(kind, dense)
	shape.nodes++
	shape.buffers += n
	if union {
		shape.unions++
	}
	if kind == typeBinaryView || kind == typeUtf8View {
		shape.views++
	}
	if err := f.tables(5, func(c *fbTable) error { return v.field(c, depth+1, shape) }); err != nil {
		return err
	}
	return f.keyValues(6)
}

// RecordBatch {length, nodes, buffers, compression, variadicBufferCounts}:
// buffers lie in the body; row counts are not negative; when the shape of
// the batch's arrays is known (want; nil: not known), the batch has a
// field node for each array, a variadic buffer count for each view array,
// each within the buffers, and every buffer the arrays read (version is
// the message's metadata version).
func (v *ipcVerifier) recordBatch(rb *fbTable, bodyLen int64, want *ipcShape, version int) error {
	rows, err := rb.i64(0)
	if err != nil {
		return err
	}
	if rows < 0 {
		return v.fail("%d rows", rows)
	}
	start, n, err := rb.vector(1, 16)
	if err != nil {
		return err
	}
	if want != nil && n < want.nodes {
		return v.fail("%d field nodes for the %d arrays of the schema", n, want.nodes)
	}
	for k := 0; k < n; k++ {
		length := int64(binary.LittleEndian.Uint64(v.buf[start+16*k:]))
		nulls := int64(binary.LittleEndian.Uint64(v.buf[start+16*k+8:]))
		if length < 0 || nulls < 0 || nulls > length {
			return v.fail("column node %d: length %d with %d nulls", k, length, nulls)
		}
	}
	comp, err := rb.sub(3) // BodyCompression {codec, method}
	if err != nil {
		return err
	}
	if comp != nil {
		codec, err := comp.u8(0)
		if err != nil {
			return err
		}
		if codec != codecLZ4Frame && codec != codecZstd {
			return v.fail("unknown compression codec %d", codec)
		}
		v.codec = int(codec)
	}
	if start, n, err = rb.vector(2, 16); err != nil {
		return err
	}
	for k := 0; k < n; k++ {
		off := int64(binary.LittleEndian.Uint64(v.buf[start+16*k:]))
		length := int64(binary.LittleEndian.Uint64(v.buf[start+16*k+8:]))
		if off < 0 || length < 0 || off > bodyLen || length > bodyLen-off {
			return v.fail("buffer %d (offset %d, %d bytes) lies outside the %d-byte body", k, off, length, bodyLen)
		}
		if comp != nil {
			v.buffers = append(v.buffers, IPCBlock{Offset: off, BodyLen: length})
		}
	}
	// arrow-go sizes a view array's buffer list by its variadic count
	// (reading past the vector if it is short; 0 if it is absent). The
	// format lets a batch leave the vector out only if its schema has no
	// view field (Message.fbs); writers (arrow-go's, Arrow C++'s) write a
	// count for every view array, 0 included: an absent vector is short.
	vstart, vn, err := rb.vector(4, 8)
	if err != nil {
		return err
	}
	if want != nil && vn < want.views {
		return v.fail("%d variadic buffer counts for %d view arrays", vn, want.views)
	}
	total := int64(0)
	for k := 0; k < vn; k++ {
		c := int64(binary.LittleEndian.Uint64(v.buf[vstart+8*k:]))
		if c < 0 || c > int64(n)-total {
			return v.fail("variadic buffer count %d is %d, the batch has %d buffers", k, c, n)
		}
		total += c
	}
	if want != nil {
		need := int64(want.buffers) + total
		if version < metadataV5 {
			need += int64(want.unions)
		}
		if int64(n) < need {
			return v.fail("%d buffers, but the arrays of the schema read %d", n, need)
		}
	}
	return nil
}

// Message.header_type values (Message.fbs).
const (
	headerSchema          = 1
	headerDictionaryBatch = 2
	headerRecordBatch     = 3
)

// message checks a Message {version, header_type, header, bodyLength,
// custom_metadata} whose body may hold at most maxBody bytes, and returns
// its body length.
func (v *ipcVerifier) message(maxBody int64) (int64, error) {
	root, err := v.u32(0)
	if err != nil {
		return 0, err
	}
	m, err := v.table(int(root))
	if err != nil {
		return 0, err
	}
	bodyLen, err := m.i64(3)
	if err != nil {
		return 0, err
	}
	if bodyLen < 0 || bodyLen > maxBody {
		return 0, v.fail("a body of %d bytes, but only %d bytes are left for it", bodyLen, maxBody)
	}
	kind, err := m.u8(1)
	if err != nil {
		return 0, err
	}
	v.kind = kind
	h, err := m.sub(2)
	if err != nil {
		return 0, err
	}
	if h == nil || kind == 0 {
		return 0, v.fail("the message has no header")
	}
	version := 0 // Message.version: MetadataVersion (short), V1 when absent
	if p, err := m.field(0, 2); err != nil {
		return 0, err
	} else if p != 0 {
		version = int(int16(binary.LittleEndian.Uint16(v.buf[p:])))
	}
	switch kind {
	case headerSchema:
		err = v.schema(h)
	case headerDictionaryBatch: // DictionaryBatch {id, data, isDelta}
		var id int64
		if id, err = h.i64(0); err != nil {
			return 0, err
		}
		var want *ipcShape
		if v.views != nil {
			if d, ok := v.views.dicts[id]; ok {
				want = &d
			}
		}
		var rb *fbTable
		if rb, err = h.sub(1); err == nil && rb != nil {
			err = v.recordBatch(rb, bodyLen, want, version)
		}
	case headerRecordBatch:
		var want *ipcShape
		if v.views != nil {
			want = &v.views.record
		}
		err = v.recordBatch(h, bodyLen, want, version)
	}
	if err != nil {
		return 0, err
	}
	return bodyLen, m.keyValues(4)
}

package cli

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// Arrow IPC metadata is a flatbuffer that arrow-go trusts: a corrupt vector
// length there (a field's children, custom metadata) makes it allocate that
// many elements at once, and a few flipped bits ask for tens of GB: the
// process dies of it, beyond any recover. ipcVerifier checks the parts of
// the metadata arrow-go sizes allocations by before arrow-go reads them:
// every offset, table, vector and string lies inside the buffer, the
// number of tables visited is bounded by the buffer's size (shared
// sub-tables cannot fan out), nesting is bounded, and the lengths a
// message or footer declares (bodies, blocks, buffers, rows) fit in the
// file. It is a subset of a flatbuffer verifier for Arrow's Schema.fbs,
// Message.fbs and File.fbs, enough for what arrow-go allocates by.

// errIPCMeta is wrapped by every verification failure.
var errIPCMeta = errors.New("corrupt Arrow IPC metadata")

const maxIPCNesting = 64

// fbTable is a flatbuffer table at pos in buf, with its vtable.
type fbTable struct {
	v           *ipcVerifier
	pos, vt, vl int
	objLen      int
}

type ipcVerifier struct {
	buf    []byte
	what   string // "the schema", "record batch 3", "the footer"
	budget int    // tables left to visit
}

func newIPCVerifier(buf []byte, what string) *ipcVerifier {
	return &ipcVerifier{buf: buf, what: what, budget: len(buf)/4 + 1}
}

func (v *ipcVerifier) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", errIPCMeta, v.what, fmt.Sprintf(format, args...))
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
	if vl < 4 || vl%2 != 0 || !v.in(vt, int64(vl)) || objLen < 4 || !v.in(int64(pos), int64(objLen)) {
		return nil, v.fail("table at %d has a bad vtable", pos)
	}
	return &fbTable{v: v, pos: pos, vt: int(vt), vl: vl, objLen: objLen}, nil
}

// field returns the position of field i's inline value (0: absent) after
// checking that size bytes of it lie in the table.
func (t *fbTable) field(i, size int) (int, error) {
	at := 4 + 2*i
	if at+2 > t.vl {
		return 0, nil
	}
	o := int(binary.LittleEndian.Uint16(t.v.buf[t.vt+at:]))
	if o == 0 {
		return 0, nil
	}
	if o+size > t.objLen {
		return 0, t.v.fail("field %d of the table at %d overruns it", i, t.pos)
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

// Schema.fbs: Schema {endianness, fields, custom_metadata, features}.
func (v *ipcVerifier) schema(s *fbTable) error {
	if err := s.tables(1, func(f *fbTable) error { return v.field(f, 0) }); err != nil {
		return err
	}
	if err := s.keyValues(2); err != nil {
		return err
	}
	_, _, err := s.vector(3, 8)
	return err
}

// Field {name, nullable, type_type, type, dictionary, children, custom_metadata}.
func (v *ipcVerifier) field(f *fbTable, depth int) error {
	if depth > maxIPCNesting {
		return v.fail("fields nested deeper than %d", maxIPCNesting)
	}
	if _, _, err := f.vector(0, 1); err != nil {
		return err
	}
	if _, err := f.sub(3); err != nil {
		return err
	}
	if d, err := f.sub(4); err != nil {
		return err
	} else if d != nil {
		if _, err := d.sub(1); err != nil { // DictionaryEncoding.indexType
			return err
		}
	}
	if err := f.tables(5, func(c *fbTable) error { return v.field(c, depth+1) }); err != nil {
		return err
	}
	return f.keyValues(6)
}

// RecordBatch {length, nodes, buffers, compression, variadicBufferCounts}:
// buffers lie in the body; row counts are not negative.
func (v *ipcVerifier) recordBatch(rb *fbTable, bodyLen int64) error {
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
	for k := 0; k < n; k++ {
		length := int64(binary.LittleEndian.Uint64(v.buf[start+16*k:]))
		nulls := int64(binary.LittleEndian.Uint64(v.buf[start+16*k+8:]))
		if length < 0 || nulls < 0 || nulls > length {
			return v.fail("column node %d: length %d with %d nulls", k, length, nulls)
		}
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
	}
	if _, err := rb.sub(3); err != nil {
		return err
	}
	_, _, err = rb.vector(4, 8)
	return err
}

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
		return 0, v.fail("a body of %d bytes, but only %d bytes of the file are left", bodyLen, maxBody)
	}
	kind, err := m.u8(1)
	if err != nil {
		return 0, err
	}
	h, err := m.sub(2)
	if err != nil {
		return 0, err
	}
	if h != nil {
		switch kind {
		case 1: // Schema
			err = v.schema(h)
		case 2: // DictionaryBatch {id, data, isDelta}
			var rb *fbTable
			if rb, err = h.sub(1); err == nil && rb != nil {
				err = v.recordBatch(rb, bodyLen)
			}
		case 3: // RecordBatch
			err = v.recordBatch(h, bodyLen)
		}
		if err != nil {
			return 0, err
		}
	}
	return bodyLen, m.keyValues(4)
}

// verifyIPCFile checks the footer, schema and every block's message
// metadata of the Arrow IPC file f (size bytes) before arrow-go opens it.
func verifyIPCFile(f io.ReaderAt, size int64) error {
	const magic, tail = 8, 10 // "ARROW1\0\0" ... int32 footer length, "ARROW1"
	if size < magic+tail {
		return fmt.Errorf("%w: the file is too short (%d bytes) for an Arrow IPC file", errIPCMeta, size)
	}
	var t [4]byte
	if _, err := f.ReadAt(t[:], size-tail); err != nil {
		return err
	}
	flen := int64(int32(binary.LittleEndian.Uint32(t[:])))
	if flen <= 0 || flen > size-magic-tail {
		return fmt.Errorf("%w: the footer length %d does not fit in the %d-byte file", errIPCMeta, flen, size)
	}
	footerAt := size - tail - flen
	buf := make([]byte, flen)
	if _, err := f.ReadAt(buf, footerAt); err != nil {
		return err
	}
	v := newIPCVerifier(buf, "the footer")
	root, err := v.u32(0)
	if err != nil {
		return err
	}
	foot, err := v.table(int(root))
	if err != nil {
		return err
	}
	if s, err := foot.sub(1); err != nil {
		return err
	} else if s == nil {
		return v.fail("no schema")
	} else if err := v.schema(s); err != nil {
		return err
	}
	if err := foot.keyValues(4); err != nil {
		return err
	}
	// Blocks {offset int64, metaDataLength int32, pad, bodyLength int64}.
	for _, kind := range []struct {
		field int
		name  string
	}{{2, "dictionary batch"}, {3, "record batch"}} {
		start, n, err := foot.vector(kind.field, 24)
		if err != nil {
			return err
		}
		for k := 0; k < n; k++ {
			b := buf[start+24*k:]
			off := int64(binary.LittleEndian.Uint64(b))
			metaLen := int64(int32(binary.LittleEndian.Uint32(b[8:])))
			bodyLen := int64(binary.LittleEndian.Uint64(b[16:]))
			what := fmt.Sprintf("%s %d", kind.name, k)
			if off < magic || metaLen < 8 || bodyLen < 0 || off > footerAt || metaLen > footerAt-off || bodyLen > footerAt-off-metaLen {
				return fmt.Errorf("%w: %s: the footer places it at offset %d (%d + %d bytes), outside the file's %d bytes of data",
					errIPCMeta, what, off, metaLen, bodyLen, footerAt)
			}
			meta := make([]byte, metaLen)
			if _, err := f.ReadAt(meta, off); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			prefix := 8
			switch binary.LittleEndian.Uint32(meta) {
			case 0xFFFFFFFF:
			default:
				prefix = 4 // before Arrow 0.15: no continuation marker
			}
			mv := newIPCVerifier(meta[prefix:], what)
			if _, err := mv.message(bodyLen); err != nil {
				return err
			}
		}
	}
	return nil
}

// ipcStreamVerifier passes an Arrow IPC stream through, checking each
// message's metadata (and that its body fits in the bytes left) before
// handing it on.
type ipcStreamVerifier struct {
	r       *bufio.Reader
	left    int64 // bytes of the file not yet read
	pending []byte
	body    int64 // body bytes to pass through
	n       int   // messages seen
	done    bool
	err     error
}

func newIPCStreamVerifier(f *os.File, size int64) *ipcStreamVerifier {
	return &ipcStreamVerifier{r: bufio.NewReaderSize(f, 1<<16), left: size}
}

func (s *ipcStreamVerifier) Read(p []byte) (int, error) {
	for len(s.pending) == 0 && s.body == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.done {
			return s.r.Read(p)
		}
		s.err = s.next()
	}
	if len(s.pending) > 0 {
		n := copy(p, s.pending)
		s.pending = s.pending[n:]
		return n, nil
	}
	if int64(len(p)) > s.body {
		p = p[:s.body]
	}
	n, err := s.r.Read(p)
	s.body -= int64(n)
	s.left -= int64(n)
	if err == io.EOF && s.body > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// next reads the framing and metadata of the next message into pending.
func (s *ipcStreamVerifier) next() error {
	head := make([]byte, 4, 8)
	if _, err := io.ReadFull(s.r, head); err != nil {
		if err == io.EOF {
			s.done = true
			return nil
		}
		return err
	}
	mlen := binary.LittleEndian.Uint32(head)
	if mlen == 0xFFFFFFFF {
		head = head[:8]
		if _, err := io.ReadFull(s.r, head[4:]); err != nil {
			return err
		}
		mlen = binary.LittleEndian.Uint32(head[4:])
	}
	s.left -= int64(len(head))
	if mlen == 0 { // end of stream
		s.pending, s.done = head, true
		return nil
	}
	what := fmt.Sprintf("message %d", s.n)
	if s.n == 0 {
		what = "the schema"
	}
	s.n++
	if int64(mlen) > s.left {
		return fmt.Errorf("%w: %s: %d bytes of metadata, but only %d bytes of the file are left", errIPCMeta, what, mlen, s.left)
	}
	meta := make([]byte, mlen)
	if _, err := io.ReadFull(s.r, meta); err != nil {
		return err
	}
	s.left -= int64(mlen)
	body, err := newIPCVerifier(meta, what).message(s.left)
	if err != nil {
		return err
	}
	s.pending, s.body = append(head, meta...), body
	return nil
}

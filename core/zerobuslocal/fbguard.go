package zerobuslocal

import (
	"encoding/binary"
	"errors"
)

// arrow-go's IPC reader trusts the vector lengths inside the flatbuffer
// header of each message (a corrupt schema message can make it allocate
// gigabytes before failing). checkIPCHeader bounds-checks the parts it
// allocates from — the Schema's field and metadata vectors, recursively
// through child fields, and a RecordBatch's node, buffer and variadic count
// vectors — before a FlightData reaches the reader.

var errBadIPCHeader = errors.New("malformed Arrow IPC message header")

// Message.header_type values (Arrow Message.fbs).
const (
	fbHeaderSchema          = 1
	fbHeaderDictionaryBatch = 2
	fbHeaderRecordBatch     = 3
)

type fbBuf []byte

func (b fbBuf) u32(p int) (int, bool) {
	if p < 0 || p+4 > len(b) {
		return 0, false
	}
	return int(binary.LittleEndian.Uint32(b[p:])), true
}

func (b fbBuf) u16(p int) (int, bool) {
	if p < 0 || p+2 > len(b) {
		return 0, false
	}
	return int(binary.LittleEndian.Uint16(b[p:])), true
}

// table is a flatbuffer table at pos with its vtable.
type fbTable struct {
	b       fbBuf
	pos, vt int
	vtLen   int
}

func (b fbBuf) table(pos int) (fbTable, bool) {
	so, ok := b.u32(pos)
	if !ok {
		return fbTable{}, false
	}
	vt := pos - int(int32(uint32(so)))
	vtLen, ok := b.u16(vt)
	if !ok || vtLen < 4 || vt+vtLen > len(b) {
		return fbTable{}, false
	}
	return fbTable{b: b, pos: pos, vt: vt, vtLen: vtLen}, true
}

// field returns the position of slot's value (present false when absent).
func (t fbTable) field(slot int) (pos int, present, ok bool) {
	voff := 4 + 2*slot
	if voff+2 > t.vtLen {
		return 0, false, true
	}
	off, ok := t.b.u16(t.vt + voff)
	if !ok {
		return 0, false, false
	}
	if off == 0 {
		return 0, false, true
	}
	return t.pos + off, true, t.pos+off < len(t.b)
}

// ref follows the offset stored at slot to a table, vector or string.
func (t fbTable) ref(slot int) (pos int, present, ok bool) {
	p, present, ok := t.field(slot)
	if !present || !ok {
		return 0, present, ok
	}
	off, ok := t.b.u32(p)
	if !ok || p+off >= len(t.b) {
		return 0, true, false
	}
	return p + off, true, true
}

// vector checks the vector at slot (elements of elemSize bytes) and returns
// its element count and the position of element 0.
func (t fbTable) vector(slot, elemSize int) (start, n int, ok bool) {
	p, present, ok := t.ref(slot)
	if !present || !ok {
		return 0, 0, ok
	}
	n, ok = t.b.u32(p)
	if !ok || n > (len(t.b)-p-4)/elemSize {
		return 0, 0, false
	}
	return p + 4, n, true
}

// tables checks a vector of table offsets and calls fn on each table.
func (t fbTable) tables(slot int, fn func(fbTable) bool) bool {
	start, n, ok := t.vector(slot, 4)
	if !ok {
		return false
	}
	for i := 0; i < n; i++ {
		p := start + 4*i
		off, ok := t.b.u32(p)
		if !ok {
			return false
		}
		sub, ok := t.b.table(p + off)
		if !ok || !fn(sub) {
			return false
		}
	}
	return true
}

func checkIPCHeader(hdr []byte) error {
	b := fbBuf(hdr)
	root, ok := b.u32(0)
	if !ok {
		return errBadIPCHeader
	}
	msg, ok := b.table(root)
	if !ok {
		return errBadIPCHeader
	}
	htPos, present, ok := msg.field(1)
	if !ok || !present || htPos >= len(b) {
		return errBadIPCHeader
	}
	headerType := int(b[htPos])
	hp, present, ok := msg.ref(2)
	if !ok || !present {
		return errBadIPCHeader
	}
	header, ok := b.table(hp)
	if !ok || !checkMetadata(msg, 4) {
		return errBadIPCHeader
	}
	switch headerType {
	case fbHeaderSchema:
		ok = header.tables(1, func(f fbTable) bool { return checkField(f, 0) }) && checkMetadata(header, 2)
	case fbHeaderRecordBatch:
		ok = checkRecordBatch(header)
	case fbHeaderDictionaryBatch:
		dp, present, rok := header.ref(1)
		if rok && present {
			var rb fbTable
			rb, ok = b.table(dp)
			ok = ok && checkRecordBatch(rb)
		} else {
			ok = rok
		}
	}
	if !ok {
		return errBadIPCHeader
	}
	return nil
}

// checkField checks a Field: its name, children (recursively) and metadata.
func checkField(f fbTable, depth int) bool {
	if depth > 64 {
		return false
	}
	if _, _, ok := f.vector(0, 1); !ok { // name: a string is a byte vector
		return false
	}
	return f.tables(5, func(c fbTable) bool { return checkField(c, depth+1) }) && checkMetadata(f, 6)
}

// checkMetadata checks a custom_metadata vector of KeyValue tables.
func checkMetadata(t fbTable, slot int) bool {
	return t.tables(slot, func(kv fbTable) bool {
		_, _, ok1 := kv.vector(0, 1)
		_, _, ok2 := kv.vector(1, 1)
		return ok1 && ok2
	})
}

// checkRecordBatch checks the struct vectors of a RecordBatch: nodes and
// buffers (16 bytes each) and variadicBufferCounts (8 bytes each).
func checkRecordBatch(rb fbTable) bool {
	_, _, ok1 := rb.vector(1, 16)
	_, _, ok2 := rb.vector(2, 16)
	_, _, ok3 := rb.vector(4, 8)
	return ok1 && ok2 && ok3
}

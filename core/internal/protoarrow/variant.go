package protoarrow

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"
)

// The Parquet Variant binary encoding (a metadata dictionary of keys and a
// value whose first byte gives its basic type), read from untrusted bytes:
// the local server decodes the VARIANT values a client sends over Flight,
// the Flight client checks the values its caller gives already encoded
// before sending them. arrow-go's own decoder panics on malformed input
// (see the seed corpus in testdata/fuzz/FuzzVariantJSON); this one checks
// every length and offset against the bytes given before using it, so a
// malformed value is an error naming what is wrong, never a panic or an
// allocation sized by the input.

// MaxVariantDepth bounds the nesting of VARIANT objects and arrays, read
// and parsed: at most this many may be open at once, one inside the other.
// It is Spark's parse_json limit (Jackson's default maximum nesting depth),
// counted the same way: 1000 arrays around a number or a string are taken,
// 1000 around an empty array (1001 arrays) are refused.
const MaxVariantDepth = 1000

// VariantJSON decodes one VARIANT value into the JSON text a PROTO stream
// sends for a VARIANT column: objects keep the stored key order, numbers
// their exact digits; dates, times, timestamps, binaries (base64) and UUIDs
// become JSON strings, and a float that is infinite or NaN the JSON string
// Spark's to_json writes for it ("Infinity", "-Infinity", "NaN").
func VariantJSON(meta, value []byte) ([]byte, error) {
	return decodeVariant(meta, value, false)
}

// CheckVariant reports whether VariantJSON decodes (meta, value), with its
// error, without building the text: no allocation for a well-formed value.
func CheckVariant(meta, value []byte) error {
	var c VariantChecker
	return c.Check(meta, value)
}

// A VariantChecker checks values as CheckVariant does, reading a metadata
// dictionary once for consecutive values that share it byte for byte (the
// values of a column often do). The zero value is ready to use.
type VariantChecker struct {
	keys dictionary // of the last metadata read, when ok
	ok   bool
}

// Check is CheckVariant(meta, value).
func (c *VariantChecker) Check(meta, value []byte) error {
	if !c.ok || !bytes.Equal(meta, c.keys.meta) {
		keys, err := variantKeys(meta)
		if err != nil {
			c.ok = false
			return fmt.Errorf("VARIANT metadata is malformed: %w", err)
		}
		c.keys, c.ok = keys, true
	}
	_, err := decodeValue(c.keys, value, true)
	return err
}

func decodeVariant(meta, value []byte, check bool) ([]byte, error) {
	keys, err := variantKeys(meta)
	if err != nil {
		return nil, fmt.Errorf("VARIANT metadata is malformed: %w", err)
	}
	return decodeValue(keys, value, check)
}

// decodeValue reads value with the dictionary keys.
func decodeValue(keys dictionary, value []byte, check bool) ([]byte, error) {
	d := variantDecoder{keys: keys, check: check}
	out, n, err := d.value(nil, value, 0)
	if err != nil {
		return nil, fmt.Errorf("VARIANT value is malformed: %w", err)
	}
	if n != len(value) {
		return nil, fmt.Errorf("VARIANT value is malformed: %d bytes after the value", len(value)-n)
	}
	return out, nil
}

// dictionary is the metadata's key dictionary: size keys whose offsets (osz
// bytes each, in order, checked by variantKeys) start at offs, their bytes
// at start.
type dictionary struct {
	meta                   []byte
	size, osz, offs, start int
}

// key returns key id's bytes (id < size).
func (k dictionary) key(id int) []byte {
	lo, _ := readUint(k.meta, k.offs+id*k.osz, k.osz)
	hi, _ := readUint(k.meta, k.offs+(id+1)*k.osz, k.osz)
	return k.meta[k.start+lo : k.start+hi]
}

// variantKeys reads and checks the metadata's key dictionary.
func variantKeys(meta []byte) (dictionary, error) {
	if len(meta) < 1 {
		return dictionary{}, fmt.Errorf("empty")
	}
	if v := meta[0] & 0x0f; v != 1 {
		return dictionary{}, fmt.Errorf("version %d, want 1", v)
	}
	osz := int(meta[0]>>6) + 1
	size, ok := readUint(meta, 1, osz)
	if !ok {
		return dictionary{}, fmt.Errorf("%d bytes: too short for the dictionary size", len(meta))
	}
	offsets := 1 + osz
	start := offsets + (size+1)*osz
	if size > len(meta) || start > len(meta) {
		return dictionary{}, fmt.Errorf("a dictionary of %d keys does not fit in %d bytes", size, len(meta))
	}
	prev := 0
	for k := range size + 1 {
		o, _ := readUint(meta, offsets+k*osz, osz)
		if o < prev || start+o > len(meta) {
			return dictionary{}, fmt.Errorf("key offset %d is out of order or past the end", k)
		}
		prev = o
	}
	d := dictionary{meta: meta, size: size, osz: osz, offs: offsets, start: start}
	// Every key is UTF-8 when their bytes are and none starts inside a
	// character; else the first key that is not is named.
	ok = utf8.Valid(meta[start : start+prev])
	for k := 0; ok && k < size; k++ {
		if o, _ := readUint(meta, offsets+k*osz, osz); start+o < len(meta) && !utf8.RuneStart(meta[start+o]) {
			ok = false
		}
	}
	for k := 0; !ok && k < size; k++ {
		if !utf8.Valid(d.key(k)) {
			return dictionary{}, fmt.Errorf("key %d: %w", k, errNotUTF8)
		}
	}
	return d, nil
}

// readUint reads an n-byte little-endian unsigned integer at b[at:].
func readUint(b []byte, at, n int) (int, bool) {
	if at < 0 || n < 0 || at+n > len(b) {
		return 0, false
	}
	b = b[at : at+n]
	switch n {
	case 1:
		return int(b[0]), true
	case 2:
		return int(binary.LittleEndian.Uint16(b)), true
	case 4:
		return int(binary.LittleEndian.Uint32(b)), true
	}
	v := 0
	for k, c := range b {
		v |= int(c) << (8 * k)
	}
	return v, true
}

type variantDecoder struct {
	keys  dictionary
	check bool // only check: nothing is appended
}

// value appends the JSON of the value at the start of b and returns how
// many bytes of b it took.
func (d *variantDecoder) value(out, b []byte, depth int) ([]byte, int, error) {
	if len(b) == 0 {
		return out, 0, fmt.Errorf("a value has no bytes")
	}
	hdr := b[0] >> 2
	switch b[0] & 3 {
	case 0:
		n, err := primitiveSize(b, hdr)
		if err != nil || d.check {
			return out, n, err
		}
		return appendPrimitive(out, b[1:n], hdr), n, nil
	case 1: // short string: the length is in the header
		n := int(hdr)
		if 1+n > len(b) {
			return out, 0, fmt.Errorf("short string of %d bytes past the end", n)
		}
		out, err := d.appendString(out, b[1:1+n])
		return out, 1 + n, err
	}
	// depth objects and arrays are open around this one.
	if depth >= MaxVariantDepth {
		return out, 0, fmt.Errorf("objects and arrays nested more than %d levels deep", MaxVariantDepth)
	}
	if b[0]&3 == 2 {
		return d.object(out, b, hdr, depth)
	}
	return d.array(out, b, hdr, depth)
}

// primitiveSize checks the primitive value of type kind at the start of b
// (its bytes lie in b, a decimal's scale is at most 38, a string is UTF-8)
// and returns its size, header byte included.
func primitiveSize(b []byte, kind byte) (int, error) {
	var n int
	switch kind {
	case 0, 1, 2: // null, true, false
	case 3, 4, 5, 6: // int8 … int64
		n = 1 << (kind - 3)
	case 7, 12, 13, 17, 18, 19: // double, timestamps, time of day
		n = 8
	case 14, 11: // float, date
		n = 4
	case 8, 9, 10: // decimal4, decimal8, decimal16: scale byte, then the unscaled integer
		n = 1 + 4<<(kind-8)
	case 20: // uuid
		n = 16
	case 15, 16: // binary, string: 4-byte length
		l, ok := readUint(b, 1, 4)
		if !ok || 5+l > len(b) {
			return 0, fmt.Errorf("binary or string past the end")
		}
		if kind == 16 && !utf8.Valid(b[5:5+l]) {
			return 0, errNotUTF8
		}
		return 5 + l, nil
	default:
		return 0, fmt.Errorf("unknown primitive type %d", kind)
	}
	if 1+n > len(b) {
		return 0, fmt.Errorf("primitive type %d needs %d bytes, has %d", kind, n, len(b)-1)
	}
	if kind >= 8 && kind <= 10 && b[1] > 38 {
		return 0, fmt.Errorf("decimal scale %d above 38", b[1])
	}
	return 1 + n, nil
}

var errNotUTF8 = errors.New("string is not valid UTF-8")

// appendPrimitive appends the JSON of the primitive of type kind whose
// bytes after the header are v, as checked by primitiveSize.
func appendPrimitive(out, v []byte, kind byte) []byte {
	le := binary.LittleEndian
	switch kind {
	case 0:
		return append(out, "null"...)
	case 1:
		return append(out, "true"...)
	case 2:
		return append(out, "false"...)
	case 3:
		return strconv.AppendInt(out, int64(int8(v[0])), 10)
	case 4:
		return strconv.AppendInt(out, int64(int16(le.Uint16(v))), 10)
	case 5:
		return strconv.AppendInt(out, int64(int32(le.Uint32(v))), 10)
	case 6:
		return strconv.AppendInt(out, int64(le.Uint64(v)), 10)
	case 7, 14: // double, float
		f, bits := float64(math.Float32frombits(le.Uint32(v))), 32
		if kind == 7 {
			f, bits = math.Float64frombits(le.Uint64(v)), 64
		}
		switch {
		case math.IsInf(f, 1):
			return append(out, `"Infinity"`...)
		case math.IsInf(f, -1):
			return append(out, `"-Infinity"`...)
		case math.IsNaN(f):
			return append(out, `"NaN"`...)
		}
		return strconv.AppendFloat(out, f, 'g', -1, bits)
	case 8, 9, 10:
		return appendDecimal(out, v[1:], int(v[0]))
	case 11: // date: days since 1970-01-01
		t := time.Unix(0, 0).UTC().AddDate(0, 0, int(int32(le.Uint32(v))))
		return strconv.AppendQuote(out, t.Format("2006-01-02"))
	case 12, 13, 18, 19: // timestamps (micros or nanos, UTC or NTZ)
		x := int64(le.Uint64(v))
		t := time.Unix(0, x).UTC()
		if kind == 12 || kind == 13 {
			t = time.UnixMicro(x).UTC()
		}
		layout := "2006-01-02T15:04:05.999999999Z07:00"
		if kind == 13 || kind == 19 {
			layout = "2006-01-02T15:04:05.999999999"
		}
		return strconv.AppendQuote(out, t.Format(layout))
	case 17: // time of day, micros
		t := time.UnixMicro(int64(le.Uint64(v))).UTC()
		return strconv.AppendQuote(out, t.Format("15:04:05.999999"))
	case 15: // binary
		return strconv.AppendQuote(out, base64.StdEncoding.EncodeToString(v[4:]))
	case 16: // string
		out, _ = appendJSONString(out, v[4:])
		return out
	default: // 20: uuid, big-endian
		return strconv.AppendQuote(out, fmt.Sprintf("%x-%x-%x-%x-%x", v[0:4], v[4:6], v[6:8], v[8:10], v[10:16]))
	}
}

// layout is where the parts of an object or array lie in its bytes: the
// element count, the field ids (objects), the count+1 offsets, the values
// and their end (data+end is the container's size).
type layout struct {
	n, ids, offs, osz, data, end int
}

// container reads the layout of an object or array: the count (1 or 4
// bytes), ids (idSize each, objects only), count+1 offsets of osz bytes,
// then the values; every part must lie within b.
func container(b []byte, large bool, idSize, osz int) (layout, error) {
	cnt := 1
	if large {
		cnt = 4
	}
	n, ok := readUint(b, 1, cnt)
	if !ok {
		return layout{}, fmt.Errorf("too short for its element count")
	}
	l := layout{n: n, ids: 1 + cnt, osz: osz}
	l.offs = l.ids + n*idSize
	l.data = l.offs + (n+1)*osz
	if n > len(b) || l.data > len(b) {
		return layout{}, fmt.Errorf("%d elements do not fit in %d bytes", n, len(b))
	}
	l.end, _ = readUint(b, l.offs+n*osz, osz)
	if l.data+l.end > len(b) {
		return layout{}, fmt.Errorf("values of %d bytes past the end", l.end)
	}
	return l, nil
}

// offset is element i's value offset (i == n: the end).
func (l layout) offset(b []byte, i int) int {
	o, _ := readUint(b, l.offs+i*l.osz, l.osz)
	return o
}

func (d *variantDecoder) object(out, b []byte, hdr byte, depth int) ([]byte, int, error) {
	idSize := int(hdr>>2&3) + 1
	l, err := container(b, hdr&0x10 != 0, idSize, int(hdr&3)+1)
	if err != nil {
		return out, 0, fmt.Errorf("object: %w", err)
	}
	out = d.appendByte(out, '{')
	// The fields' values may lie in any order, but not on top of each
	// other: their sizes add up to at most the object's values (or fields
	// all pointing at one value, at every level, would be read 2^depth
	// times).
	total := 0
	for i := range l.n {
		id, _ := readUint(b, l.ids+i*idSize, idSize)
		if id >= d.keys.size {
			return out, 0, fmt.Errorf("object field %d names key %d, the dictionary has %d", i, id, d.keys.size)
		}
		o := l.offset(b, i)
		if o >= l.end {
			return out, 0, fmt.Errorf("object field %d starts past the object's end", i)
		}
		if i > 0 {
			out = d.appendByte(out, ',')
		}
		if !d.check { // keys are UTF-8 (variantKeys)
			out, _ = appendJSONString(out, d.keys.key(id))
			out = append(out, ':')
		}
		var used int
		if out, used, err = d.value(out, b[l.data+o:l.data+l.end], depth+1); err != nil {
			return out, 0, err
		}
		if total += used; total > l.end {
			return out, 0, fmt.Errorf("object fields' values overlap (%d bytes of values in %d)", total, l.end)
		}
	}
	return d.appendByte(out, '}'), l.data + l.end, nil
}

func (d *variantDecoder) array(out, b []byte, hdr byte, depth int) ([]byte, int, error) {
	l, err := container(b, hdr&0x04 != 0, 0, int(hdr&3)+1)
	if err != nil {
		return out, 0, fmt.Errorf("array: %w", err)
	}
	out = d.appendByte(out, '[')
	for i := range l.n {
		lo, hi := l.offset(b, i), l.offset(b, i+1)
		if lo > hi || hi > l.end {
			return out, 0, fmt.Errorf("array element %d has offsets %d..%d outside 0..%d", i, lo, hi, l.end)
		}
		if i > 0 {
			out = d.appendByte(out, ',')
		}
		var used int
		if out, used, err = d.value(out, b[l.data+lo:l.data+hi], depth+1); err != nil {
			return out, 0, err
		}
		if used != hi-lo {
			return out, 0, fmt.Errorf("array element %d is %d bytes, its offsets say %d", i, used, hi-lo)
		}
	}
	return d.appendByte(out, ']'), l.data + l.end, nil
}

func (d *variantDecoder) appendByte(out []byte, c byte) []byte {
	if d.check {
		return out
	}
	return append(out, c)
}

// appendString appends s quoted as JSON after checking it is UTF-8.
func (d *variantDecoder) appendString(out, s []byte) ([]byte, error) {
	if !utf8.Valid(s) {
		return out, errNotUTF8
	}
	if d.check {
		return out, nil
	}
	return appendJSONString(out, s)
}

// appendJSONString appends s (UTF-8) quoted as JSON.
func appendJSONString(out, s []byte) ([]byte, error) {
	q, err := json.Marshal(string(s))
	if err != nil {
		return out, err
	}
	return append(out, q...), nil
}

// appendDecimal appends the little-endian two's-complement unscaled value
// v with scale digits after the point.
func appendDecimal(out, v []byte, scale int) []byte {
	be := make([]byte, len(v))
	for i := range v {
		be[len(v)-1-i] = v[i]
	}
	x := new(big.Int).SetBytes(be)
	if v[len(v)-1]&0x80 != 0 { // negative: subtract 2^(8·len)
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(v))))
	}
	digits := x.String()
	neg := digits[0] == '-'
	if neg {
		out = append(out, '-')
		digits = digits[1:]
	}
	if scale == 0 {
		return append(out, digits...)
	}
	for len(digits) <= scale {
		digits = "0" + digits
	}
	p := len(digits) - scale
	out = append(out, digits[:p]...)
	out = append(out, '.')
	return append(out, digits[p:]...)
}

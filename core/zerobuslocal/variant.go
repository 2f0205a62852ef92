package zerobuslocal

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf8"
)

// The server's own reader of VARIANT values sent over Flight (the Parquet
// Variant binary encoding: a metadata dictionary of keys and a value whose
// first byte gives its basic type). Every length and offset is checked
// against the bytes received before it is used, so a malformed value from
// a client is an error naming what is wrong, never a panic or an
// allocation sized by the input. The stored form is the JSON text a PROTO
// stream sends for a VARIANT column: objects keep the stored key order,
// numbers their exact digits, dates, times, timestamps, binaries and UUIDs
// become JSON strings.

// maxVariantDepth bounds the nesting of VARIANT objects and arrays read.
const maxVariantDepth = 100

// variantJSON decodes one VARIANT value into JSON text.
func variantJSON(meta, value []byte) ([]byte, error) {
	keys, err := variantKeys(meta)
	if err != nil {
		return nil, fmt.Errorf("VARIANT metadata is malformed: %w", err)
	}
	d := variantDecoder{keys: keys, meta: meta}
	out, n, err := d.value(nil, value, 0)
	if err != nil {
		return nil, fmt.Errorf("VARIANT value is malformed: %w", err)
	}
	if n != len(value) {
		return nil, fmt.Errorf("VARIANT value is malformed: %d bytes after the value", len(value)-n)
	}
	return out, nil
}

// keyRange is one dictionary key's [lo, hi) in the metadata.
type keyRange struct{ lo, hi int }

// variantKeys reads the metadata's key dictionary.
func variantKeys(meta []byte) ([]keyRange, error) {
	if len(meta) < 1 {
		return nil, fmt.Errorf("empty")
	}
	if v := meta[0] & 0x0f; v != 1 {
		return nil, fmt.Errorf("version %d, want 1", v)
	}
	osz := int(meta[0]>>6) + 1
	size, ok := readUint(meta, 1, osz)
	if !ok {
		return nil, fmt.Errorf("%d bytes: too short for the dictionary size", len(meta))
	}
	offsets := 1 + osz
	start := offsets + (size+1)*osz
	if size > len(meta) || start > len(meta) {
		return nil, fmt.Errorf("a dictionary of %d keys does not fit in %d bytes", size, len(meta))
	}
	keys := make([]keyRange, size)
	prev := 0
	for k := range size + 1 {
		o, _ := readUint(meta, offsets+k*osz, osz)
		if o < prev || start+o > len(meta) {
			return nil, fmt.Errorf("key offset %d is out of order or past the end", k)
		}
		if k > 0 {
			keys[k-1] = keyRange{start + prev, start + o}
		}
		prev = o
	}
	return keys, nil
}

// readUint reads an n-byte little-endian unsigned integer at b[at:].
func readUint(b []byte, at, n int) (int, bool) {
	if at < 0 || n < 0 || at+n > len(b) {
		return 0, false
	}
	v := 0
	for k := range n {
		v |= int(b[at+k]) << (8 * k)
	}
	return v, true
}

type variantDecoder struct {
	keys []keyRange
	meta []byte
}

// value appends the JSON of the value at the start of b and returns how
// many bytes of b it took.
func (d *variantDecoder) value(out, b []byte, depth int) ([]byte, int, error) {
	if depth > maxVariantDepth {
		return out, 0, fmt.Errorf("nested deeper than %d levels", maxVariantDepth)
	}
	if len(b) == 0 {
		return out, 0, fmt.Errorf("a value has no bytes")
	}
	hdr := b[0] >> 2
	switch b[0] & 3 {
	case 0:
		return d.primitive(out, b, hdr)
	case 1: // short string: the length is in the header
		n := int(hdr)
		if 1+n > len(b) {
			return out, 0, fmt.Errorf("short string of %d bytes past the end", n)
		}
		out, err := appendJSONString(out, b[1:1+n])
		return out, 1 + n, err
	case 2:
		return d.object(out, b, hdr, depth)
	default:
		return d.array(out, b, hdr, depth)
	}
}

func (d *variantDecoder) primitive(out, b []byte, kind byte) ([]byte, int, error) {
	fixed := func(n int) ([]byte, error) {
		if 1+n > len(b) {
			return nil, fmt.Errorf("primitive type %d needs %d bytes, has %d", kind, n, len(b)-1)
		}
		return b[1 : 1+n], nil
	}
	le := binary.LittleEndian
	switch kind {
	case 0:
		return append(out, "null"...), 1, nil
	case 1:
		return append(out, "true"...), 1, nil
	case 2:
		return append(out, "false"...), 1, nil
	case 3, 4, 5, 6: // int8 … int64
		n := 1 << (kind - 3)
		v, err := fixed(n)
		if err != nil {
			return out, 0, err
		}
		var x int64
		switch n {
		case 1:
			x = int64(int8(v[0]))
		case 2:
			x = int64(int16(le.Uint16(v)))
		case 4:
			x = int64(int32(le.Uint32(v)))
		default:
			x = int64(le.Uint64(v))
		}
		return strconv.AppendInt(out, x, 10), 1 + n, nil
	case 7, 14: // double, float
		n, bits := 8, 64
		if kind == 14 {
			n, bits = 4, 32
		}
		v, err := fixed(n)
		if err != nil {
			return out, 0, err
		}
		var f float64
		if n == 4 {
			f = float64(math.Float32frombits(le.Uint32(v)))
		} else {
			f = math.Float64frombits(le.Uint64(v))
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return strconv.AppendQuote(out, strconv.FormatFloat(f, 'g', -1, bits)), 1 + n, nil
		}
		return strconv.AppendFloat(out, f, 'g', -1, bits), 1 + n, nil
	case 8, 9, 10: // decimal4, decimal8, decimal16: scale byte, then the unscaled integer
		n := 4 << (kind - 8)
		v, err := fixed(1 + n)
		if err != nil {
			return out, 0, err
		}
		scale := int(v[0])
		if scale > 38 {
			return out, 0, fmt.Errorf("decimal scale %d above 38", scale)
		}
		return appendDecimal(out, v[1:], scale), 2 + n, nil
	case 11: // date: days since 1970-01-01
		v, err := fixed(4)
		if err != nil {
			return out, 0, err
		}
		t := time.Unix(0, 0).UTC().AddDate(0, 0, int(int32(le.Uint32(v))))
		return strconv.AppendQuote(out, t.Format("2006-01-02")), 5, nil
	case 12, 13, 18, 19: // timestamps (micros or nanos, UTC or NTZ)
		v, err := fixed(8)
		if err != nil {
			return out, 0, err
		}
		x := int64(le.Uint64(v))
		var t time.Time
		if kind == 12 || kind == 13 {
			t = time.UnixMicro(x).UTC()
		} else {
			t = time.Unix(0, x).UTC()
		}
		layout := "2006-01-02T15:04:05.999999999Z07:00"
		if kind == 13 || kind == 19 {
			layout = "2006-01-02T15:04:05.999999999"
		}
		return strconv.AppendQuote(out, t.Format(layout)), 9, nil
	case 17: // time of day, micros
		v, err := fixed(8)
		if err != nil {
			return out, 0, err
		}
		us := int64(le.Uint64(v))
		t := time.UnixMicro(us).UTC()
		return strconv.AppendQuote(out, t.Format("15:04:05.999999")), 9, nil
	case 15, 16: // binary, string: 4-byte length
		n, ok := readUint(b, 1, 4)
		if !ok || 5+n > len(b) {
			return out, 0, fmt.Errorf("binary or string past the end")
		}
		if kind == 15 {
			return strconv.AppendQuote(out, base64.StdEncoding.EncodeToString(b[5:5+n])), 5 + n, nil
		}
		out, err := appendJSONString(out, b[5:5+n])
		return out, 5 + n, err
	case 20: // uuid, big-endian
		v, err := fixed(16)
		if err != nil {
			return out, 0, err
		}
		return strconv.AppendQuote(out, fmt.Sprintf("%x-%x-%x-%x-%x", v[0:4], v[4:6], v[6:8], v[8:10], v[10:16])), 17, nil
	}
	return out, 0, fmt.Errorf("unknown primitive type %d", kind)
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
	out = append(out, '{')
	for i := range l.n {
		id, _ := readUint(b, l.ids+i*idSize, idSize)
		if id >= len(d.keys) {
			return out, 0, fmt.Errorf("object field %d names key %d, the dictionary has %d", i, id, len(d.keys))
		}
		o := l.offset(b, i)
		if o >= l.end {
			return out, 0, fmt.Errorf("object field %d starts past the object's end", i)
		}
		if i > 0 {
			out = append(out, ',')
		}
		k := d.keys[id]
		if out, err = appendJSONString(out, d.meta[k.lo:k.hi]); err != nil {
			return out, 0, fmt.Errorf("key %d: %w", id, err)
		}
		out = append(out, ':')
		if out, _, err = d.value(out, b[l.data+o:l.data+l.end], depth+1); err != nil {
			return out, 0, err
		}
	}
	return append(out, '}'), l.data + l.end, nil
}

func (d *variantDecoder) array(out, b []byte, hdr byte, depth int) ([]byte, int, error) {
	l, err := container(b, hdr&0x04 != 0, 0, int(hdr&3)+1)
	if err != nil {
		return out, 0, fmt.Errorf("array: %w", err)
	}
	out = append(out, '[')
	for i := range l.n {
		lo, hi := l.offset(b, i), l.offset(b, i+1)
		if lo > hi || hi > l.end {
			return out, 0, fmt.Errorf("array element %d has offsets %d..%d outside 0..%d", i, lo, hi, l.end)
		}
		if i > 0 {
			out = append(out, ',')
		}
		var used int
		if out, used, err = d.value(out, b[l.data+lo:l.data+hi], depth+1); err != nil {
			return out, 0, err
		}
		if used != hi-lo {
			return out, 0, fmt.Errorf("array element %d is %d bytes, its offsets say %d", i, used, hi-lo)
		}
	}
	return append(out, ']'), l.data + l.end, nil
}

// appendJSONString appends s quoted as JSON; s must be UTF-8.
func appendJSONString(out, s []byte) ([]byte, error) {
	if !utf8.Valid(s) {
		return out, fmt.Errorf("string is not valid UTF-8")
	}
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

package convert

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// A MAP value gives each key once, on both transports: an Arrow map may hold
// a key twice (pyarrow builds maps from lists of pairs, arrow-go's
// MapBuilder appends what it is given), but a protobuf map keeps only the
// last entry of a key and Spark refuses such a map (mapKeyDedupPolicy
// EXCEPTION), so the row holding one fails (ErrDuplicateMapKey) and names
// the second entry: `m[2].key: duplicate MAP key "a" (the same key as entry
// 0)`, at any depth. Keys compare as values of the table's key type: the
// protobuf path compares the encoded key fields, the Flight path the keys
// cast to the table's type (KeysDuplicate), floats by value (0.0 and -0.0
// are one key, as are all NaNs).
//
// MapKeys is the one check both use. A map of up to smallMapKeys entries is
// compared pairwise; a larger one goes through an open-addressing table of
// its keys' hashes sized for the map. Nothing is allocated once the slices
// have grown, and the keys are not copied: they are read where the caller
// wrote them (the protobuf path's output buffer).

// smallMapKeys is the largest map whose keys are compared pairwise.
const smallMapKeys = 8

// MapKeys finds a key given twice in one map value. Reset it before each map
// value and Add each entry's key in entry order. The zero value is ready;
// not safe for concurrent use (each encoder or check has its own).
type MapKeys struct {
	ents   []keyEnt
	table  []int32 // open addressing: entry+1 by hash, 0 empty (hashed maps only)
	hashed bool
	buf    []byte   // KeysDuplicate's copy of the keys
	tmp    [16]byte // KeysDuplicate's bytes of a bool or float key
}

// keyEnt is one entry's key: buf[start:end], hash h.
type keyEnt struct {
	h          uint64
	start, end int
}

// Reset forgets the keys of the previous map value; n is the number of
// entries of the next one.
func (s *MapKeys) Reset(n int) { s.reset(n, n > smallMapKeys) }

func (s *MapKeys) reset(n int, hashed bool) {
	s.ents = s.ents[:0]
	s.hashed = hashed
	if hashed {
		size := 8
		for size < 2*n {
			size <<= 1
		}
		if cap(s.table) < size {
			s.table = make([]int32, size)
		} else {
			s.table = s.table[:size]
			clear(s.table)
		}
	}
}

// Add adds the next entry's key, buf[start:end], and returns the entry that
// gave the same key before, or -1. The earlier keys are read from buf at
// the positions they were added at (see Moved): buf may have grown, but
// what they hold must not have changed.
func (s *MapKeys) Add(buf []byte, start, end int) int {
	k := buf[start:end]
	h := keyHash(k)
	if !s.hashed {
		for i, e := range s.ents {
			if e.h == h && bytes.Equal(buf[e.start:e.end], k) {
				return i
			}
		}
	} else {
		mask := len(s.table) - 1
		for p := int(h>>32) & mask; ; p = (p + 1) & mask {
			i := int(s.table[p]) - 1
			if i < 0 {
				s.table[p] = int32(len(s.ents) + 1)
				break
			}
			if e := s.ents[i]; e.h == h && bytes.Equal(buf[e.start:e.end], k) {
				return i
			}
		}
	}
	s.ents = append(s.ents, keyEnt{h: h, start: start, end: end})
	return -1
}

// Moved records that the last key added moved by d bytes in the buffer (the
// protobuf path's entry length prefix grew).
func (s *MapKeys) Moved(d int) {
	if n := len(s.ents); n > 0 {
		s.ents[n-1].start += d
		s.ents[n-1].end += d
	}
}

// keySeed varies the key hashes per process.
var keySeed = uint64(time.Now().UnixNano())*0x9e3779b97f4a7c15 | 1

const hashS1, hashS2 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db

// keyHash hashes a map key (wyhash's way: at most two 8-byte loads for a
// key of up to 16 bytes, one 128-bit multiply to mix).
func keyHash(k []byte) uint64 {
	n := len(k)
	var a, b uint64
	switch {
	case n > 16:
		return longKeyHash(k)
	case n >= 8:
		a, b = binary.LittleEndian.Uint64(k), binary.LittleEndian.Uint64(k[n-8:])
	case n >= 4:
		a, b = uint64(binary.LittleEndian.Uint32(k)), uint64(binary.LittleEndian.Uint32(k[n-4:]))
	case n > 0:
		a = uint64(k[0])<<16 | uint64(k[n>>1])<<8 | uint64(k[n-1])
	}
	return mum(a^hashS1, b^keySeed^uint64(n)^hashS2)
}

func longKeyHash(k []byte) uint64 {
	n := len(k)
	h := keySeed ^ uint64(n)
	for i := 0; i+16 < n; i += 16 {
		h = mum(binary.LittleEndian.Uint64(k[i:])^hashS1, binary.LittleEndian.Uint64(k[i+8:])^h)
	}
	return mum(binary.LittleEndian.Uint64(k[n-16:])^hashS1, binary.LittleEndian.Uint64(k[n-8:])^h^hashS2)
}

func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// KeysDuplicate returns the first entry in start..end-1 of keys (a map's
// keys, of the table's key type) whose key an earlier entry of the range
// gave, and that earlier entry (positions relative to start); -1, -1 when
// every key differs. A map key is never null (the Flight path's keys whose
// cast failed hold any value, and their row fails for that first).
func (s *MapKeys) KeysDuplicate(keys arrow.Array, start, end int) (dup, first int) {
	if end-start < 2 {
		return -1, -1
	}
	s.Reset(end - start)
	s.buf = s.buf[:0]
	for j := start; j < end; j++ {
		at := len(s.buf)
		s.buf = append(s.buf, keyBytes(keys, j, s.tmp[:0])...)
		if f := s.Add(s.buf, at, len(s.buf)); f >= 0 {
			return j - start, f
		}
	}
	return -1, -1
}

// keyBytes is the identity of key j of a: its bytes for strings and binary,
// its value's bytes for fixed-width types (floats normalised), its text for
// any other type. Keys of one array have one type, so equal bytes are equal
// keys.
func keyBytes(a arrow.Array, j int, scratch []byte) []byte {
	switch a := a.(type) {
	case *array.String:
		return strBytes(a.Value(j))
	case *array.LargeString:
		return strBytes(a.Value(j))
	case *array.StringView:
		return strBytes(a.Value(j))
	case *array.Binary:
		return a.Value(j)
	case *array.LargeBinary:
		return a.Value(j)
	case *array.BinaryView:
		return a.Value(j)
	case *array.Boolean:
		if a.Value(j) {
			return append(scratch, 1)
		}
		return append(scratch, 0)
	case *array.Float32:
		v := a.Value(j)
		if v == 0 {
			v = 0
		} else if v != v {
			v = float32(math.NaN())
		}
		return binary.LittleEndian.AppendUint32(scratch, math.Float32bits(v))
	case *array.Float64:
		v := a.Value(j)
		if v == 0 {
			v = 0
		} else if v != v {
			v = math.NaN()
		}
		return binary.LittleEndian.AppendUint64(scratch, math.Float64bits(v))
	case *array.Dictionary:
		return keyBytes(a.Dictionary(), a.GetValueIndex(j), scratch)
	}
	if fw, ok := a.DataType().(arrow.FixedWidthDataType); ok && fw.BitWidth()%8 == 0 && len(a.Data().Buffers()) > 1 && a.Data().Buffers()[1] != nil {
		w := fw.BitWidth() / 8
		at := (a.Data().Offset() + j) * w
		return a.Data().Buffers()[1].Bytes()[at : at+w]
	}
	return append(scratch, a.ValueStr(j)...)
}

// strBytes is s's bytes, read only.
func strBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// MapKeyText shows key j of a in an error: strings quoted (long ones cut),
// other keys as Arrow prints them.
func MapKeyText(a arrow.Array, j int) string {
	if d, ok := a.(*array.Dictionary); ok {
		return MapKeyText(d.Dictionary(), d.GetValueIndex(j))
	}
	if s, ok := a.(interface{ Value(int) string }); ok {
		v := s.Value(j)
		if len(v) > 64 {
			return strconv.Quote(v[:64]) + "…"
		}
		return strconv.Quote(v)
	}
	return a.ValueStr(j)
}

// DuplicateMapKey is the reason of a row whose map gives key (MapKeyText)
// again at an entry after entry first.
func DuplicateMapKey(key string, first int) string {
	return fmt.Sprintf("duplicate MAP key %s (the same key as entry %d); a map holds each key once and a reader keeps only the last entry: drop or merge the repeated entries", key, first)
}

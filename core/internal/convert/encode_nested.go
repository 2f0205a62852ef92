package convert

import (
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// structEnc writes a struct as a length-delimited nested message.
type structEnc struct {
	base
	kids []encoder
}

func (e *structEnc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	b = appendVarint(b, e.tag)
	b, pos := beginLen(b)
	for _, k := range e.kids {
		var f *fail
		if b, f = k.enc(b, i); f != nil {
			f.path = e.name + "." + f.path
			return b, f
		}
	}
	return endLen(b, pos), nil
}

// listEnc writes a list as an unpacked repeated field: one element encoder
// call (same tag) per element. Offsets come from an offsets buffer.
type listEnc[O int32 | int64] struct {
	base
	offs  []O // offset-adjusted, len = rows+1
	first int // offs[0]: elem is bound to the child from there (binder.usedRange)
	elem  encoder
	rng   rangeEncoder // elem, when it can encode a run of elements
}

func (e *listEnc[O]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b) // a null list: an empty repeated field, or the row's failure in a NOT NULL column
	}
	start, end := int(e.offs[i])-e.first, int(e.offs[i+1])-e.first
	if e.rng != nil {
		b, f, j := e.rng.encRange(b, start, end)
		if f != nil {
			return b, elemFail(f, e.name, j-start)
		}
		return b, nil
	}
	for j := start; j < end; j++ {
		var f *fail
		if b, f = e.elem.enc(b, j); f != nil {
			return b, elemFail(f, e.name, j-start)
		}
	}
	return b, nil
}

// listLikeEnc writes list views and fixed-size lists, whose element ranges
// come from the array.
type listLikeEnc struct {
	base
	arr  array.ListLike
	elem encoder
}

func (e *listLikeEnc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	s, t := e.arr.ValueOffsets(i)
	start, end := int(s), int(t)
	for j := start; j < end; j++ {
		var f *fail
		if b, f = e.elem.enc(b, j); f != nil {
			return b, elemFail(f, e.name, j-start)
		}
	}
	return b, nil
}

// elemFail prefixes the path of a failure inside element k of list name.
func elemFail(f *fail, name string, k int) *fail {
	f.path = name + "[" + strconv.Itoa(k) + "]" + f.path
	return f
}

// mapEnc writes a map as repeated entry messages {1: key, 2: value}. A map
// of two entries or more has its encoded keys checked by MapKeys: a key
// given twice fails the row (ErrDuplicateMapKey).
type mapEnc struct {
	base
	offs     []int32
	first    int // offs[0]: key and val are bound to the entries from there
	key, val encoder
	keys     arrow.Array // what key is bound to, for the error text
	seen     MapKeys
}

func (e *mapEnc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b) // a null map is written as an empty map
	}
	start, end := int(e.offs[i])-e.first, int(e.offs[i+1])-e.first
	check := end-start > 1
	if check {
		e.seen.Reset(end - start)
	}
	for j := start; j < end; j++ {
		b = appendVarint(b, e.tag)
		var pos int
		b, pos = beginLen(b)
		ks := len(b)
		var f *fail
		if b, f = e.key.enc(b, j); f == nil {
			if check {
				if k := e.seen.Add(b, ks, len(b)); k >= 0 {
					f = &fail{path: "key", reason: DuplicateMapKey(MapKeyText(e.keys, j), k), err: ErrDuplicateMapKey}
				}
			}
			if f == nil {
				b, f = e.val.enc(b, j)
			}
		}
		if f != nil {
			f.path = e.name + "[" + strconv.Itoa(j-start) + "]." + f.path
			return b, f
		}
		if n := len(b); check {
			b = endLen(b, pos)
			if d := len(b) - n; d != 0 {
				e.seen.Moved(d) // an entry over 127 bytes: its length took more bytes
			}
		} else {
			b = endLen(b, pos)
		}
	}
	return b, nil
}

// dictEnc writes a dictionary-encoded value by looking its index up in the
// dictionary's values encoder.
type dictEnc[I integer] struct {
	base
	idx  []I
	vals encoder
}

func (e *dictEnc[I]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	return e.vals.enc(b, int(e.idx[i]))
}

// reeEnc writes a run-end encoded value by finding its run. Rows are
// visited in increasing order, so the last run found is tried first.
type reeEnc[E int16 | int32 | int64] struct {
	ends     []E // run ends of the whole child array (absolute logical positions)
	off      int // logical offset of the array
	vals     encoder
	run      int // last physical index found
	runStart int // logical (absolute) start of that run
}

func (e *reeEnc[E]) enc(b []byte, i int) ([]byte, *fail) {
	j := e.off + i
	if !(j >= e.runStart && j < int(e.ends[e.run])) {
		// Binary search for the first run end greater than j.
		lo, hi := 0, len(e.ends)
		for lo < hi {
			m := int(uint(lo+hi) >> 1)
			if int(e.ends[m]) <= j {
				lo = m + 1
			} else {
				hi = m
			}
		}
		e.run = lo
		e.runStart = 0
		if lo > 0 {
			e.runStart = int(e.ends[lo-1])
		}
	}
	return e.vals.enc(b, e.run)
}

package convert

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"google.golang.org/protobuf/types/descriptorpb"
)

// binder binds plan nodes to the arrays of one batch, producing encoders
// for one worker. Arrays it creates (dictionary values) are released by
// release.
type binder struct {
	made []arrow.Array
	// checkEach makes string values bound now be checked for UTF-8 one by
	// one as rows use them, instead of all at once: set while binding the
	// values of a dictionary larger than the rows that index it (a chunk
	// would otherwise check the whole dictionary again for each chunk).
	checkEach bool
}

func (bd *binder) release() {
	for _, a := range bd.made {
		a.Release()
	}
	bd.made = nil
}

func newBase(n *node, arr arrow.Array) base {
	b := base{tag: n.tag, null: n.null, name: n.name}
	if arr.NullN() > 0 {
		b.valid = arr.NullBitmapBytes()
		b.off = arr.Data().Offset()
	}
	return b
}

// values returns the offset-adjusted fixed-width values of arr (buffer 1).
func values[T arrow.FixedWidthType](arr arrow.Array) []T {
	if arr.Len() == 0 {
		return nil
	}
	return arrow.GetValues[T](arr.Data(), 1)
}

// offsets returns the offset-adjusted offsets of arr (buffer 1), len+1 long.
func offsets[O int32 | int64](arr arrow.Array) []O {
	if arr.Len() == 0 {
		return []O{0}
	}
	return arrow.GetOffsets[O](arr.Data(), 1)
}

// bind returns the encoder of node n over arr, whose type is n.dt.
func (bd *binder) bind(n *node, arr arrow.Array) (encoder, error) {
	if n.allNull {
		return &nullEnc{base: base{tag: n.tag, null: n.null, name: n.name}}, nil
	}
	switch a := arr.(type) {
	case *array.Dictionary:
		dict := array.MakeFromData(a.Data().Dictionary())
		bd.made = append(bd.made, dict)
		prev := bd.checkEach
		bd.checkEach = prev || dict.Len() > a.Len()
		vals, err := bd.bind(n.inner, dict)
		bd.checkEach = prev
		if err != nil {
			return nil, err
		}
		return bindDict(n, a, vals)
	case *array.RunEndEncoded:
		// A chunk (a slice) of a run-end encoded column has all of its
		// runs' values: checked as rows use them, as a dictionary's.
		prev := bd.checkEach
		bd.checkEach = prev || a.Values().Len() > a.Len()
		vals, err := bd.bind(n.inner, a.Values())
		bd.checkEach = prev
		if err != nil {
			return nil, err
		}
		ends := a.RunEndsArr()
		off := a.Data().Offset()
		switch ends.DataType().ID() {
		case arrow.INT16:
			return &reeEnc[int16]{ends: values[int16](ends), off: off, vals: vals}, nil
		case arrow.INT32:
			return &reeEnc[int32]{ends: values[int32](ends), off: off, vals: vals}, nil
		default:
			return &reeEnc[int64]{ends: values[int64](ends), off: off, vals: vals}, nil
		}
	case array.ExtensionArray:
		return bd.bind(n.inner, a.Storage())
	}
	switch {
	case n.elem != nil:
		return bd.bindList(n, arr)
	case n.key != nil:
		return bd.bindMap(n, arr)
	case n.ptype == descriptorpb.FieldDescriptorProto_TYPE_MESSAGE:
		return bd.bindStruct(n, arr)
	}
	return bindLeaf(n, arr, bd.checkEach)
}

// usedRange returns the part [lo, hi) of a list's or map's child array
// that the bound rows use, and lo, which the encoder subtracts from the
// offsets: a chunk of a batch (a slice) has offsets into the whole child,
// and binding all of it would check every string of the batch's lists for
// UTF-8 again for each chunk (quadratic in the batch's size). Offsets
// outside the child are left to fail as before.
func (bd *binder) usedRange(child arrow.Array, lo, hi int64) (arrow.Array, int) {
	if lo < 0 || lo > hi || hi > int64(child.Len()) || (lo == 0 && hi == int64(child.Len())) {
		return child, 0
	}
	s := array.NewSlice(child, lo, hi)
	bd.made = append(bd.made, s)
	return s, int(lo)
}

func (bd *binder) bindStruct(n *node, arr arrow.Array) (encoder, error) {
	st, ok := arr.(*array.Struct)
	if !ok {
		return nil, bindMismatch(n, arr)
	}
	e := &structEnc{base: newBase(n, arr), kids: make([]encoder, 0, len(n.fields))}
	for k, child := range n.fields {
		if child == nil { // an Arrow child the caller's descriptor does not carry
			continue
		}
		var fa arrow.Array // nil for a table field the batch lacks (allNull)
		switch {
		case n.from == nil:
			fa = st.Field(k)
		case n.from[k] >= 0:
			fa = st.Field(n.from[k])
		}
		c, err := bd.bind(child, fa)
		if err != nil {
			return nil, err
		}
		e.kids = append(e.kids, c)
	}
	return e, nil
}

func (bd *binder) bindList(n *node, arr arrow.Array) (encoder, error) {
	ll, ok := arr.(array.ListLike)
	if !ok {
		return nil, bindMismatch(n, arr)
	}
	switch arr.DataType().ID() {
	case arrow.LIST:
		offs := offsets[int32](arr)
		child, first := bd.usedRange(ll.ListValues(), int64(offs[0]), int64(offs[len(offs)-1]))
		elem, err := bd.bind(n.elem, child)
		if err != nil {
			return nil, err
		}
		rng, _ := elem.(rangeEncoder)
		return &listEnc[int32]{base: newBase(n, arr), offs: offs, first: first, elem: elem, rng: rng}, nil
	case arrow.LARGE_LIST:
		offs := offsets[int64](arr)
		child, first := bd.usedRange(ll.ListValues(), offs[0], offs[len(offs)-1])
		elem, err := bd.bind(n.elem, child)
		if err != nil {
			return nil, err
		}
		rng, _ := elem.(rangeEncoder)
		return &listEnc[int64]{base: newBase(n, arr), offs: offs, first: first, elem: elem, rng: rng}, nil
	default:
		elem, err := bd.bind(n.elem, ll.ListValues())
		if err != nil {
			return nil, err
		}
		return &listLikeEnc{base: newBase(n, arr), arr: ll, elem: elem}, nil
	}
}

func (bd *binder) bindMap(n *node, arr arrow.Array) (encoder, error) {
	m, ok := arr.(*array.Map)
	if !ok {
		return nil, bindMismatch(n, arr)
	}
	if es, ok := m.ListValues().(*array.Struct); !ok || es.NumField() != 2 {
		return nil, bindMismatch(n, arr)
	}
	offs := offsets[int32](arr)
	used, first := bd.usedRange(m.ListValues(), int64(offs[0]), int64(offs[len(offs)-1]))
	entries := used.(*array.Struct)
	key, err := bd.bind(n.key, entries.Field(0))
	if err != nil {
		return nil, err
	}
	val, err := bd.bind(n.val, entries.Field(1))
	if err != nil {
		return nil, err
	}
	return &mapEnc{base: newBase(n, arr), offs: offs, first: first, key: key, val: val, keys: entries.Field(0)}, nil
}

func bindDict(n *node, a *array.Dictionary, vals encoder) (encoder, error) {
	b := newBase(n, a)
	idx := a.Indices()
	switch idx.DataType().ID() {
	case arrow.INT8:
		return &dictEnc[int8]{base: b, idx: values[int8](idx), vals: vals}, nil
	case arrow.UINT8:
		return &dictEnc[uint8]{base: b, idx: values[uint8](idx), vals: vals}, nil
	case arrow.INT16:
		return &dictEnc[int16]{base: b, idx: values[int16](idx), vals: vals}, nil
	case arrow.UINT16:
		return &dictEnc[uint16]{base: b, idx: values[uint16](idx), vals: vals}, nil
	case arrow.INT32:
		return &dictEnc[int32]{base: b, idx: values[int32](idx), vals: vals}, nil
	case arrow.UINT32:
		return &dictEnc[uint32]{base: b, idx: values[uint32](idx), vals: vals}, nil
	case arrow.INT64:
		return &dictEnc[int64]{base: b, idx: values[int64](idx), vals: vals}, nil
	case arrow.UINT64:
		return &dictEnc[uint64]{base: b, idx: values[uint64](idx), vals: vals}, nil
	}
	return nil, bindMismatch(n, a)
}

// bindLeaf binds a leaf array; checkEach: see binder.checkEach.
func bindLeaf(n *node, arr arrow.Array, checkEach bool) (encoder, error) {
	b := newBase(n, arr)
	if n.variant {
		if e := bindVariantText(b, arr); e != nil {
			return e, nil
		}
	}
	if n.fit != nil {
		if e := bindDecimalText(b, arr, *n.fit); e != nil {
			return e, nil
		}
		if e := bindNumberDecimal(b, arr, *n.fit); e != nil {
			return e, nil
		}
	}
	switch a := arr.(type) {
	case *array.Int8:
		return bindInt(n, b, values[int8](a)), nil
	case *array.Int16:
		return bindInt(n, b, values[int16](a)), nil
	case *array.Int32:
		return bindInt(n, b, values[int32](a)), nil
	case *array.Int64:
		return bindInt(n, b, values[int64](a)), nil
	case *array.Uint8:
		return bindInt(n, b, values[uint8](a)), nil
	case *array.Uint16:
		return bindInt(n, b, values[uint16](a)), nil
	case *array.Uint32:
		return bindInt(n, b, values[uint32](a)), nil
	case *array.Uint64:
		if n.fitInt != nil || n.intFloat {
			return bindInt(n, b, values[uint64](a)), nil
		}
		e := &intEnc[uint64]{base: b, vals: values[uint64](a), mul: n.mul, div: n.div, unit: n.unit, out: intOutFor(n.ptype), u64: true}
		return e, nil
	case *array.Date32:
		return bindInt(n, b, values[int32](a)), nil
	case *array.Date64, *array.Timestamp, *array.Time64, *array.Duration:
		return bindInt(n, b, values[int64](a)), nil
	case *array.Time32:
		return bindInt(n, b, values[int32](a)), nil
	case *array.Float16:
		if n.floatInt != nil {
			return bindFloatInt(n, b, halfValues(a)), nil
		}
		return &f16Enc{base: b, vals: a.Values(), double: isDouble(n)}, nil
	case *array.Float32:
		if n.floatInt != nil {
			return bindFloatInt(n, b, values[float32](a)), nil
		}
		return &floatEnc[float32]{base: b, vals: values[float32](a), double: isDouble(n)}, nil
	case *array.Float64:
		if n.fitFloat {
			return &fitFloatEnc{base: b, vals: values[float64](a)}, nil
		}
		if n.floatInt != nil {
			return bindFloatInt(n, b, values[float64](a)), nil
		}
		return &floatEnc[float64]{base: b, vals: values[float64](a), double: isDouble(n)}, nil
	case *array.Boolean:
		e := &boolEnc{base: b}
		if a.Len() > 0 {
			e.bits, e.boff = a.Data().Buffers()[1].Bytes(), a.Data().Offset()
		}
		return e, nil
	case *array.String:
		return bindOffBytes(n, b, offsets[int32](a), dataBuffer(a), checkEach), nil
	case *array.LargeString:
		return bindOffBytes(n, b, offsets[int64](a), dataBuffer(a), checkEach), nil
	case *array.Binary:
		return &offBytesEnc[int32]{base: b, offs: offsets[int32](a), data: dataBuffer(a)}, nil
	case *array.LargeBinary:
		return &offBytesEnc[int64]{base: b, offs: offsets[int64](a), data: dataBuffer(a)}, nil
	case *array.StringView:
		return &getBytesEnc{base: b, utf8: n.ptype == descriptorpb.FieldDescriptorProto_TYPE_STRING, get: func(i int) []byte {
			s := a.Value(i)
			return unsafe.Slice(unsafe.StringData(s), len(s))
		}}, nil
	case *array.BinaryView:
		return &getBytesEnc{base: b, get: a.Value}, nil
	case *array.FixedSizeBinary:
		if n.uuid && a.DataType().(*arrow.FixedSizeBinaryType).ByteWidth == 16 {
			return &uuidTextEnc{base: b, get: a.Value}, nil
		}
		return &getBytesEnc{base: b, get: a.Value}, nil
	case *array.Decimal32:
		return &decimalEnc[decimal.Decimal32]{base: b, vals: values[decimal.Decimal32](a), scale: n.scale, format: formatDecimal32, fit: n.fit}, nil
	case *array.Decimal64:
		return &decimalEnc[decimal.Decimal64]{base: b, vals: values[decimal.Decimal64](a), scale: n.scale, format: formatDecimal64, fit: n.fit}, nil
	case *array.Decimal128:
		e := &decimalEnc[decimal128.Num]{base: b, vals: values[decimal128.Num](a), scale: n.scale, format: formatDecimal128, fit: n.fit}
		if n.fit != nil {
			e.over = decimal128Over(n.scale, *n.fit)
		}
		return e, nil
	case *array.Decimal256:
		return &decimalEnc[decimal256.Num]{base: b, vals: values[decimal256.Num](a), scale: n.scale, format: formatDecimal256, fit: n.fit}, nil
	}
	return nil, bindMismatch(n, arr)
}

// bindOffBytes binds a utf8 / large_utf8 array. A protobuf string must be
// UTF-8 (the service rejects the record otherwise) and Arrow does not check
// it, so values bound to a string field are checked: the whole value range
// at once (utf8.Valid is fast), and per row only when that fails or
// checkEach says the rows use few of the values.
func bindOffBytes[O int32 | int64](n *node, b base, offs []O, data []byte, checkEach bool) encoder {
	e := &offBytesEnc[O]{base: b, offs: offs, data: data}
	if n.ptype != descriptorpb.FieldDescriptorProto_TYPE_STRING || (!checkEach && allValidUTF8(offs, data)) {
		return e
	}
	return &offStringCheckEnc[O]{offBytesEnc: *e}
}

// allValidUTF8 reports whether every value of an offsets/data pair (null
// slots included) is valid UTF-8: the bytes they span are, and no value
// starts inside a multi-byte character (a continuation byte), so each value
// is a run of whole characters.
func allValidUTF8[O int32 | int64](offs []O, data []byte) bool {
	lo, hi := offs[0], offs[len(offs)-1]
	if lo < 0 || lo > hi || int64(hi) > int64(len(data)) {
		return false // malformed offsets: let the per-row path fail on them
	}
	if isASCII(data[lo:hi]) {
		return true // the common case: no multi-byte character to cut
	}
	if !utf8.Valid(data[lo:hi]) {
		return false
	}
	for _, o := range offs {
		if o < hi && data[o]&0xc0 == 0x80 {
			return false
		}
	}
	return true
}

// isASCII reports whether b has no byte over 0x7f, 8 bytes at a time.
func isASCII(b []byte) bool {
	var acc uint64
	for len(b) >= 32 {
		acc |= binary.LittleEndian.Uint64(b) | binary.LittleEndian.Uint64(b[8:]) |
			binary.LittleEndian.Uint64(b[16:]) | binary.LittleEndian.Uint64(b[24:])
		b = b[32:]
	}
	for len(b) >= 8 {
		acc |= binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	for _, c := range b {
		acc |= uint64(c)
	}
	return acc&0x8080808080808080 == 0
}

// bindInt picks the fast path when no conversion or range check is needed.
func bindInt[T integer](n *node, b base, vals []T) encoder {
	if n.fitInt != nil {
		lo, hi := IntBounds[T](*n.fitInt)
		return &fitIntEnc[T]{base: b, vals: vals, t: *n.fitInt, lo: lo, hi: hi, from: n.dt}
	}
	if n.intFloat {
		return &intFloatEnc[T]{base: b, vals: vals, double: isDouble(n), check: !IntFloatHoldsAll(n.dt, isDouble(n)), from: n.dt}
	}
	out := intOutFor(n.ptype)
	if n.dayFit != nil {
		return &intEnc[T]{base: b, vals: vals, mul: n.mul, div: n.div, unit: n.unit, out: out, fit: n.dayFit}
	}
	if n.mul == 1 && n.div == 1 {
		switch v := any(vals).(type) {
		case []int64:
			if out == outInt64 {
				return &int64Enc{base: b, vals: v}
			}
		case []int32:
			if out == outInt32 || out == outInt64 {
				return &int32Enc{base: b, vals: v}
			}
		}
	}
	return &intEnc[T]{base: b, vals: vals, mul: n.mul, div: n.div, unit: n.unit, out: out}
}

func isDouble(n *node) bool { return n.ptype == descriptorpb.FieldDescriptorProto_TYPE_DOUBLE }

// dataBuffer returns the whole value-data buffer of a binary-like array;
// offsets index into it directly.
func dataBuffer(a arrow.Array) []byte {
	bufs := a.Data().Buffers()
	if len(bufs) < 3 || bufs[2] == nil {
		return nil
	}
	return bufs[2].Bytes()
}

func bindMismatch(n *node, arr arrow.Array) error {
	return fmt.Errorf("%w: column %q: plan expects %s, batch holds %s", ErrSchemaMismatch, n.name, n.dt, arr.DataType())
}

// bindVariantText binds the JSON text of a VARIANT column (a utf8,
// large_utf8 or string_view array; nil for others), each value checked.
func bindVariantText(b base, arr arrow.Array) encoder {
	switch a := arr.(type) {
	case *array.String:
		offs, data := offsets[int32](a), dataBuffer(a)
		return &variantTextEnc{base: b, get: func(i int) []byte { return data[offs[i]:offs[i+1]] }}
	case *array.LargeString:
		offs, data := offsets[int64](a), dataBuffer(a)
		return &variantTextEnc{base: b, get: func(i int) []byte { return data[offs[i]:offs[i+1]] }}
	case *array.StringView:
		return &variantTextEnc{base: b, get: func(i int) []byte {
			s := a.Value(i)
			return unsafe.Slice(unsafe.StringData(s), len(s))
		}}
	}
	return nil
}

// nullEnc is a column of the Arrow null type taken as the table's type:
// every value is null.
type nullEnc struct{ base }

func (e *nullEnc) enc(b []byte, _ int) ([]byte, *fail) { return e.onNull(b) }

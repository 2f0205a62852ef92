package convert

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/float16"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// encoder appends the protobuf field(s) for logical index i of the array it
// is bound to. A nil *fail means success; on failure the bytes appended so
// far are garbage that the row loop truncates. Encoders are bound per
// worker goroutine and never shared.
type encoder interface {
	enc(b []byte, i int) ([]byte, *fail)
}

// base holds what every encoder needs: the field tag, the validity bitmap
// (nil when the array has no nulls) and what a null means.
type base struct {
	tag   uint64
	valid []byte
	off   int
	null  nullMode
	name  string
}

func (e *base) isNull(i int) bool {
	if e.valid == nil {
		return false
	}
	j := e.off + i
	return e.valid[j>>3]&(1<<(j&7)) == 0
}

// onNull handles a null: nothing for optional fields, a failure otherwise.
func (e *base) onNull(b []byte) ([]byte, *fail) {
	if e.null == nullOmit {
		return b, nil
	}
	return b, nullFail(e.null, e.name)
}

// Reasons a row fails for a null a record cannot hold, on either transport.
const (
	NullElement   = "null list element; protobuf repeated fields cannot hold nulls: drop or fill null elements"
	NullMapValue  = "null map value; protobuf maps cannot hold nulls: drop the entry or fill the value"
	NullInNotNull = "null in a column or field the table declares NOT NULL; fill the value, or make the table's column or field nullable"
)

func nullFail(m nullMode, name string) *fail {
	var reason string
	switch m {
	case nullElement:
		reason = NullElement
	case nullMapValue:
		reason = NullMapValue
	case nullNotNull:
		reason = NullInNotNull
	default:
		reason = "null in a required field; fill the value, or make the column nullable (all_fields_optional (Config.AllFieldsOptional) sends nulls instead)"
	}
	return &fail{path: name, reason: reason, err: ErrNullValue}
}

// integer covers every Arrow physical integer type (temporal types share
// their layout).
type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// intEnc writes integer-like values: optional unit conversion (value*mul,
// overflow checked, then floor division by div), then range check and
// encoding for the target protobuf type.
type intEnc[T integer] struct {
	base
	vals     []T
	mul, div int64
	unit     string
	out      intOut
	u64      bool      // T is uint64
	fit      *TableInt // the table's narrower integer type of days (node.dayFit), or nil
}

func (e *intEnc[T]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	x := e.vals[i]
	if e.u64 && uint64(x) > math.MaxInt64 {
		if e.out.unsigned64() {
			return e.out.putUint(appendVarint(b, e.tag), uint64(x)), nil
		}
		return b, e.rangeFail(fmt.Sprintf("uint64 value %d is over the int64 maximum %d that the protobuf %s field holds; filter the row or cast the column", uint64(x), int64(math.MaxInt64), e.out))
	}
	v := int64(x)
	if e.mul != 1 {
		if v > math.MaxInt64/e.mul || v < math.MinInt64/e.mul {
			return b, e.rangeFail(fmt.Sprintf("value %d %s overflows int64 microseconds; filter the row or correct the value", v, e.unit))
		}
		v *= e.mul
	}
	if e.div != 1 {
		q := v / e.div
		if v%e.div < 0 {
			q--
		}
		v = q
	}
	if !e.out.fits(v) {
		return b, e.rangeFail(fmt.Sprintf("value %d (converted from %d %s) does not fit the protobuf %s field; filter the row or cast the column", v, int64(x), e.unit, e.out))
	}
	if e.fit != nil && (v < e.fit.Min || v > e.fit.Max) {
		return b, e.rangeFail(fmt.Sprintf("value %d %s is outside the %s range; filter the row or correct the value", int64(x), e.unit, e.fit.Name))
	}
	return e.out.put(appendVarint(b, e.tag), v), nil
}

func (e *intEnc[T]) rangeFail(reason string) *fail {
	return &fail{path: e.name, reason: reason, err: ErrOutOfRange}
}

// int64Enc is the fast path for int64 columns and microsecond timestamps
// written as protobuf int64.
type int64Enc struct {
	base
	vals []int64
}

func (e *int64Enc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	return appendVarint(appendVarint(b, e.tag), uint64(e.vals[i])), nil
}

// int32Enc is the fast path for int32 and date32 columns written as
// protobuf int32.
type int32Enc struct {
	base
	vals []int32
}

func (e *int32Enc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	return appendVarint(appendVarint(b, e.tag), uint64(int64(e.vals[i]))), nil
}

// floatEnc writes float32/float64 values as protobuf float or double.
type floatEnc[T float32 | float64] struct {
	base
	vals   []T
	double bool
}

func (e *floatEnc[T]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	b = appendVarint(b, e.tag)
	if e.double {
		return protowire.AppendFixed64(b, math.Float64bits(float64(e.vals[i]))), nil
	}
	return protowire.AppendFixed32(b, math.Float32bits(float32(e.vals[i]))), nil
}

// f16Enc writes float16 values, widened exactly.
type f16Enc struct {
	base
	vals   []float16.Num
	double bool
}

func (e *f16Enc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	b = appendVarint(b, e.tag)
	f := HalfToFloat32(e.vals[i].Uint16())
	if e.double {
		return protowire.AppendFixed64(b, math.Float64bits(float64(f))), nil
	}
	return protowire.AppendFixed32(b, math.Float32bits(f)), nil
}

// boolEnc writes bit-packed booleans.
type boolEnc struct {
	base
	bits []byte
	boff int
}

func (e *boolEnc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	j := e.boff + i
	return append(appendVarint(b, e.tag), (e.bits[j>>3]>>(j&7))&1), nil
}

// offBytesEnc writes string/binary values stored as offsets into one data
// buffer (utf8, large_utf8, binary, large_binary).
type offBytesEnc[O int32 | int64] struct {
	base
	offs []O // offset-adjusted: offs[i], offs[i+1] bound value i
	data []byte
}

func (e *offBytesEnc[O]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	return appendBytesField(b, e.tag, e.data[e.offs[i]:e.offs[i+1]]), nil
}

// offStringCheckEnc is offBytesEnc for a string field whose values are not
// all valid UTF-8: each value is checked (see bindOffBytes).
type offStringCheckEnc[O int32 | int64] struct {
	offBytesEnc[O]
}

func (e *offStringCheckEnc[O]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	v := e.data[e.offs[i]:e.offs[i+1]]
	if !utf8.Valid(v) {
		return b, invalidUTF8(e.name, v)
	}
	return appendBytesField(b, e.tag, v), nil
}

func (e *offStringCheckEnc[O]) encRange(b []byte, s, t int) ([]byte, *fail, int) {
	for j := s; j < t; j++ {
		var f *fail
		if b, f = e.enc(b, j); f != nil {
			return b, f, j
		}
	}
	return b, nil, 0
}

// invalidUTF8 is the failure for a string value v that is not UTF-8.
func invalidUTF8(name string, v []byte) *fail {
	return &fail{path: name, err: ErrInvalidUTF8, reason: InvalidUTF8Reason(v)}
}

// InvalidUTF8Reason is the reason a row fails for a STRING (or VARIANT
// text) value v that is not UTF-8, on either transport.
func InvalidUTF8Reason[T string | []byte](v T) string {
	at := 0
	for at < len(v) {
		r, n := utf8.DecodeRune([]byte(v[at:]))
		if r == utf8.RuneError && n <= 1 {
			break
		}
		at += n
	}
	return fmt.Sprintf("the string value is not valid UTF-8 (byte %d of %d is 0x%02x); STRING values must be UTF-8: fix the encoding, or send raw bytes in a BINARY column",
		at, len(v), v[at])
}

// getBytesEnc writes string/binary values read through an accessor (view
// and fixed-size layouts); utf8 checks each value (a string_view bound to a
// protobuf string).
type getBytesEnc struct {
	base
	get  func(int) []byte
	utf8 bool
}

func (e *getBytesEnc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	v := e.get(i)
	if e.utf8 && !utf8.Valid(v) {
		return b, invalidUTF8(e.name, v)
	}
	return appendBytesField(b, e.tag, v), nil
}

// uuidTextEnc writes a fixed_size_binary[16] of UUIDs as their canonical
// text (AppendUUID) into a protobuf string field: a table STRING column
// takes UUIDs as text, on both transports.
type uuidTextEnc struct {
	base
	get func(int) []byte // the 16 bytes of value i
}

func (e *uuidTextEnc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	b = appendVarint(b, e.tag)
	b = appendVarint(b, 36)
	return AppendUUID(b, e.get(i)), nil
}

// variantTextEnc writes the JSON text of a VARIANT column, each value
// checked as UTF-8 and then by the rule the Flight path encodes it by
// (protoarrow.CheckVariantJSON), so a value fails its row alone, with the
// same reason, on both transports.
type variantTextEnc struct {
	base
	get func(int) []byte
}

func (e *variantTextEnc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	v := e.get(i)
	if !utf8.Valid(v) {
		return b, invalidUTF8(e.name, v)
	}
	if err := protoarrow.CheckVariantJSON(v); err != nil {
		return b, &fail{path: e.name, err: ErrInvalidVariant, reason: err.Error()}
	}
	return appendBytesField(b, e.tag, v), nil
}

// decimalEnc writes decimals as decimal text with exactly scale fraction
// digits.
type decimalEnc[T any] struct {
	base
	vals   []T
	scale  int32
	format func(dst []byte, v T, scale int32) []byte
	fit    *DecimalSpec // the table's DECIMAL(p,s), when values need checking
	// over, when set, is true for exactly the values that do not fit fit
	// (decimal128Over): the text is checked only for those.
	over func(T) bool
}

func (e *decimalEnc[T]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	b = appendVarint(b, e.tag)
	b, pos := beginLen(b)
	b = e.format(b, e.vals[i], e.scale)
	if e.fit != nil && (e.over == nil || e.over(e.vals[i])) {
		if why := DecimalFit(b[pos+1:], *e.fit); why != "" {
			return b, &fail{path: e.name, err: ErrOutOfRange, reason: why}
		}
	}
	return endLen(b, pos), nil
}

// rangeEncoder is implemented by leaf encoders that write a run of list
// elements [s, t) in one call, saving an interface call per element. On
// failure it also returns the failing index.
type rangeEncoder interface {
	encRange(b []byte, s, t int) ([]byte, *fail, int)
}

func (e *int64Enc) encRange(b []byte, s, t int) ([]byte, *fail, int) {
	for j := s; j < t; j++ {
		var f *fail
		if b, f = e.enc(b, j); f != nil {
			return b, f, j
		}
	}
	return b, nil, 0
}

func (e *int32Enc) encRange(b []byte, s, t int) ([]byte, *fail, int) {
	for j := s; j < t; j++ {
		var f *fail
		if b, f = e.enc(b, j); f != nil {
			return b, f, j
		}
	}
	return b, nil, 0
}

func (e *floatEnc[T]) encRange(b []byte, s, t int) ([]byte, *fail, int) {
	for j := s; j < t; j++ {
		var f *fail
		if b, f = e.enc(b, j); f != nil {
			return b, f, j
		}
	}
	return b, nil, 0
}

func (e *boolEnc) encRange(b []byte, s, t int) ([]byte, *fail, int) {
	for j := s; j < t; j++ {
		var f *fail
		if b, f = e.enc(b, j); f != nil {
			return b, f, j
		}
	}
	return b, nil, 0
}

func (e *offBytesEnc[O]) encRange(b []byte, s, t int) ([]byte, *fail, int) {
	for j := s; j < t; j++ {
		var f *fail
		if b, f = e.enc(b, j); f != nil {
			return b, f, j
		}
	}
	return b, nil, 0
}

package convert

import (
	"fmt"
	"math"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// An integer column (any width, signed or unsigned, or a dictionary of one)
// or a float column (float16/32/64) sent into a column the table declares
// DECIMAL(p,s) — pandas' int64 ids into DECIMAL(18,0), float64 prices into
// DECIMAL(10,2) — is sent as decimal text, each value checked by the
// DECIMAL text rule (protoarrow.CheckDecimalText), on both transports:
//
//   - An integer is its exact decimal text ("12345"), sent as given: plain
//     digits are plain decimal text, which the service reads as it reads a
//     decimal column's text and stores with s fraction digits ("12345.00").
//     One with more than p−s digits fails its row alone (ErrOutOfRange,
//     the rule's reason).
//   - A float is read as Spark's cast of a double to DECIMAL reads it: its
//     shortest decimal representation (0.1 is "0.1", not
//     0.1000000000000000055…; Scala's BigDecimal(double) uses
//     Double.toString), rounded half-up to s places; that rounded plain text
//     ("0.10"; 1.005 → "1.01"; 2.675 → "2.68"; -0.0 → "0.00") is what is
//     sent. A float32 is read by its own shortest representation, and a
//     float16 by the shortest representation of its value as a float32
//     (float32 0.1 is "0.1"; float16 0.1 is 0.0999755859375, "0.09998").
//     Spark widens a float32 to a double first (0.10000000149011612), so a
//     float32 can be stored differently from Spark's cast, also at the
//     stored scale: float32 9.995 into DECIMAL(38,2) is "10.00" here and
//     9.99 in Spark (9.994999885559082). NaN and ±Inf fail their row (ErrInvalidDecimal,
//     FloatDecimalReason), and so does a value too large for the column
//     (ErrOutOfRange).
//
// Without the catalog's DECIMAL spec (Options.TableDecimal) nothing changes:
// the column is sent as its own type.

// AppendFloatDecimalText appends the shortest decimal text of v, read as a
// float of bits (32 or 64) bits, that CheckDecimalText reads: plain digits
// for 1e-6 ≤ |v| < 1e21 and 0 ("0.1", "-0", "100000000000000000000"),
// exponent form otherwise ("1e+300", "5e-324"). v must be finite
// (FloatDecimalReason).
func AppendFloatDecimalText(dst []byte, v float64, bits int) []byte {
	if a := math.Abs(v); a == 0 || a >= 1e-6 && a < 1e21 {
		return strconv.AppendFloat(dst, v, 'f', -1, bits)
	}
	return strconv.AppendFloat(dst, v, 'e', -1, bits)
}

// FloatDecimalReason says why the float v (a value of the Arrow type from)
// cannot go to a DECIMAL column (NaN, ±Inf), or "" when it is finite.
func FloatDecimalReason(from arrow.DataType, v float64) string {
	if !math.IsNaN(v) && !math.IsInf(v, 0) {
		return ""
	}
	return fmt.Sprintf("%s value %s is not a number a DECIMAL can hold; %s", from, strconv.FormatFloat(v, 'g', -1, 64), nanAdvice)
}

// FloatDecimalText appends the text a float v of the Arrow type from goes
// to a DECIMAL column as (AppendFloatDecimalText), or says why it cannot
// (FloatDecimalReason: NaN, ±Inf): the one reading of a float for a
// DECIMAL, on both transports.
func FloatDecimalText(dst []byte, from arrow.DataType, v float64, bits int) ([]byte, string) {
	if why := FloatDecimalReason(from, v); why != "" {
		return dst, why
	}
	return AppendFloatDecimalText(dst, v, bits), ""
}

// IsNumberIntoDecimal reports whether t (without a dictionary, run-end or
// extension encoding) is an integer or float type, which goes into a
// DECIMAL(p,s) of the table as decimal text.
func IsNumberIntoDecimal(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return IsInteger(t)
}

// intDecimalEnc writes an integer leaf bound to a DECIMAL(p,s) of the table.
type intDecimalEnc[T integer] struct {
	base
	vals []T
	p, s int
	// fits: every value of T has at most p−s digits, no check needed.
	fits bool
}

func (e *intDecimalEnc[T]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	var buf [24]byte
	var t []byte
	if v := e.vals[i]; v < 0 {
		t = strconv.AppendInt(buf[:0], int64(v), 10)
	} else {
		t = strconv.AppendUint(buf[:0], uint64(v), 10)
	}
	if !e.fits {
		if why, _, _ := protoarrow.CheckDecimalText(t, e.p, e.s); why != "" {
			return b, &fail{path: e.name, err: ErrOutOfRange, reason: why}
		}
	}
	return appendBytesField(b, e.tag, t), nil
}

// floatDecimalEnc writes a float leaf bound to a DECIMAL(p,s) of the table.
type floatDecimalEnc[F float32 | float64] struct {
	base
	vals []F
	p, s int
	bits int
	from arrow.DataType
}

func (e *floatDecimalEnc[F]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	var buf [64]byte
	t, why := FloatDecimalText(buf[:0], e.from, float64(e.vals[i]), e.bits)
	if why != "" {
		return b, &fail{path: e.name, err: ErrInvalidDecimal, reason: why}
	}
	if why, _, _ := protoarrow.CheckDecimalText(t, e.p, e.s); why != "" {
		return b, &fail{path: e.name, err: ErrOutOfRange, reason: why}
	}
	b = appendVarint(b, e.tag)
	b, pos := beginLen(b)
	b, _ = protoarrow.AppendRoundedDecimal(b, t, e.p, e.s)
	return endLen(b, pos), nil
}

// intDigitsOf is the most decimal digits a value of the integer type t has.
func intDigitsOf(t arrow.DataType) int {
	switch t.ID() {
	case arrow.INT8, arrow.UINT8:
		return 3
	case arrow.INT16, arrow.UINT16:
		return 5
	case arrow.INT32, arrow.UINT32:
		return 10
	case arrow.INT64:
		return 19
	}
	return 20
}

// bindNumberDecimal binds an integer or float array to the table's d (nil
// for other arrays).
func bindNumberDecimal(b base, arr arrow.Array, d DecimalSpec) encoder {
	p, s := d.Precision, d.Scale
	fits := intDigitsOf(arr.DataType()) <= p-s
	switch a := arr.(type) {
	case *array.Int8:
		return &intDecimalEnc[int8]{base: b, vals: values[int8](a), p: p, s: s, fits: fits}
	case *array.Int16:
		return &intDecimalEnc[int16]{base: b, vals: values[int16](a), p: p, s: s, fits: fits}
	case *array.Int32:
		return &intDecimalEnc[int32]{base: b, vals: values[int32](a), p: p, s: s, fits: fits}
	case *array.Int64:
		return &intDecimalEnc[int64]{base: b, vals: values[int64](a), p: p, s: s, fits: fits}
	case *array.Uint8:
		return &intDecimalEnc[uint8]{base: b, vals: values[uint8](a), p: p, s: s, fits: fits}
	case *array.Uint16:
		return &intDecimalEnc[uint16]{base: b, vals: values[uint16](a), p: p, s: s, fits: fits}
	case *array.Uint32:
		return &intDecimalEnc[uint32]{base: b, vals: values[uint32](a), p: p, s: s, fits: fits}
	case *array.Uint64:
		return &intDecimalEnc[uint64]{base: b, vals: values[uint64](a), p: p, s: s, fits: fits}
	case *array.Float16:
		return &floatDecimalEnc[float32]{base: b, vals: halfValues(a), p: p, s: s, bits: 32, from: a.DataType()}
	case *array.Float32:
		return &floatDecimalEnc[float32]{base: b, vals: values[float32](a), p: p, s: s, bits: 32, from: a.DataType()}
	case *array.Float64:
		return &floatDecimalEnc[float64]{base: b, vals: values[float64](a), p: p, s: s, bits: 64, from: a.DataType()}
	}
	return nil
}

// DecimalRefusal is why a column of a type other than an integer, float,
// decimal or string type cannot go to the table's DECIMAL d (both
// transports).
func DecimalRefusal(d DecimalSpec) string {
	return fmt.Sprintf("the table's column is %s, which takes integer, float, decimal or decimal-text (string) columns; cast the column to one of them", d)
}

// hasDecimal reports whether the table declares a DECIMAL at path.
func (b *schemaBuilder) hasDecimal(path string) bool {
	_, ok := b.opts.TableDecimal[path]
	return ok
}

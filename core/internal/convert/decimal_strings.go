package convert

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// A string column (utf8, large_utf8, string_view, or a dictionary of
// them) sent into a column the table declares DECIMAL(p,s) is checked value
// by value with the rule decimal columns are (protoarrow.CheckDecimalText):
// text that is not a decimal number fails its row with ErrInvalidDecimal,
// a value too large for the column after rounding half-up to s places with
// ErrOutOfRange. Plain text ("-12.345") is sent as given; other decimal
// text ("1.5e3", "+7", " 12 ", ".5") as the plain text of its value
// rounded to s places ("1500.00"), which the service surely reads and
// stores the same.

// decimalTextEnc writes the decimal text of a string column bound to a
// DECIMAL(p,s) of the table.
type decimalTextEnc struct {
	base
	get  func(int) []byte
	p, s int
}

// bindDecimalText binds a utf8, large_utf8 or string_view array (nil for
// others: decimal arrays have their own encoder) to the table's d.
func bindDecimalText(b base, arr arrow.Array, d DecimalSpec) encoder {
	e := &decimalTextEnc{base: b, p: d.Precision, s: d.Scale}
	switch a := arr.(type) {
	case *array.String:
		offs, data := offsets[int32](a), dataBuffer(a)
		e.get = func(i int) []byte { return data[offs[i]:offs[i+1]] }
	case *array.LargeString:
		offs, data := offsets[int64](a), dataBuffer(a)
		e.get = func(i int) []byte { return data[offs[i]:offs[i+1]] }
	case *array.StringView:
		e.get = func(i int) []byte {
			s := a.Value(i)
			return unsafe.Slice(unsafe.StringData(s), len(s))
		}
	default:
		return nil
	}
	return e
}

func (e *decimalTextEnc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	v := e.get(i)
	why, plain, number := protoarrow.CheckDecimalText(v, e.p, e.s)
	switch {
	case !number:
		return b, &fail{path: e.name, err: ErrInvalidDecimal, reason: why}
	case why != "":
		return b, &fail{path: e.name, err: ErrOutOfRange, reason: why}
	case plain:
		return appendBytesField(b, e.tag, v), nil
	}
	b = appendVarint(b, e.tag)
	b, pos := beginLen(b)
	b, _ = protoarrow.AppendRoundedDecimal(b, v, e.p, e.s)
	return endLen(b, pos), nil
}

package flightstream

import (
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// An integer or float column (or a dictionary of one) sent into a
// DECIMAL(p,s) of the table, at the top level or in a STRUCT field, ARRAY
// element, MAP key or MAP value, is sent as decimal text by the protobuf
// path's rule (convert/number_decimal.go): an integer as its digits, a float
// by its shortest text rounded half-up to s places (roundDecimalTexts);
// NaN and ±Inf (numbersToText), and a value too large for the column
// (checkDecimals), leave their row out with the protobuf path's reason.

// castableField is castable into the table field to: a number goes to a
// DECIMAL(p,s) the catalog gave, and a type that cannot is refused naming
// DECIMAL(p,s), not its text type large_utf8.
func castableField(from arrow.DataType, to arrow.Field) string {
	d, ok := convert.FieldDecimal(to)
	if !ok {
		return castable(from, to.Type)
	}
	if convert.IsNumberIntoDecimal(plainType(from)) {
		return ""
	}
	if convert.IsUUIDType(encodedValues(from)) {
		return convert.DecimalRefusal(d) // (castable takes UUIDs into the large_utf8 a DECIMAL is sent as)
	}
	if why := castable(from, to.Type); why != "" {
		return convert.DecimalRefusal(d)
	}
	return ""
}

// tableTypeName is the table field f's type as a mismatch names it:
// DECIMAL(p,s) for a DECIMAL the catalog gave.
func tableTypeName(f arrow.Field) string {
	if d, ok := convert.FieldDecimal(f); ok {
		return d.String()
	}
	return f.Type.String()
}

// numbersToText writes the integer or float array a as the large_utf8 text
// castableField let it go to (a DECIMAL of the table): an integer's digits,
// a float's shortest text (convert.FloatDecimalText); NaN and ±Inf are
// bad elements. ok is false for other casts.
func numbersToText(mem memory.Allocator, a arrow.Array, to arrow.DataType) (out arrow.Array, bad []badValue, ok bool) {
	if to.ID() != arrow.LARGE_STRING || !convert.IsNumberIntoDecimal(a.DataType()) {
		return nil, nil, false
	}
	var put func(buf []byte, i int) ([]byte, string)
	switch x := a.(type) {
	case *array.Int8:
		put = func(buf []byte, i int) ([]byte, string) { return strconv.AppendInt(buf, int64(x.Value(i)), 10), "" }
	case *array.Int16:
		put = func(buf []byte, i int) ([]byte, string) { return strconv.AppendInt(buf, int64(x.Value(i)), 10), "" }
	case *array.Int32:
		put = func(buf []byte, i int) ([]byte, string) { return strconv.AppendInt(buf, int64(x.Value(i)), 10), "" }
	case *array.Int64:
		put = func(buf []byte, i int) ([]byte, string) { return strconv.AppendInt(buf, x.Value(i), 10), "" }
	case *array.Uint8:
		put = func(buf []byte, i int) ([]byte, string) { return strconv.AppendUint(buf, uint64(x.Value(i)), 10), "" }
	case *array.Uint16:
		put = func(buf []byte, i int) ([]byte, string) { return strconv.AppendUint(buf, uint64(x.Value(i)), 10), "" }
	case *array.Uint32:
		put = func(buf []byte, i int) ([]byte, string) { return strconv.AppendUint(buf, uint64(x.Value(i)), 10), "" }
	case *array.Uint64:
		put = func(buf []byte, i int) ([]byte, string) { return strconv.AppendUint(buf, x.Value(i), 10), "" }
	case *array.Float16:
		put = func(buf []byte, i int) ([]byte, string) {
			return convert.FloatDecimalText(buf, a.DataType(), float64(convert.HalfToFloat32(x.Value(i).Uint16())), 32)
		}
	case *array.Float32:
		put = func(buf []byte, i int) ([]byte, string) {
			return convert.FloatDecimalText(buf, a.DataType(), float64(x.Value(i)), 32)
		}
	case *array.Float64:
		put = func(buf []byte, i int) ([]byte, string) {
			return convert.FloatDecimalText(buf, a.DataType(), x.Value(i), 64)
		}
	default:
		panic(fmt.Sprintf("numbersToText: %s", a.DataType())) // IsNumberIntoDecimal and this switch disagree
	}
	b := array.NewLargeStringBuilder(mem)
	defer b.Release()
	b.Reserve(a.Len())
	var buf []byte
	for i := range a.Len() {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		var why string
		buf, why = put(buf[:0], i)
		if why != "" {
			bad = append(bad, badValue{i: i, reason: why})
			b.AppendNull()
			continue
		}
		b.BinaryBuilder.Append(buf)
	}
	return b.NewArray(), bad, true
}

package convert

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// AppendDecimalText appends row i of a decimal array (decimal32/64/128/256)
// as the exact decimal text the protobuf path sends (see decimal.go), so
// that the Arrow Flight path writes the same STRING. It reports false for
// other array types. The row must not be null.
func AppendDecimalText(dst []byte, a arrow.Array, i int) ([]byte, bool) {
	switch a := a.(type) {
	case *array.Decimal32:
		return formatDecimal32(dst, a.Value(i), a.DataType().(*arrow.Decimal32Type).Scale), true
	case *array.Decimal64:
		return formatDecimal64(dst, a.Value(i), a.DataType().(*arrow.Decimal64Type).Scale), true
	case *array.Decimal128:
		return formatDecimal128(dst, a.Value(i), a.DataType().(*arrow.Decimal128Type).Scale), true
	case *array.Decimal256:
		return formatDecimal256(dst, a.Value(i), a.DataType().(*arrow.Decimal256Type).Scale), true
	}
	return dst, false
}

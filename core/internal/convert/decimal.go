package convert

import (
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

// Decimals are written as exact decimal text: an optional '-', the integer
// digits (at least "0"), and for a positive scale a '.' followed by exactly
// scale digits ("-12.340" for -12340 at scale 3). A negative scale appends
// zeros ("1200" for 12 at scale -2). Text keeps every digit of a 38- or
// 76-digit decimal, which no protobuf number type can.

// appendDecimalText lays out the ASCII digits of |v| with the sign and scale.
func appendDecimalText(dst []byte, neg bool, digits []byte, scale int32) []byte {
	if len(digits) == 1 && digits[0] == '0' {
		neg = false
	}
	if neg {
		dst = append(dst, '-')
	}
	if scale <= 0 {
		dst = append(dst, digits...)
		if !(len(digits) == 1 && digits[0] == '0') {
			for k := int32(0); k < -scale; k++ {
				dst = append(dst, '0')
			}
		}
		return dst
	}
	s := int(scale)
	if len(digits) <= s {
		dst = append(dst, '0', '.')
		for k := len(digits); k < s; k++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-s]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-s:]...)
}

func appendInt64Decimal(dst []byte, v int64, scale int32) []byte {
	var tmp [24]byte
	u := uint64(v)
	if v < 0 {
		u = ^u + 1
	}
	return appendDecimalText(dst, v < 0, strconv.AppendUint(tmp[:0], u, 10), scale)
}

func formatDecimal32(dst []byte, v decimal.Decimal32, scale int32) []byte {
	return appendInt64Decimal(dst, int64(v), scale)
}

func formatDecimal64(dst []byte, v decimal.Decimal64, scale int32) []byte {
	return appendInt64Decimal(dst, int64(v), scale)
}

func formatDecimal128(dst []byte, v decimal128.Num, scale int32) []byte {
	neg := v.Sign() < 0
	if neg {
		v = v.Negate()
	}
	var tmp [80]byte
	if v.HighBits() == 0 {
		return appendDecimalText(dst, neg, strconv.AppendUint(tmp[:0], v.LowBits(), 10), scale)
	}
	// The negation of the minimum value is itself; BigInt still gives the
	// right magnitude because it reads the two's complement value.
	bi := v.BigInt()
	bi.Abs(bi)
	return appendDecimalText(dst, neg, bi.Append(tmp[:0], 10), scale)
}

func formatDecimal256(dst []byte, v decimal256.Num, scale int32) []byte {
	neg := v.Sign() < 0
	if neg {
		v = v.Negate()
	}
	var tmp [80]byte
	if a := v.Array(); a[1] == 0 && a[2] == 0 && a[3] == 0 {
		return appendDecimalText(dst, neg, strconv.AppendUint(tmp[:0], a[0], 10), scale)
	}
	bi := v.BigInt()
	bi.Abs(bi)
	return appendDecimalText(dst, neg, bi.Append(tmp[:0], 10), scale)
}

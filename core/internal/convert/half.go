package convert

import "math"

// HalfToFloat32 widens the IEEE 754 binary16 value with bits h to the
// float32 of the same value, exactly: ±0, subnormals (|v| < 2^-14, which
// arrow-go's float16.Num.Float32 widens wrongly: 2^-24 became 2^-136),
// normals, ±Inf, and NaN (its payload kept in the high bits; a signalling NaN stays signalling). Both
// transports widen float16 with it.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	case exp != 0: // normal: rebias 15 → 127
		return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
	case frac == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal: frac × 2^-24; shift the leading one to bit 10 to normalise.
	e := uint32(127 - 15 + 1)
	for frac&0x400 == 0 {
		frac <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (frac&0x3ff)<<13)
}

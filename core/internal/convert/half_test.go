package convert

import (
	"math"
	"testing"
)

// TestHalfToFloat32AllValues checks every one of the 65,536 binary16 bit
// patterns against an independent computation of its value: (-1)^s ×
// m × 2^(e-25) with the implicit one for normals, m × 2^-24 for
// subnormals (2^-24 was stored as 2^-136 through arrow-go's Float32).
func TestHalfToFloat32AllValues(t *testing.T) {
	for h := 0; h <= 0xffff; h++ {
		neg := h&0x8000 != 0
		e := (h >> 10) & 0x1f
		m := h & 0x3ff
		var want float64
		switch {
		case e == 0x1f && m == 0:
			want = math.Inf(1)
		case e == 0x1f:
			want = math.NaN()
		case e == 0:
			want = math.Ldexp(float64(m), -24)
		default:
			want = math.Ldexp(float64(m|0x400), e-25)
		}
		if neg {
			want = -want
		}
		got := HalfToFloat32(uint16(h))
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) {
				t.Fatalf("half %#04x: got %v, want NaN", h, got)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != neg {
			t.Fatalf("half %#04x: got %v (%#08x), want %v", h, got, math.Float32bits(got), want)
		}
	}
}

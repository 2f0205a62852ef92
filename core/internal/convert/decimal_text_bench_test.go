package convert

import (
	"fmt"
	"testing"
)

// BenchmarkDecimalFitText: DecimalFit on decimal text as the encoders
// format it (what decimal32/64/256 columns and the Flight path check per
// value), 8 integer digits and 4 fraction digits, into DECIMAL(18,4).
func BenchmarkDecimalFitText(b *testing.B) {
	texts := make([][]byte, 1024)
	for i := range texts {
		texts[i] = fmt.Appendf(nil, "%d.%04d", 12345678-i*7919, i*37%10000)
	}
	d := DecimalSpec{Precision: 18, Scale: 4}
	b.ResetTimer()
	for i := range b.N {
		if DecimalFit(texts[i%len(texts)], d) != "" {
			b.Fatal("does not fit")
		}
	}
}

package flightstream

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkFloatIntCast casts 100k float64 whole numbers into a table INT
// and BIGINT (each value checked, floatsToInts) and 100k int64 values into
// DOUBLE and FLOAT (each checked, intsToFloats) beside int64 into INT
// (narrowInts) and int32 into DOUBLE (no check needed).
//
//	go test -run '^$' -bench FloatIntCast -count 5 -cpu 1 ./core/internal/flightstream/
func BenchmarkFloatIntCast(b *testing.B) {
	const n = 100_000
	mem := memory.DefaultAllocator
	f64b, i64b, i32b := array.NewFloat64Builder(mem), array.NewInt64Builder(mem), array.NewInt32Builder(mem)
	for i := range n {
		f64b.Append(float64(i*7919 - n))
		i64b.Append(int64(i*127) - n) // within 2^24: exact in a FLOAT too
		i32b.Append(int32(i*7919) - n)
	}
	f64, i64, i32 := f64b.NewArray(), i64b.NewArray(), i32b.NewArray()
	f64b.Release()
	i64b.Release()
	i32b.Release()
	defer func() {
		for _, a := range []arrow.Array{f64, i64, i32} {
			a.Release()
		}
	}()
	for _, tc := range []struct {
		name string
		a    arrow.Array
		to   arrow.DataType
	}{
		{"float64_into_INT", f64, arrow.PrimitiveTypes.Int32},
		{"float64_into_BIGINT", f64, arrow.PrimitiveTypes.Int64},
		{"int64_into_INT", i64, arrow.PrimitiveTypes.Int32},
		{"int64_into_DOUBLE", i64, arrow.PrimitiveTypes.Float64},
		{"int64_into_FLOAT", i64, arrow.PrimitiveTypes.Float32},
		{"int32_into_DOUBLE", i32, arrow.PrimitiveTypes.Float64},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(n * 8)
			for range b.N {
				out, bad, err := castTo(context.Background(), mem, tc.a, tc.to)
				if err != nil || len(bad) != 0 {
					b.Fatal(err, bad)
				}
				out.Release()
			}
		})
	}
}

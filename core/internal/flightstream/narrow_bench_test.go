package flightstream

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkNarrowCast casts 100k int64 values into a table INT (each value
// checked, narrowInts) beside the casts of the same count that need no
// check: int32 into BIGINT (the kernel's widening copy) and int64 into
// BIGINT (no cast: the array itself), and float64 into FLOAT beside
// float32 into DOUBLE.
//
//	go test -run '^$' -bench NarrowCast -count 5 -cpu 1 ./core/internal/flightstream/
func BenchmarkNarrowCast(b *testing.B) {
	const n = 100_000
	mem := memory.DefaultAllocator
	i64b, i32b := array.NewInt64Builder(mem), array.NewInt32Builder(mem)
	f64b, f32b := array.NewFloat64Builder(mem), array.NewFloat32Builder(mem)
	for i := range n {
		i64b.Append(int64(i*7919) - n)
		i32b.Append(int32(i*7919) - n)
		f64b.Append(float64(i) * 1.5)
		f32b.Append(float32(i) * 1.5)
	}
	i64, i32, f64, f32 := i64b.NewArray(), i32b.NewArray(), f64b.NewArray(), f32b.NewArray()
	for _, x := range []interface{ Release() }{i64b, i32b, f64b, f32b} {
		x.Release()
	}
	defer func() {
		for _, a := range []arrow.Array{i64, i32, f64, f32} {
			a.Release()
		}
	}()
	for _, tc := range []struct {
		name string
		a    arrow.Array
		to   arrow.DataType
	}{
		{"int64_into_INT", i64, arrow.PrimitiveTypes.Int32},
		{"int32_into_BIGINT", i32, arrow.PrimitiveTypes.Int64},
		{"int64_into_BIGINT", i64, arrow.PrimitiveTypes.Int64},
		{"float64_into_FLOAT", f64, arrow.PrimitiveTypes.Float32},
		{"float32_into_DOUBLE", f32, arrow.PrimitiveTypes.Float64},
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

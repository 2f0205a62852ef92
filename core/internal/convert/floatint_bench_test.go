package convert

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkFloatIntEncode encodes 100k float64 whole numbers into a table
// BIGINT's int64 field (each value checked, floatIntEnc) and 100k int64
// values into a DOUBLE's double field (each checked, intFloatEnc) beside
// int64 into BIGINT and float64 into DOUBLE (no conversion).
//
//	go test -run '^$' -bench FloatIntEncode -count 5 -cpu 1 ./core/internal/convert/
func BenchmarkFloatIntEncode(b *testing.B) {
	const n = 100_000
	mem := memory.DefaultAllocator
	i64b, f64b := array.NewInt64Builder(mem), array.NewFloat64Builder(mem)
	for i := range n {
		i64b.Append(int64(i*7919) - n)
		f64b.Append(float64(i*7919 - n))
	}
	cols := map[string]arrow.Array{"i64": i64b.NewArray(), "f64": f64b.NewArray()}
	i64b.Release()
	f64b.Release()
	for _, tc := range []struct {
		name, col string
		table     arrow.DataType
	}{
		{"float64_into_BIGINT", "f64", arrow.PrimitiveTypes.Int64},
		{"int64_into_BIGINT", "i64", arrow.PrimitiveTypes.Int64},
		{"int64_into_DOUBLE", "i64", arrow.PrimitiveTypes.Float64},
		{"float64_into_DOUBLE", "f64", arrow.PrimitiveTypes.Float64},
	} {
		a := cols[tc.col]
		s := arrow.NewSchema([]arrow.Field{{Name: "v", Type: a.DataType()}}, nil)
		rec := array.NewRecordBatch(s, []arrow.Array{a}, n)
		p, err := NewPlan(s, Options{Parallelism: 1, TableType: map[string]arrow.DataType{"v": tc.table}})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				out, err := p.Encode(rec)
				if err != nil || len(out.Errors) != 0 {
					b.Fatal(err)
				}
				out.Release()
			}
		})
		rec.Release()
	}
	for _, a := range cols {
		a.Release()
	}
}

package convert

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkNarrowEncode encodes 100k int64 values into a table INT's int32
// field (each value checked, fitIntEnc) beside int64 into BIGINT and int32
// into INT (the unchecked fast paths), and float64 into FLOAT (checked)
// beside float64 into DOUBLE.
//
//	go test -run '^$' -bench NarrowEncode -count 5 -cpu 1 ./core/internal/convert/
func BenchmarkNarrowEncode(b *testing.B) {
	const n = 100_000
	mem := memory.DefaultAllocator
	i64b, i32b, f64b := array.NewInt64Builder(mem), array.NewInt32Builder(mem), array.NewFloat64Builder(mem)
	for i := range n {
		i64b.Append(int64(i*7919) - n)
		i32b.Append(int32(i*7919) - n)
		f64b.Append(float64(i) * 1.5)
	}
	cols := map[string]arrow.Array{"i64": i64b.NewArray(), "i32": i32b.NewArray(), "f64": f64b.NewArray()}
	i64b.Release()
	i32b.Release()
	f64b.Release()
	for _, tc := range []struct {
		name, col string
		table     arrow.DataType
	}{
		{"int64_into_INT", "i64", arrow.PrimitiveTypes.Int32},
		{"int64_into_BIGINT", "i64", arrow.PrimitiveTypes.Int64},
		{"int32_into_INT", "i32", arrow.PrimitiveTypes.Int32},
		{"float64_into_FLOAT", "f64", arrow.PrimitiveTypes.Float32},
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

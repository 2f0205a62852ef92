package convert

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkDecimalFit encodes 100k decimal128(18,4) values (up to 8
// integer digits, two nonzero fraction digits: they fit both tables)
// through the plan encoder into a table's DECIMAL(18,4) (every value fits:
// not checked), into DECIMAL(10,2) (checked per value) and with no table
// DECIMAL known. Reported: CPU-ns per batch and per value.
//
//	go test -run '^$' -bench DecimalFit -benchtime 50x ./core/internal/convert/
func BenchmarkDecimalFit(b *testing.B) {
	mem := memory.NewGoAllocator()
	dt := &arrow.Decimal128Type{Precision: 18, Scale: 4}
	bld := array.NewDecimal128Builder(mem, dt)
	r := rand.New(rand.NewPCG(1, 2))
	for range benchRows {
		bld.Append(decimal128.FromI64((r.Int64N(2e10) - 1e10) * 100))
	}
	col := bld.NewArray()
	bld.Release()
	defer col.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "d", Type: dt, Nullable: true}}, nil), []arrow.Array{col}, benchRows)
	defer rec.Release()
	for _, c := range []struct {
		name string
		d    map[string]DecimalSpec
	}{
		{"into=DECIMAL(18,4)", map[string]DecimalSpec{"d": {18, 4}}},
		{"into=DECIMAL(10,2)", map[string]DecimalSpec{"d": {10, 2}}},
		{"into=unknown", nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			p, err := NewPlan(rec.Schema(), Options{TableDecimal: c.d, Parallelism: 1})
			if err != nil {
				b.Fatal(err)
			}
			cpu0 := processCPU()
			b.ResetTimer()
			for range b.N {
				out, err := p.Encode(rec)
				if err != nil || len(out.Errors) != 0 {
					b.Fatalf("Encode: %v, %v", err, out.Errors)
				}
				out.Release()
			}
			b.StopTimer()
			cpu := processCPU() - cpu0
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N)/benchRows, "cpu-ns/value")
		})
	}
}

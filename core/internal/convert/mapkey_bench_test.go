package convert

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkMapEncode encodes 20k rows of a map<string, int64> column with
// 0, 3, 8, 16 and 64 distinct entries per row (the duplicate-key check
// compares small maps pairwise and hashes larger ones, see MapKeys).
//
//	go test -run '^$' -bench MapEncode -count 5 -cpu 1 ./core/internal/convert/
func BenchmarkMapEncode(b *testing.B) {
	const n = 20_000
	mem := memory.DefaultAllocator
	for _, size := range []int{0, 3, 8, 16, 64} {
		mt := arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)
		mb := array.NewMapBuilderWithType(mem, mt)
		kb, vb := mb.KeyBuilder().(*array.StringBuilder), mb.ItemBuilder().(*array.Int64Builder)
		for i := range n {
			mb.Append(true)
			for k := range size {
				kb.Append(fmt.Sprintf("attribute_%d", (k*7+i)%size))
				vb.Append(int64(i*k + k))
			}
		}
		a := mb.NewArray()
		mb.Release()
		s := arrow.NewSchema([]arrow.Field{{Name: "m", Type: mt, Nullable: true}}, nil)
		rec := array.NewRecordBatch(s, []arrow.Array{a}, n)
		a.Release()
		p, err := NewPlan(s, Options{Parallelism: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("entries=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			var entries int64
			cpu0 := processCPU()
			for range b.N {
				out, err := p.Encode(rec)
				if err != nil || len(out.Errors) != 0 {
					b.Fatal(err, out.Errors)
				}
				entries += int64(n * size)
				out.Release()
			}
			cpu := processCPU() - cpu0
			if entries > 0 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(entries), "ns/entry")
				if cpu > 0 { // CPU time is steadier than wall time on a shared machine
					b.ReportMetric(float64(cpu.Nanoseconds())/float64(entries), "cpu-ns/entry")
				}
			}
		})
		rec.Release()
	}
}

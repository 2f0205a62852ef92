package convert

import (
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// benchRows is the size of the reference batch in the benchmarks.
const benchRows = 100_000

// BenchmarkEncode measures the reference batch (see ReferenceBatch) through
// the plan encoder, sequential and parallel, and through the dynamicpb
// reference encoder for comparison. Reported: rows/s, MB/s of encoded
// output, allocs/row.
//
//	go test -run '^$' -bench Encode -benchtime 20x ./core/internal/convert/
func BenchmarkEncode(b *testing.B) {
	mem := memory.NewGoAllocator()
	rec := ReferenceBatch(mem, benchRows)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	first, err := p.Encode(rec)
	if err != nil || len(first.Errors) != 0 {
		b.Fatalf("Encode: %v, %v", err, first.Errors)
	}
	outBytes := int64(first.Bytes)

	run := func(b *testing.B, encode func()) {
		b.ReportAllocs()
		b.SetBytes(outBytes)
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		cpu0 := processCPU()
		b.ResetTimer()
		for range b.N {
			encode()
		}
		b.StopTimer()
		cpu := processCPU() - cpu0
		runtime.ReadMemStats(&ms1)
		rows := float64(b.N) * benchRows
		b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/rows, "allocs/row")
		// CPU time is steadier than wall time on a shared machine.
		if cpu > 0 {
			b.ReportMetric(float64(cpu.Nanoseconds())/rows, "cpu-ns/row")
		}
	}
	for _, par := range []int{1, 0} {
		name := "plan/parallelism=1"
		if par == 0 {
			name = "plan/parallelism=GOMAXPROCS"
		}
		b.Run(name, func(b *testing.B) {
			pp := *p
			pp.opts.Parallelism = par
			run(b, func() {
				out, err := pp.Encode(rec)
				if err != nil {
					b.Fatal(err)
				}
				out.Release() // as the sender does once the records are acknowledged

			})
		})
	}
	b.Run("dynamicpb", func(b *testing.B) {
		ref := &refEncoder{md: p.MessageDescriptor()}
		run(b, func() { ref.encode(rec, true) })
	})
}

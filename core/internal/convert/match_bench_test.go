package convert

import (
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkEncodeMatched encodes the reference batch with the table's
// fields given (Options.TableFields): in the table's order (the plan is
// the one without them) and with the batch's columns reversed (each read
// through the matched index). Reported: cpu-ns/row.
//
//	go test -run '^$' -bench EncodeMatched -benchtime 20x ./core/internal/convert/
func BenchmarkEncodeMatched(b *testing.B) {
	mem := memory.NewGoAllocator()
	rec := ReferenceBatch(mem, benchRows)
	defer rec.Release()
	table := rec.Schema()
	fs, cols := table.Fields(), rec.Columns()
	slices.Reverse(fs)
	cols = slices.Clone(cols)
	slices.Reverse(cols)
	rev := array.NewRecordBatch(arrow.NewSchema(fs, nil), cols, rec.NumRows())
	defer rev.Release()
	for _, c := range []struct {
		name string
		rec  arrow.RecordBatch
	}{{"in_order", rec}, {"reversed", rev}} {
		b.Run(c.name, func(b *testing.B) {
			p, err := NewPlan(c.rec.Schema(), Options{TableFields: TableLevels(table), Parallelism: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := processCPU()
			b.ResetTimer()
			for range b.N {
				out, err := p.Encode(c.rec)
				if err != nil || len(out.Errors) != 0 {
					b.Fatal(err)
				}
				out.Release()
			}
			b.StopTimer()
			if cpu := processCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*benchRows), "cpu-ns/row")
			}
		})
	}
}

package convert

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkChunkedStrings encodes a 400k-row batch in 4096-row slices, as
// SendBatch converts it chunk by chunk: one string per row as utf8, as a
// list<utf8> and as a dictionary with a value per row. Before the chunks
// bound only the child range they use, list and dictionary cost grew with
// the square of the batch size.
//
//	go test -run '^$' -bench ChunkedStrings -benchtime 3x ./core/internal/convert/
func BenchmarkChunkedStrings(b *testing.B) {
	const rows, chunk = 400_000, 4096
	mem := memory.NewGoAllocator()
	sb := array.NewStringBuilder(mem)
	lb := array.NewListBuilder(mem, arrow.BinaryTypes.String)
	lv := lb.ValueBuilder().(*array.StringBuilder)
	ib := array.NewInt32Builder(mem)
	for i := range rows {
		s := fmt.Sprintf("value-%09d-é", i)
		sb.Append(s)
		lb.Append(true)
		lv.Append(s)
		ib.Append(int32(i))
	}
	plain, list, idx := sb.NewArray(), lb.NewArray(), ib.NewArray()
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	dict := array.NewDictionaryArray(dt, idx, plain)
	for _, col := range []arrow.Array{plain, list, dict} {
		rec := oneColumn(col, true)
		p, err := NewPlan(rec.Schema(), Options{Parallelism: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(col.DataType().String(), func(b *testing.B) {
			for range b.N {
				for lo := 0; lo < rows; lo += chunk {
					s := rec.NewSlice(int64(lo), int64(min(rows, lo+chunk)))
					bt, err := p.Encode(s)
					if err != nil {
						b.Fatal(err)
					}
					bt.Release()
					s.Release()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

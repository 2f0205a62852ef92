package flightstream

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// BenchmarkApplyReference casts the 100k-row reference batch to its
// canonical table schema (string → large_string, list and struct columns,
// binary → large_binary): the client's per-batch work before IPC.
func BenchmarkApplyReference(b *testing.B) {
	rec := convert.ReferenceBatch(memory.DefaultAllocator, 100_000)
	defer rec.Release()
	c, _ := planCanonical(b, rec.Schema())
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		out, _, _, err := c.Apply(context.Background(), rec)
		if err != nil {
			b.Fatal(err)
		}
		out.Release()
	}
}

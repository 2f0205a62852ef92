//go:build unix

package flightstream

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/rusage"
)

// BenchmarkCastEncodeChunks is the client's work for one 100k-row
// reference batch over Flight, as core's transport does it: eight slices
// (chunks), each cast to the canonical table schema and encoded as an IPC
// body, with the encoder arena as allocator. cpu-ms/op is the process's
// CPU time per batch (steadier than ns/op on a shared machine).
func BenchmarkCastEncodeChunks(b *testing.B) {
	const rows, chunks = 100_000, 8
	rec := convert.ReferenceBatch(memory.DefaultAllocator, rows)
	defer rec.Release()
	c, _ := planCanonical(b, rec.Schema())
	cl := &Client{ipcOpts: []ipc.Option{ipc.WithAllocator(memory.DefaultAllocator)}}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		for k := range chunks {
			part := rec.NewSlice(int64(k*rows/chunks), int64((k+1)*rows/chunks))
			out, _, _, err := c.ApplyWith(ctx, convert.ArrowAllocator, part)
			part.Release()
			if err != nil {
				b.Fatal(err)
			}
			_, _, held, err := cl.encodeHeld(out, convert.ArrowAllocator)
			out.Release()
			if err != nil {
				b.Fatal(err)
			}
			held.Release()
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}

// cpuTime is the process's user and system CPU time.
var cpuTime = rusage.CPU

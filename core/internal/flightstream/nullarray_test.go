package flightstream

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// nullArray's arrays of every length are written to Arrow IPC and read
// back as n nulls (MakeArrayOfNull's zero-length list of large_binary made
// the writer fail, and GetRecordBatchPayload panic).
func TestNullArrayWritesAsIPC(t *testing.T) {
	lb, ls := arrow.BinaryTypes.LargeBinary, arrow.BinaryTypes.LargeString
	for _, dt := range []arrow.DataType{
		lb, arrow.ListOf(lb), arrow.ListOf(ls), arrow.LargeListOf(lb), arrow.MapOf(ls, lb), arrow.MapOf(arrow.FixedWidthTypes.Boolean, lb),
		arrow.ListOf(arrow.ListOf(lb)), arrow.MapOf(ls, arrow.ListOf(ls)),
		arrow.StructOf(arrow.Field{Name: "l", Type: arrow.ListOf(ls), Nullable: true}, arrow.Field{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true}),
		arrow.ListOf(arrow.StructOf(arrow.Field{Name: "m", Type: arrow.MapOf(ls, lb), Nullable: true})),
	} {
		for _, n := range []int{0, 1, 2, 5} {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			a := nullArray(mem, dt, n)
			rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "a", Type: dt, Nullable: true}}, nil), []arrow.Array{a}, int64(n))
			a.Release()
			var buf bytes.Buffer
			w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem))
			if err := w.Write(rec); err != nil {
				t.Errorf("%s, %d nulls: writing IPC: %v", dt, n, err)
			}
			_ = w.Close()
			rec.Release()
			r, err := ipc.NewReader(&buf, ipc.WithAllocator(mem))
			if err != nil {
				t.Fatalf("%s, %d nulls: %v", dt, n, err)
			}
			if r.Next() {
				if got := r.RecordBatch().Column(0); got.Len() != n || got.NullN() != n {
					t.Errorf("%s: read back %d values, %d null; want %d nulls", dt, got.Len(), got.NullN(), n)
				}
			} else if err == nil {
				t.Errorf("%s, %d nulls: nothing read back: %v", dt, n, r.Err())
			}
			r.Release()
			mem.AssertSize(t, 0)
		}
	}
}

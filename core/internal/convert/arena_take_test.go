package convert

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/compute/exec"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The arena's Arrow allocators hand out buffers whose capacity is their
// length, as Go's allocator does: arrow-go's take kernel sizes its appends
// by the capacity and slices by the length, so a take of long strings into
// a region larger than asked for panicked ("slice bounds out of range") in
// a kernel goroutine, killing the process. The Flight transport's cast
// leaves rows out with that kernel (a null in a NOT NULL column beside a
// STRING column). Found by TestRoundTripRandom (seeds 48 and 49).
func TestArrowAllocatorCapacityIsLength(t *testing.T) {
	for _, a := range []memory.Allocator{ArrowAllocator, ArrowBodyAllocator} {
		for _, n := range []int{1, arenaAllocMin, 40 << 10, 100 << 10, 3 << 20} {
			b := a.Allocate(n)
			if len(b) != n || cap(b) != n {
				t.Errorf("Allocate(%d): len %d cap %d, want both %d", n, len(b), cap(b), n)
			}
			b = a.Reallocate(n+1000, b)
			if len(b) != n+1000 || cap(b) != n+1000 {
				t.Errorf("Reallocate(%d): len %d cap %d, want both %d", n+1000, len(b), cap(b), n+1000)
			}
			a.Free(b)
		}
	}
	// Half the values short, half long: taking the long ones outgrows the
	// kernel's estimate (the mean length times the rows taken).
	mem := memory.NewCheckedAllocator(ArrowAllocator)
	defer mem.AssertSize(t, 0)
	sb := array.NewLargeStringBuilder(mem)
	defer sb.Release()
	ib := array.NewInt64Builder(mem)
	defer ib.Release()
	for i := range 200 {
		if i%2 == 0 {
			sb.Append("x")
		} else {
			sb.Append(strings.Repeat("y", 1000))
			ib.Append(int64(i))
		}
	}
	vals, idx := sb.NewArray(), ib.NewArray()
	defer vals.Release()
	defer idx.Release()
	out, err := compute.TakeArray(exec.WithAllocator(context.Background(), mem), vals, idx)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if out.Len() != 100 || out.(*array.LargeString).Value(99) != strings.Repeat("y", 1000) {
		t.Fatalf("take: %d values, the last %q", out.Len(), out.(*array.LargeString).Value(out.Len() - 1)[:10])
	}
}

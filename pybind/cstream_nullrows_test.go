//go:build cgo

package pybind

import (
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// nullRows finds the top-level null rows of a C struct array (a batch of a
// stream), whether its null count is given or not computed (-1), and also
// in a slice (a non-zero offset).
func TestNullRowsOfAStructBatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewStructBuilder(mem, arrow.StructOf(arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}))
	defer b.Release()
	for i := range 6 {
		b.Append(i != 1 && i != 3) // rows 1 and 3 null
		b.FieldBuilder(0).(*array.Int64Builder).Append(int64(i))
	}
	withNulls := b.NewArray()
	defer withNulls.Release()
	for i := range 3 {
		b.Append(true)
		b.FieldBuilder(0).(*array.Int64Builder).Append(int64(i))
	}
	noNulls := b.NewArray()
	defer noNulls.Release()
	tail := array.NewSlice(withNulls, 2, 6) // rows 2..5: row 3 is its row 1
	defer tail.Release()
	head := array.NewSlice(withNulls, 4, 6) // rows 4..5: none null
	defer head.Release()
	for _, c := range []struct {
		name         string
		arr          arrow.Array
		uncounted    bool // null_count exported as -1
		count, first int64
	}{
		{"nulls", withNulls, false, 2, 1},
		{"nulls, null count -1", withNulls, true, 2, 1},
		{"slice with a null", tail, false, 1, 1},
		{"slice with a null, null count -1", tail, true, 1, 1},
		{"slice without nulls, null count -1", head, true, 0, -1},
		{"no nulls", noNulls, false, 0, -1},
		{"no nulls, null count -1", noNulls, true, 0, -1},
	} {
		var ca cdata.CArrowArray
		cdata.ExportArrowArray(c.arr, &ca, nil)
		if c.uncounted {
			(*[2]int64)(unsafe.Pointer(&ca))[1] = -1 // ArrowArray.null_count (ABI: after length)
		}
		count, first := nullRows(unsafe.Pointer(&ca))
		cdata.ReleaseCArrowArray(&ca)
		if count != c.count || first != c.first {
			t.Errorf("%s: nullRows = %d, first %d; want %d, first %d", c.name, count, first, c.count, c.first)
		}
	}
}

package flightstream

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// nullArray is n nulls of type dt (a column or STRUCT field the batch
// lacks or gives as Arrow's null type). arrow-go's MakeArrayOfNull shares
// one zeroed buffer sized for dt's own layout: for n == 0, a list or map of
// large_binary or large_string gets a child whose offsets buffer is
// shorter than one 64-bit offset, and the IPC writer indexes it (a panic
// in the encoder). An empty array is convert.EmptyData instead.
func nullArray(mem memory.Allocator, dt arrow.DataType, n int) arrow.Array {
	if n == 0 {
		d := convert.EmptyData(dt)
		defer d.Release()
		return array.MakeFromData(d)
	}
	return array.MakeArrayOfNull(mem, dt, n)
}

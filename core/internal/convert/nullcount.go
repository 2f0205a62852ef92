package convert

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// warmNullCounts computes the lazily cached null count of arr and its
// children. Arrow computes it on first NullN call and stores it in the
// shared ArrayData, so the encoder's goroutines would otherwise race on it
// for sliced arrays; Encode warms every column before it starts workers.
func warmNullCounts(arr arrow.Array, depth int) {
	if arr == nil || depth > 64 {
		return
	}
	arr.NullN()
	switch a := arr.(type) {
	case *array.Struct:
		for i := 0; i < a.NumField(); i++ {
			warmNullCounts(a.Field(i), depth+1)
		}
	case *array.Dictionary:
		warmNullCounts(a.Indices(), depth+1)
		warmNullCounts(a.Dictionary(), depth+1)
	case *array.RunEndEncoded:
		warmNullCounts(a.RunEndsArr(), depth+1)
		warmNullCounts(a.Values(), depth+1)
	case array.ExtensionArray:
		warmNullCounts(a.Storage(), depth+1)
	case array.ListLike:
		warmNullCounts(a.ListValues(), depth+1)
	}
}

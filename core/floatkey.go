package core

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// hasFloatMapKey reports whether s has a MAP (at any depth) whose keys are
// floats: protobuf has no float map key, so such a schema converts only
// with the catalog's types (a table's integer key, each key checked as a
// whole number; convert.FloatToInt).
func hasFloatMapKey(s *arrow.Schema) bool {
	var has func(t arrow.DataType, depth int) bool
	has = func(t arrow.DataType, depth int) bool {
		if depth > convert.MaxNestingDepth {
			return false
		}
		switch t := t.(type) {
		case *arrow.StructType:
			for _, f := range t.Fields() {
				if has(f.Type, depth+1) {
					return true
				}
			}
		case *arrow.MapType:
			switch t.KeyType().ID() {
			case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
				return true
			}
			return has(t.ItemType(), depth+1)
		case arrow.ListLikeType:
			return has(t.Elem(), depth+1)
		}
		return false
	}
	for _, f := range s.Fields() {
		if has(f.Type, 0) {
			return true
		}
	}
	return false
}

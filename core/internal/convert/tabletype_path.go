package convert

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// tableTypeAt returns the table's Arrow type at a path of the form
// Options.TableNullable uses ("s.x", "items[].sku", "m.value", "m.key"),
// from the map Options.TableType takes: the path itself when the map names
// it, else the type found inside its column's type. ok is false when the
// table has nothing there.
func tableTypeAt(types map[string]arrow.DataType, path string) (arrow.DataType, bool) {
	if t, ok := types[path]; ok {
		return t, true
	}
	cut := strings.IndexAny(path, ".[")
	if cut < 0 {
		return nil, false
	}
	t, ok := types[path[:cut]]
	for rest := path[cut:]; ok && rest != ""; {
		switch x := UnwrapType(t).(type) {
		case *arrow.StructType:
			if rest[0] != '.' {
				return nil, false
			}
			name := rest[1:]
			if i := strings.IndexAny(name, ".["); i >= 0 {
				name = name[:i]
			}
			rest = rest[1+len(name):]
			var f arrow.Field
			f, ok = x.FieldByName(name)
			t = f.Type
		case *arrow.MapType:
			switch {
			case strings.HasPrefix(rest, ".key"):
				t, rest = x.KeyType(), rest[len(".key"):]
			case strings.HasPrefix(rest, ".value"):
				t, rest = x.ItemType(), rest[len(".value"):]
			default:
				return nil, false
			}
		case arrow.ListLikeType:
			if !strings.HasPrefix(rest, "[]") {
				return nil, false
			}
			t, rest = x.Elem(), rest[2:]
		default:
			return nil, false
		}
	}
	return t, ok
}

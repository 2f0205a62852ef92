package flightstream

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// A caller string column (utf8, large_utf8, string_view, a dictionary of
// them) sent into a DECIMAL(p,s) of the table, at the top level or in a
// STRUCT field, ARRAY element, MAP key or MAP value, is checked value by
// value by the protobuf path's rule (protoarrow.CheckDecimalText): a value
// that is not a decimal number, or too large for the column, leaves its row
// out with the reason the protobuf path gives. Plain text is sent as given,
// other decimal text ("1.5e3", "+7", " 12 ") as the plain text of its value
// rounded to s places, as the protobuf path sends it.

// checkDecimalText lists the values of s that cannot be stored in d.
func checkDecimalText(s *array.LargeString, d convert.DecimalSpec) []badValue {
	var bad []badValue
	for i := range s.Len() {
		if s.IsNull(i) {
			continue
		}
		if why, _, _ := protoarrow.CheckDecimalText(textAt(s, i), d.Precision, d.Scale); why != "" {
			bad = append(bad, badValue{i: i, reason: why})
		}
	}
	return bad
}

// roundDecimalTexts returns the data of a (a column cast to the table field
// to from the caller's type from) with the DECIMAL text that came from
// caller strings in a form other than plain replaced by its rounded plain
// text (protoarrow.AppendRoundedDecimal), and true; a itself and false when
// there is none. Values under null parents, and values that cannot be
// stored (their rows are left out), are kept as they are.
func roundDecimalTexts(mem memory.Allocator, a arrow.ArrayData, from arrow.DataType, to arrow.Field) (arrow.ArrayData, bool) {
	from = plainType(from)
	if d, ok := convert.FieldDecimal(to); ok {
		if a.DataType().ID() != arrow.LARGE_STRING || !isJSONText(from) {
			return a, false
		}
		return roundLeaf(mem, a, d)
	}
	kids := a.Children()
	var fromKids, toKids []arrow.Field
	switch t := to.Type.(type) {
	case *arrow.StructType:
		ft, ok := from.(*arrow.StructType)
		if !ok || len(kids) != t.NumFields() {
			return a, false
		}
		// The cast put the batch's fields in the table's layout by name
		// (rebuildStruct); a field the batch lacks is all nulls.
		src, _ := convert.MatchStruct(ft, t)
		toKids = t.Fields()
		fromKids = make([]arrow.Field, len(toKids))
		for k := range toKids {
			switch {
			case src == nil:
				fromKids[k] = ft.Field(k)
			case src[k] < 0:
				fromKids[k] = arrow.Field{Type: arrow.Null}
			default:
				fromKids[k] = ft.Field(src[k])
			}
		}
	case *arrow.MapType:
		fm, ok := from.(*arrow.MapType)
		if !ok || len(kids) != 1 {
			return a, false
		}
		ents, changed := roundEntries(mem, kids[0], fm, t)
		return replaceChildren(a, []arrow.ArrayData{ents}, changed)
	case *arrow.ListType:
		fl, ok := from.(arrow.ListLikeType)
		if !ok || len(kids) != 1 {
			return a, false
		}
		fromKids, toKids = []arrow.Field{fl.ElemField()}, []arrow.Field{t.ElemField()}
	default:
		return a, false
	}
	out := make([]arrow.ArrayData, len(kids))
	changed := false
	for k := range kids {
		var c bool
		out[k], c = roundDecimalTexts(mem, kids[k], fromKids[k].Type, toKids[k])
		changed = changed || c
	}
	return replaceChildren(a, out, changed)
}

// roundEntries is roundDecimalTexts for the entries of a MAP (keys, values).
func roundEntries(mem memory.Allocator, ents arrow.ArrayData, from, to *arrow.MapType) (arrow.ArrayData, bool) {
	kids := ents.Children()
	if len(kids) != 2 {
		return ents, false
	}
	k, kc := roundDecimalTexts(mem, kids[0], from.KeyType(), to.KeyField())
	v, vc := roundDecimalTexts(mem, kids[1], from.ItemType(), to.ItemField())
	return replaceChildren(ents, []arrow.ArrayData{k, v}, kc || vc)
}

// replaceChildren returns a with the children kids (the new ones released
// here) when changed.
func replaceChildren(a arrow.ArrayData, kids []arrow.ArrayData, changed bool) (arrow.ArrayData, bool) {
	if !changed {
		return a, false
	}
	d := array.NewData(a.DataType(), a.Len(), a.Buffers(), kids, a.NullN(), a.Offset())
	old := a.Children()
	for k := range kids {
		if kids[k] != old[k] {
			kids[k].Release()
		}
	}
	return d, true
}

// textAt is value i of s, without a copy.
func textAt(s *array.LargeString, i int) []byte {
	v := s.Value(i)
	return unsafe.Slice(unsafe.StringData(v), len(v))
}

// roundLeaf rewrites the decimal text of a large_utf8 array.
func roundLeaf(mem memory.Allocator, a arrow.ArrayData, d convert.DecimalSpec) (arrow.ArrayData, bool) {
	s := array.NewLargeStringData(a)
	defer s.Release()
	get := func(i int) []byte { return textAt(s, i) }
	first := -1
	for i := range s.Len() {
		if s.IsValid(i) {
			if why, plain, _ := protoarrow.CheckDecimalText(get(i), d.Precision, d.Scale); why == "" && !plain {
				first = i
				break
			}
		}
	}
	if first < 0 {
		return a, false
	}
	b := array.NewLargeStringBuilder(mem)
	defer b.Release()
	b.Reserve(s.Len())
	var buf []byte
	for i := range s.Len() {
		if s.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := get(i)
		if i >= first {
			if why, plain, _ := protoarrow.CheckDecimalText(v, d.Precision, d.Scale); why == "" && !plain {
				v, _ = protoarrow.AppendRoundedDecimal(buf[:0], v, d.Precision, d.Scale)
				buf = v
			}
		}
		b.BinaryBuilder.Append(v)
	}
	out := b.NewArray()
	defer out.Release()
	out.Data().Retain()
	return out.Data(), true
}

package flightstream

import (
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/variant"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// VARIANT columns travel over Flight as struct{metadata, value} of
// large_binary in the Parquet Variant encoding (protocol §9). Callers hold
// them as JSON text, as the protobuf path sends them, at the top level or
// inside a STRUCT, ARRAY or MAP; Apply encodes each value (castTo rebuilds
// the nested arrays around them). A value that is not one JSON document, or
// an object with a key given twice, leaves its row out with the reason and
// its path, as a null in a NOT NULL column does.
//
// Callers may also give a VARIANT already encoded, as struct{metadata,
// value} binaries. The local server reads each value with
// protoarrow.VariantJSON and refuses the whole batch when one is malformed;
// checkVariants reads each with the same reader first (a VariantChecker: no
// allocation, a metadata shared by consecutive values read once), so a
// malformed value leaves its row out instead, named by its path, and the
// other rows are sent.

// isVariant reports whether t is the table's VARIANT type: a struct of the
// binaries "metadata" and "value".
func isVariant(t arrow.DataType) bool { return protoarrow.IsVariantType(t) }

// jsonText returns the string accessor of a string, large_string or
// string_view array; ok is false for other arrays.
func jsonText(a arrow.Array) (value func(int) string, ok bool) {
	switch s := a.(type) {
	case *array.String:
		return s.Value, true
	case *array.LargeString:
		return s.Value, true
	case *array.StringView:
		return s.Value, true
	}
	return nil, false
}

// isJSONText reports whether a column of type t can be given for a VARIANT
// column.
func isJSONText(t arrow.DataType) bool {
	if d, ok := t.(*arrow.DictionaryType); ok {
		t = d.ValueType
	}
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	}
	return false
}

// encodeVariants encodes the JSON text of a (see jsonText) as VARIANT
// values of type to; bad[r] is why row r could not be encoded ("" for the
// rows that could).
func encodeVariants(mem memory.Allocator, a arrow.Array, to arrow.DataType) (out arrow.Array, bad map[int]string, err error) {
	text, ok := jsonText(a)
	if !ok {
		return nil, nil, fmt.Errorf("%s is not JSON text", a.DataType())
	}
	b := array.NewStructBuilder(mem, to.(*arrow.StructType))
	defer b.Release()
	meta := b.FieldBuilder(0).(*array.BinaryBuilder)
	val := b.FieldBuilder(1).(*array.BinaryBuilder)
	b.Reserve(a.Len())
	for r := range a.Len() {
		if a.IsNull(r) {
			b.AppendNull()
			continue
		}
		s := text(r)
		var reason string
		var v variant.Value
		if !utf8.ValidString(s) { // as the protobuf path fails it (Go's JSON would store U+FFFD)
			reason = convert.InvalidUTF8Reason(s)
		} else if pv, perr := protoarrow.ParseVariantJSON(s); perr != nil {
			reason = perr.Error()
		} else {
			v = pv
		}
		if reason != "" {
			if bad == nil {
				bad = map[int]string{}
			}
			bad[r] = reason
			b.AppendNull() // left out of the batch sent
			continue
		}
		b.Append(true)
		meta.Append(v.Metadata().Bytes())
		val.Append(v.Bytes())
	}
	return b.NewArray(), bad, nil
}

// checkVariants lists the VARIANT values of a (struct{metadata, value}) the
// local server would refuse: one part null (a VARIANT is null as a whole or
// not at all), or bytes that are not a well-formed Variant.
func checkVariants(a arrow.Array) []badValue {
	sa, ok := a.(*array.Struct)
	if !ok || sa.NullN() == sa.Len() {
		return nil
	}
	meta, mok := sa.Field(0).(*array.LargeBinary)
	val, vok := sa.Field(1).(*array.LargeBinary)
	if !mok || !vok {
		return nil
	}
	var bad []badValue
	var c protoarrow.VariantChecker
	for i := range sa.Len() {
		if !sa.IsValid(i) {
			continue
		}
		if meta.IsNull(i) || val.IsNull(i) {
			bad = append(bad, badValue{i: i, reason: "VARIANT value without metadata or value bytes; make the whole value null instead"})
		} else if err := c.Check(meta.Value(i), val.Value(i)); err != nil {
			bad = append(bad, badValue{i: i, reason: err.Error()})
		}
	}
	return bad
}

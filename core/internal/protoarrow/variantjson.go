package protoarrow

import (
	"encoding/json"
	"fmt"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet/variant"
)

// The rule for the JSON text of a VARIANT value, written once for every
// place that meets it: the Flight client encodes the text with
// ParseVariantJSON, the protobuf client checks the text it sends for a
// column the table declares VARIANT with CheckVariantJSON, and the local
// server checks the text of a PROTO or JSON record's VARIANT field with it
// too, so a value fails the same way on both transports and the server
// stores nothing a Flight client could not have sent.

// ParseVariantJSON parses s, which must be exactly one JSON document, into
// a VARIANT value in the Parquet Variant encoding. It fails for text that
// is not one JSON document, an object that gives a key twice, or a value
// the encoding cannot hold (a number outside the float64 range); the error
// text is what a failed row reports.
func ParseVariantJSON(s string) (v variant.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = variant.Value{}, fmt.Errorf("VARIANT value could not be encoded: %v", p)
		}
	}()
	// variant.ParseJSON reads the first document and ignores what follows
	// it, so the text is checked whole first; only a failure is parsed
	// again, for encoding/json's description of what is wrong.
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	if !json.Valid(b) {
		var x any
		return variant.Value{}, fmt.Errorf("VARIANT value is not valid JSON: %v", json.Unmarshal(b, &x))
	}
	v, err = variant.ParseJSON(s, false)
	if err != nil {
		return variant.Value{}, fmt.Errorf("VARIANT value: %v", err)
	}
	return v, nil
}

// CheckVariantJSON reports whether ParseVariantJSON accepts text, with its
// error. text is only read.
func CheckVariantJSON(text []byte) error {
	_, err := ParseVariantJSON(unsafe.String(unsafe.SliceData(text), len(text)))
	return err
}

// IsVariantType reports whether t is a table's VARIANT type as the clients
// read it from Unity Catalog: a struct of the large_binary fields
// "metadata" and "value", in that order.
func IsVariantType(t arrow.DataType) bool {
	st, ok := t.(*arrow.StructType)
	if !ok || st.NumFields() != 2 {
		return false
	}
	m, v := st.Field(0), st.Field(1)
	return m.Name == "metadata" && v.Name == "value" &&
		m.Type.ID() == arrow.LARGE_BINARY && v.Type.ID() == arrow.LARGE_BINARY
}

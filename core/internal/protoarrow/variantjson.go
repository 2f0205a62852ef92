package protoarrow

import (
	"bytes"
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
// too, so a value fails the same way on both transports. The text must be
// UTF-8: every caller checks that first (the quick check and the full parse
// may disagree on other text), with the STRING reason.

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
// error. text is only read. Most text is accepted without building the
// value: valid JSON (json.Valid) whose objects give each key once, with
// no escaped key, no number with an exponent or over 38 characters, up to
// maxPlainVariantJSON bytes and maxPlainVariantKeys keys an object, is
// what ParseVariantJSON accepts; anything else is parsed in full, so the
// answer and its error are ParseVariantJSON's.
func CheckVariantJSON(text []byte) error {
	if len(text) <= maxPlainVariantJSON && json.Valid(text) && plainVariantJSON(text) {
		return nil
	}
	_, err := ParseVariantJSON(unsafe.String(unsafe.SliceData(text), len(text)))
	return err
}

const (
	maxPlainVariantJSON = 1 << 20 // far below the Variant metadata limits
	maxPlainVariantKeys = 64      // keys compared pairwise
)

// plainVariantJSON reports whether valid JSON text t has no key given twice
// in one object, no key with an escape (compared as decoded text by the
// parser), no number with an exponent or over 38 characters and no object
// of more than maxPlainVariantKeys keys. false only means "parse it in
// full".
func plainVariantJSON(t []byte) bool {
	var keysBuf [32][]byte
	var stackBuf [32]int
	keys, stack := keysBuf[:0], stackBuf[:0] // stack: an object's first key in keys, -1 for an array
	inObject := func() bool { return len(stack) > 0 && stack[len(stack)-1] >= 0 }
	expectKey := false
	for i := 0; i < len(t); {
		switch c := t[i]; {
		case c == '{':
			stack = append(stack, len(keys))
			expectKey = true
			i++
		case c == '[':
			stack = append(stack, -1)
			expectKey = false
			i++
		case c == '}' || c == ']':
			if top := stack[len(stack)-1]; top >= 0 {
				keys = keys[:top]
			}
			stack = stack[:len(stack)-1]
			expectKey = false
			i++
		case c == ',':
			expectKey = inObject()
			i++
		case c == '"':
			j, escaped := i+1, false
			for {
				k := bytes.IndexAny(t[j:], "\\\"")
				j += k
				if t[j] == '"' {
					break
				}
				escaped = true
				j += 2
			}
			if expectKey {
				if escaped {
					return false
				}
				key, first := t[i+1:j], stack[len(stack)-1]
				if len(keys)-first >= maxPlainVariantKeys {
					return false
				}
				for _, k := range keys[first:] {
					if bytes.Equal(k, key) {
						return false
					}
				}
				keys = append(keys, key)
				expectKey = false
			}
			i = j + 1
		case c == '-' || c >= '0' && c <= '9':
			j, exp := i, false
			for j < len(t) && (t[j] >= '0' && t[j] <= '9' || t[j] == '-' || t[j] == '+' || t[j] == '.' || t[j] == 'e' || t[j] == 'E') {
				exp = exp || t[j] == 'e' || t[j] == 'E'
				j++
			}
			// An exponent, or more than 38 digits, is left to the full
			// parse: arrow-go reads such numbers as decimals of a
			// precision or scale it may not hold (and panics on some).
			if exp || j-i > 38 {
				return false
			}
			i = j
		default: // ':', white space, true, false, null
			i++
		}
	}
	return true
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

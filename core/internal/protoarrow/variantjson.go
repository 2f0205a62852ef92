package protoarrow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/parquet/variant"
	gojson "github.com/goccy/go-json"
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
// a VARIANT value in the Parquet Variant encoding, as Spark's parse_json
// does: an integer that fits BIGINT is the smallest integer type holding
// it; any other number written without an exponent whose precision and
// scale are at most 38 is a decimal (of 4, 8 or 16 bytes, the smallest
// that holds it); every other number (an exponent, or more digits than
// DECIMAL(38) holds) is a DOUBLE. It fails for text that is not one JSON
// document, an object that gives a key twice, a value nested deeper than
// MaxVariantDepth (the depth the readers accept) or a number outside the
// DOUBLE range; the error text is what a failed row reports.
func ParseVariantJSON(s string) (v variant.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = variant.Value{}, fmt.Errorf("VARIANT value could not be encoded: %v", p)
		}
	}()
	// The decoder reads the first document and ignores what follows it, so
	// the text is checked whole first; only a failure is parsed again, for
	// encoding/json's description of what is wrong.
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	if !json.Valid(b) {
		var x any
		return variant.Value{}, fmt.Errorf("VARIANT value is not valid JSON: %v", json.Unmarshal(b, &x))
	}
	var vb variant.Builder
	// goccy/go-json's decoder (arrow-go's) reads tokens with half the
	// allocations of encoding/json's; its Number and Delim are encoding/json's.
	dec := gojson.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := appendJSONValue(&vb, dec, 0); err != nil {
		if errors.Is(err, errVariantTooDeep) {
			return variant.Value{}, fmt.Errorf("VARIANT value: JSON nested %d levels deep (objects and arrays inside each other), over the limit of %d; flatten it", jsonDepth(b), MaxVariantDepth)
		}
		return variant.Value{}, fmt.Errorf("VARIANT value: %w", err)
	}
	if v, err = vb.Build(); err != nil {
		return variant.Value{}, fmt.Errorf("VARIANT value: %w", err)
	}
	return v, nil
}

var errVariantTooDeep = errors.New("nested too deep")

// appendJSONValue appends the next JSON value of dec (valid JSON) to b; depth
// is the number of objects and arrays around it.
func appendJSONValue(b *variant.Builder, dec *gojson.Decoder, depth int) error {
	if depth > MaxVariantDepth {
		return errVariantTooDeep
	}
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("failed to parse JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		start := b.Offset()
		if t == '[' {
			var offsets []int
			for dec.More() {
				offsets = append(offsets, b.NextElement(start))
				if err := appendJSONValue(b, dec, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil { // ']'
				return fmt.Errorf("failed to parse JSON: %w", err)
			}
			return b.FinishArray(start, offsets)
		}
		var fields []variant.FieldEntry
		for dec.More() {
			key, err := dec.Token()
			if err != nil {
				return fmt.Errorf("failed to parse JSON: %w", err)
			}
			k, _ := key.(string) // valid JSON: object keys are strings
			fields = append(fields, b.NextField(start, k))
			if err := appendJSONValue(b, dec, depth+1); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // '}'
			return fmt.Errorf("failed to parse JSON: %w", err)
		}
		if err := b.FinishObject(start, fields); err != nil {
			return fmt.Errorf("failed to parse JSON: %w", err)
		}
		return nil
	case string:
		return b.AppendString(t)
	case bool:
		return b.AppendBool(t)
	case nil:
		return b.AppendNull()
	case json.Number:
		return appendJSONNumber(b, string(t))
	}
	return fmt.Errorf("failed to parse JSON: unexpected token %T", tok)
}

// appendJSONNumber appends the JSON number n by Spark's parse_json rule
// (see ParseVariantJSON).
func appendJSONNumber(b *variant.Builder, n string) error {
	plain := !strings.ContainsAny(n, "eE") // no exponent
	if plain && !strings.Contains(n, ".") {
		if i, err := strconv.ParseInt(n, 10, 64); err == nil {
			return b.AppendInt(i)
		}
	}
	if plain {
		if ok, err := appendJSONDecimal(b, n); ok {
			return err
		}
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		if len(n) > 40 {
			n = fmt.Sprintf("%s… (%d characters)", n[:24], len(n))
		}
		return fmt.Errorf("the number %s is outside the range of a DOUBLE (about ±1.8e308)", n)
	}
	return b.AppendFloat64(f)
}

// appendJSONDecimal appends the JSON number n, written without an
// exponent, as a decimal when its precision and scale are at most 38;
// false when they are not (n is then a DOUBLE).
func appendJSONDecimal(b *variant.Builder, n string) (bool, error) {
	neg := n[0] == '-'
	if neg {
		n = n[1:]
	}
	whole, frac, _ := strings.Cut(n, ".")
	// The precision counts the digits from the first that is not 0.
	prec := len(strings.TrimLeft(whole, "0"))
	if prec == 0 {
		prec = len(strings.TrimLeft(frac, "0"))
	} else {
		prec += len(frac)
	}
	prec, scale := max(prec, 1), len(frac)
	if prec > 38 || scale > 38 {
		return false, nil
	}
	if prec <= 18 && scale <= 18 {
		var u int64
		for _, part := range [2]string{whole, frac} {
			for i := 0; i < len(part); i++ {
				u = u*10 + int64(part[i]-'0')
			}
		}
		if neg {
			u = -u
		}
		if prec <= 9 && scale <= 9 {
			return true, b.AppendDecimal4(uint8(scale), decimal.Decimal32(u))
		}
		return true, b.AppendDecimal8(uint8(scale), decimal.Decimal64(u))
	}
	u, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok {
		return true, fmt.Errorf("the number %s is not a decimal", n)
	}
	if neg {
		u.Neg(u)
	}
	return true, b.AppendDecimal16(uint8(scale), decimal128.FromBigInt(u))
}

// jsonDepth is the greatest number of objects and arrays around a value of
// valid JSON text t.
func jsonDepth(t []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case inString:
			if c == '\\' {
				i++
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
			deepest = max(deepest, depth)
		case c == '{' || c == '[':
			deepest = max(deepest, depth)
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ',' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default: // a number, true, false, null
			deepest = max(deepest, depth)
		}
	}
	return deepest
}

// CheckVariantJSON reports whether ParseVariantJSON accepts text, with its
// error. text is only read. Most text is accepted without building the
// value: valid JSON (json.Valid) whose objects give each key once, with
// no escaped key, no number outside the DOUBLE range, no more than
// MaxVariantDepth objects and arrays inside each other, up to
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
// parser), no number outside the DOUBLE range, no object of more than
// maxPlainVariantKeys keys and no more than MaxVariantDepth objects and
// arrays open at once. false only means "parse it in full".
func plainVariantJSON(t []byte) bool {
	var keysBuf [32][]byte
	var stackBuf [32]int
	keys, stack := keysBuf[:0], stackBuf[:0] // stack: an object's first key in keys, -1 for an array
	inObject := func() bool { return len(stack) > 0 && stack[len(stack)-1] >= 0 }
	expectKey := false
	for i := 0; i < len(t); {
		switch c := t[i]; {
		case c == '{' || c == '[':
			if len(stack) == MaxVariantDepth {
				return false // perhaps a value nested too deep
			}
			if c == '{' {
				stack = append(stack, len(keys))
			} else {
				stack = append(stack, -1)
			}
			expectKey = c == '{'
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
			// ParseVariantJSON takes every number a DOUBLE holds (as an
			// integer, a decimal or a DOUBLE); one of at most 38
			// characters without an exponent always fits.
			if (exp || j-i > 38) && !fitsDouble(t[i:j]) {
				return false
			}
			i = j
		default: // ':', white space, true, false, null
			i++
		}
	}
	return true
}

// fitsDouble reports whether the JSON number n is within the DOUBLE range
// (one that rounds to zero is).
func fitsDouble(n []byte) bool {
	_, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(n), len(n)), 64)
	return err == nil
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

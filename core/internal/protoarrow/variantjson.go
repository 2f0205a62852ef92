package protoarrow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	gojson "github.com/goccy/go-json"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/parquet/variant"
)

// The rule for the JSON text of a VARIANT value, written once for every
// place that meets it: the Flight client encodes the text with
// ParseVariantJSON, the protobuf client checks the text it sends for a
// column the table declares VARIANT with CheckVariantJSON, and the local
// server checks the text of a PROTO or JSON record's VARIANT field with it
// too, so a value fails the same way on both transports. The text must be
// UTF-8: every caller checks that first, with the STRING reason, and both
// functions here refuse other text too (Go's JSON decoders would store each
// bad byte as U+FFFD), so no caller can send a value that is not the text.

// ParseVariantJSON parses s, which must be exactly one JSON document, into
// a VARIANT value in the Parquet Variant encoding, as Spark's parse_json
// does: an integer that fits BIGINT is the smallest integer type holding
// it; any other number written without an exponent whose precision and
// scale are at most 38 is a decimal (of 4, 8 or 16 bytes, the smallest
// that holds it); every other number (an exponent, or more digits than
// DECIMAL(38) holds) is a DOUBLE, and one outside the DOUBLE range is the
// DOUBLE +Infinity or -Infinity. It fails for text that is not one JSON
// document, an object that gives a key twice, more than MaxVariantDepth
// objects and arrays open at once (Spark's limit, the depth the readers
// accept) or a \u escape of half a UTF-16 surrogate pair without its other
// half (Spark's parse_json refuses those too), and for text that is not
// UTF-8; the error text is what a failed row reports.
func ParseVariantJSON(s string) (v variant.Value, err error) {
	defer func() {
		if p := recover(); p != nil {
			v, err = variant.Value{}, fmt.Errorf("VARIANT value could not be encoded: %v", p)
		}
	}()
	if err := variantUTF8(s); err != nil {
		return variant.Value{}, err
	}
	// The decoder reads the first document and ignores what follows it, so
	// the text is checked whole first; only a failure is parsed again, for
	// encoding/json's description of what is wrong.
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	if !json.Valid(b) {
		var x any
		return variant.Value{}, fmt.Errorf("VARIANT value is not valid JSON: %v", json.Unmarshal(b, &x))
	}
	if err := loneSurrogate(s); err != nil {
		return variant.Value{}, err
	}
	// goccy/go-json's decoder (arrow-go's) reads tokens with a third of the
	// allocations of encoding/json's and 2.5x as fast; its Number and Delim
	// are encoding/json's. But it scans a string's escapes again for each
	// one (1 MB of \\ took 9 s), so text with many escapes is read by
	// encoding/json's, which is linear.
	var dec jsonTokens
	if bytes.Count(b, []byte{'\\'}) > maxFastDecoderEscapes {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		dec = d
	} else {
		d := gojson.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		dec = d
	}
	var w variantWriter
	w.heads, w.arena = w.headsBuf[:0], w.arenaBuf[:0]
	if err := w.value(dec, 0); err != nil {
		if errors.Is(err, errVariantTooDeep) {
			return variant.Value{}, fmt.Errorf("VARIANT value: JSON nested %d levels deep (objects and arrays inside each other), over the limit of %d; flatten it", jsonDepth(b), MaxVariantDepth)
		}
		return variant.Value{}, fmt.Errorf("VARIANT value: %w", err)
	}
	if v, err = w.build(); err != nil {
		return variant.Value{}, fmt.Errorf("VARIANT value: %w", err)
	}
	return v, nil
}

var errVariantTooDeep = errors.New("nested too deep")

// variantUTF8 fails text s that is not UTF-8, naming the first bad byte.
// json.Valid takes such bytes inside a string and the decoders read each as
// U+FFFD, so without this the value would hold other text than was given.
func variantUTF8(s string) error {
	if utf8.ValidString(s) {
		return nil
	}
	at := 0
	for at < len(s) {
		r, n := utf8.DecodeRuneInString(s[at:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		at += n
	}
	return fmt.Errorf("VARIANT value is not valid UTF-8 (byte %d of %d is 0x%02x); JSON text must be UTF-8: fix the encoding", at, len(s), s[at])
}

// jsonTokens is the JSON decoder ParseVariantJSON reads tokens from.
type jsonTokens interface {
	Token() (json.Token, error)
	More() bool
}

// maxFastDecoderEscapes is the most escapes a text read by goccy/go-json's
// decoder may hold (see ParseVariantJSON).
const maxFastDecoderEscapes = 256

// A variantWriter encodes a JSON document as a Variant value without
// moving bytes already written: arrow-go's Builder writes the primitives
// and keeps the key dictionary, but the header of an object or array
// (before its values, and sized by them) is written aside once they are
// known and put in place when the value is built. (The Builder's
// FinishArray and FinishObject move every byte written since the
// container opened to make room for its header, at each level: depth ×
// size, seconds for a long string inside 1000 arrays.)
type variantWriter struct {
	b     variant.Builder
	heads []variantHead // one per container, in the order they open: the order of the bytes
	arena []byte        // the headers
	moved int           // bytes of the headers finished so far

	headsBuf [4]variantHead // for small documents
	arenaBuf [64]byte
}

// variantHead is a container's header arena[off:off+n], to go before the
// byte at of the Builder's value bytes.
type variantHead struct{ at, off, n int }

// pos is the position the next byte written will have in the value.
func (w *variantWriter) pos() int { return w.b.Offset() + w.moved }

// open records the header of a container opening here; its position in
// the value is returned.
func (w *variantWriter) open() (idx, start int) {
	w.heads = append(w.heads, variantHead{at: w.b.Offset()})
	return len(w.heads) - 1, w.pos()
}

// finish makes arena[off:] the header of container idx.
func (w *variantWriter) finish(idx, off int) {
	w.heads[idx].off, w.heads[idx].n = off, len(w.arena)-off
	w.moved += len(w.arena) - off
}

// appendUint appends v as an n-byte little-endian unsigned integer.
func appendUint(b []byte, v int, n int) []byte {
	for i := range n {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// uintSize is the number of bytes that hold v (1 to 4).
func uintSize(v int) int {
	switch {
	case v <= 0xff:
		return 1
	case v <= 0xffff:
		return 2
	case v <= 0xffffff:
		return 3
	}
	return 4
}

// build puts the headers in place and returns the value.
func (w *variantWriter) build() (variant.Value, error) {
	// Room for the headers at the end (the arena is as long as they are),
	// then from the last header back, each byte moved once to its place.
	if err := w.b.UnsafeAppendEncoded(w.arena); err != nil {
		return variant.Value{}, err
	}
	v, err := w.b.Build()
	if err != nil {
		return v, err
	}
	buf := v.Bytes()
	end, src := len(buf), len(buf)-w.moved
	for i := len(w.heads) - 1; i >= 0; i-- {
		h := w.heads[i]
		end -= copy(buf[end-(src-h.at):end], buf[h.at:src])
		end -= copy(buf[end-h.n:end], w.arena[h.off:h.off+h.n])
		src = h.at
	}
	return v, nil
}

// value appends the next JSON value of dec (valid JSON); depth is the
// number of objects and arrays around it.
func (w *variantWriter) value(dec jsonTokens, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("failed to parse JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxVariantDepth { // this one would be open inside depth others
			return errVariantTooDeep
		}
		if t == '[' {
			return w.array(dec, depth)
		}
		return w.object(dec, depth)
	case string:
		return w.b.AppendString(t)
	case bool:
		return w.b.AppendBool(t)
	case nil:
		return w.b.AppendNull()
	case json.Number:
		return appendJSONNumber(&w.b, string(t))
	}
	return fmt.Errorf("failed to parse JSON: unexpected token %T", tok)
}

// array appends the array whose '[' dec just read: header (basic type 3,
// a count of 1 or 4 bytes, offsets of 1 to 4), offsets, values.
func (w *variantWriter) array(dec jsonTokens, depth int) error {
	idx, start := w.open()
	var offsets []int
	for dec.More() {
		offsets = append(offsets, w.pos()-start)
		if err := w.value(dec, depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return fmt.Errorf("failed to parse JSON: %w", err)
	}
	size, n := w.pos()-start, len(offsets)
	large, countSize, osz := 0, 1, uintSize(size)
	if n > 0xff {
		large, countSize = 1, 4
	}
	off := len(w.arena)
	w.arena = append(w.arena, byte(large<<4|(osz-1)<<2|3))
	w.arena = appendUint(w.arena, n, countSize)
	for _, o := range offsets {
		w.arena = appendUint(w.arena, o, osz)
	}
	w.arena = appendUint(w.arena, size, osz)
	w.finish(idx, off)
	return nil
}

// object appends the object whose '{' dec just read: header (basic type
// 2, a count of 1 or 4 bytes, ids and offsets of 1 to 4), the field ids
// and offsets in the order of their keys, the values in the order read. A
// key given twice fails.
func (w *variantWriter) object(dec jsonTokens, depth int) error {
	idx, start := w.open()
	var fields []variant.FieldEntry
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return fmt.Errorf("failed to parse JSON: %w", err)
		}
		k, _ := key.(string) // valid JSON: object keys are strings
		fields = append(fields, variant.FieldEntry{Key: k, ID: w.b.AddKey(k), Offset: w.pos() - start})
		if err := w.value(dec, depth+1); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return fmt.Errorf("failed to parse JSON: %w", err)
	}
	slices.SortFunc(fields, func(a, b variant.FieldEntry) int { return strings.Compare(a.Key, b.Key) })
	maxID := 0
	for i, f := range fields {
		if i > 0 && f.Key == fields[i-1].Key {
			return fmt.Errorf("failed to parse JSON: disallowed duplicate key found: %s", f.Key)
		}
		maxID = max(maxID, int(f.ID))
	}
	size, n := w.pos()-start, len(fields)
	large, countSize, idSize, osz := 0, 1, uintSize(maxID), uintSize(size)
	if n > 0xff {
		large, countSize = 1, 4
	}
	off := len(w.arena)
	w.arena = append(w.arena, byte(large<<6|(idSize-1)<<4|(osz-1)<<2|2))
	w.arena = appendUint(w.arena, n, countSize)
	for _, f := range fields {
		w.arena = appendUint(w.arena, int(f.ID), idSize)
	}
	for _, f := range fields {
		w.arena = appendUint(w.arena, f.Offset, osz)
	}
	w.arena = appendUint(w.arena, size, osz)
	w.finish(idx, off)
	return nil
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
	// Past the DOUBLE range ParseFloat gives ±Inf (with ErrRange), what
	// Spark stores; n is a valid JSON number, so there is no other error.
	f, _ := strconv.ParseFloat(n, 64)
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

// loneSurrogate fails valid JSON text s holding a \u escape of a UTF-16
// surrogate (U+D800 to U+DFFF) that is not one half of a pair: a high one
// followed by a low one. Such an escape names no character (Go's decoder
// would store U+FFFD, the protobuf path send the text as it is), and
// Spark's parse_json refuses it.
func loneSurrogate(s string) error {
	// In valid JSON a backslash only starts an escape inside a string, so
	// reading the escapes one after another from the first finds each.
	for i := strings.IndexByte(s, '\\'); i >= 0; {
		next := i + 2
		if s[i+1] == 'u' {
			r := hex4(s[i+2 : i+6])
			next = i + 6
			switch {
			case r >= 0xd800 && r < 0xdc00:
				if strings.HasPrefix(s[next:], `\u`) {
					if lo := hex4(s[next+2 : next+6]); lo >= 0xdc00 && lo < 0xe000 {
						next += 6
						break
					}
				}
				return fmt.Errorf("VARIANT value: the string escape %s is a lone high surrogate (half of a UTF-16 pair, not followed by a low surrogate \\udc00-\\udfff), which is no character; write the character itself or its full pair", s[i:i+6])
			case r >= 0xdc00 && r < 0xe000:
				return fmt.Errorf("VARIANT value: the string escape %s is a lone low surrogate (half of a UTF-16 pair, not after a high surrogate \\ud800-\\udbff), which is no character; write the character itself or its full pair", s[i:i+6])
			}
		}
		k := strings.IndexByte(s[next:], '\\')
		if k < 0 {
			break
		}
		i = next + k
	}
	return nil
}

// hex4 is the value of the four hexadecimal digits h.
func hex4(h string) rune {
	var r rune
	for i := range 4 {
		c := rune(h[i])
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | c
	}
	return r
}

// jsonDepth is the greatest number of objects and arrays open at once in
// valid JSON text t (as Jackson counts nesting).
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
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// CheckVariantJSON reports whether ParseVariantJSON accepts text, with its
// error. text is only read. Most text is accepted without building the
// value: valid JSON (json.Valid) whose objects give each key once, with
// no escaped key, no \u escape of a surrogate (U+D800-U+DFFF), no more
// than MaxVariantDepth objects and arrays inside each other, up to
// maxPlainVariantJSON bytes and maxPlainVariantKeys keys an object, is
// what ParseVariantJSON accepts (every number is: one outside the DOUBLE
// range is ±Infinity) when it is UTF-8; anything else is parsed in full,
// so the answer and its error are ParseVariantJSON's.
func CheckVariantJSON(text []byte) error {
	if len(text) <= maxPlainVariantJSON && utf8.Valid(text) && json.Valid(text) && plainVariantJSON(text) {
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
// parser), no \u escape of half a surrogate pair without the other half
// right after it (the parser refuses those), no object of more than maxPlainVariantKeys keys and no more
// than MaxVariantDepth objects and arrays open at once. false only means
// "parse it in full".
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
				if t[j+1] == 'u' && t[j+2]|0x20 == 'd' && t[j+3] >= '8' { // \uD800-\uDFFF (8, 9, a-f, A-F)
					// a high surrogate followed at once by a low one is a pair: plain
					if t[j+3]|0x20 < 'c' && j+12 <= len(t) && t[j+6] == '\\' && t[j+7] == 'u' && t[j+8]|0x20 == 'd' && t[j+9]|0x20 >= 'c' {
						j += 12
						continue
					}
					return false
				}
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
		default: // ':', white space, numbers (ParseVariantJSON takes every one), true, false, null
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

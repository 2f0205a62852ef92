package protoarrow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/variant"
)

// VariantJSON gives back the JSON a value was built from (empty containers,
// nesting, escapes and big integers included).
func TestVariantJSONRoundTrip(t *testing.T) {
	for _, doc := range []string{
		`{}`, `[]`, `{"a":[]}`, `null`, `true`, `0.1`, `-7`, `12345678901234567890123`,
		`"tab\tquote\"é"`, `{"ctl\u0001":1,"b":{"c":[1,[2,[3]],{}]}}`,
	} {
		v, err := variant.ParseJSON(doc, false)
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		text, err := VariantJSON(v.Metadata().Bytes(), v.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		var got, want any
		if err := json.Unmarshal(text, &got); err != nil {
			t.Fatalf("%s gave %s, not JSON: %v", doc, text, err)
		}
		_ = json.Unmarshal([]byte(doc), &want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s gave %s", doc, text)
		}
	}
}

// FuzzVariantJSON: malformed VARIANT bytes are an error, never a panic;
// whatever decodes is JSON, and CheckVariant and a VariantChecker say
// what VariantJSON says.
func FuzzVariantJSON(f *testing.F) {
	for _, doc := range []string{`{"a":[1,"x",{"b":null}]}`, `[]`, `3.5`} {
		v, err := variant.ParseJSON(doc, false)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v.Metadata().Bytes(), v.Bytes())
	}
	f.Add([]byte{1, 0, 0}, []byte{0x02, 0xff})
	// Values malformed below a well-formed array (a key id past the
	// dictionary, a field starting past its object, element offsets running
	// backwards) are in testdata/fuzz/FuzzVariantJSON, with inputs that
	// crashed arrow-go's decoder.
	for _, doc := range []string{`[{"a":[{"a":[]}]},[[1,"x"]],{"a":{"a":{"a":null}}}]`, `{"a":[[],{}],"b":[{"c":[1.5]}]}`} {
		v, err := variant.ParseJSON(doc, false)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v.Metadata().Bytes(), v.Bytes())
	}
	f.Fuzz(func(t *testing.T, meta, value []byte) {
		text, err := VariantJSON(meta, value)
		if err == nil && !json.Valid(text) {
			t.Fatalf("decoded to %q, not JSON", text)
		}
		if cerr := CheckVariant(meta, value); fmt.Sprint(cerr) != fmt.Sprint(err) {
			t.Fatalf("CheckVariant: %v, VariantJSON: %v", cerr, err)
		}
		// A checker that read this metadata for another value (a copy of
		// it: the dictionary is reused, not re-read) says the same.
		var c VariantChecker
		_ = c.Check(meta, []byte{0})
		if cerr := c.Check(bytes.Clone(meta), value); fmt.Sprint(cerr) != fmt.Sprint(err) {
			t.Fatalf("VariantChecker: %v, VariantJSON: %v", cerr, err)
		}
	})
}

package zerobuslocal

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/variant"
)

// variantJSON gives back the JSON a value was built from (empty containers,
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
		text, err := variantJSON(v.Metadata().Bytes(), v.Bytes())
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

// FuzzVariantJSON: malformed VARIANT bytes from a client are an error,
// never a panic, and whatever decodes is JSON.
func FuzzVariantJSON(f *testing.F) {
	for _, doc := range []string{`{"a":[1,"x",{"b":null}]}`, `[]`, `3.5`} {
		v, err := variant.ParseJSON(doc, false)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v.Metadata().Bytes(), v.Bytes())
	}
	f.Add([]byte{1, 0, 0}, []byte{0x02, 0xff})
	for _, m := range malformedNested { // values malformed below a well-formed array
		f.Add(m[0], m[1])
	}
	for _, doc := range []string{`[{"a":[{"a":[]}]},[[1,"x"]],{"a":{"a":{"a":null}}}]`, `{"a":[[],{}],"b":[{"c":[1.5]}]}`} {
		v, err := variant.ParseJSON(doc, false)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v.Metadata().Bytes(), v.Bytes())
	}
	f.Fuzz(func(t *testing.T, meta, value []byte) {
		text, err := variantJSON(meta, value)
		if err == nil && !json.Valid(text) {
			t.Fatalf("decoded to %q, not JSON", text)
		}
	})
}

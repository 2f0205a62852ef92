package protoarrow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

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

// overlappingObjects is a value of depth objects, each with two fields
// ("a", "b") whose values are both the same object below it: 16 bytes a
// level, but 2^depth values to read if the fields may overlap.
func overlappingObjects(depth int) (meta, value []byte) {
	meta = []byte{0x11, 2, 0, 1, 2, 'a', 'b'} // sorted dictionary of "a", "b"
	value = []byte{0}                         // null
	for range depth {
		n := uint32(len(value))
		// object: 1-byte ids, 4-byte offsets; 2 fields, ids 0 and 1, both at offset 0
		level := []byte{0x0e, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}
		value = append(level, value...)
	}
	return meta, value
}

// Fields of an object whose values overlap are malformed: the readers
// (the local server's VariantJSON, the Flight client's check of values
// given encoded) refuse them at once instead of reading the shared value
// once a path, 2^60 times here.
func TestVariantObjectFieldsMayNotOverlap(t *testing.T) {
	meta, value := overlappingObjects(60)
	done := make(chan [2]error, 1)
	go func() {
		_, err := VariantJSON(meta, value)
		done <- [2]error{err, CheckVariant(meta, value)}
	}()
	select {
	case errs := <-done:
		for _, err := range errs {
			if err == nil || !strings.Contains(err.Error(), "VARIANT value is malformed: object fields' values overlap") {
				t.Errorf("%v, want the overlap named", err)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading 60 levels of objects whose two fields share one value still runs after 10 s")
	}
	// One level of it is fine for every reader but this check: the
	// encoders never write it.
	meta, value = overlappingObjects(1)
	if _, err := VariantJSON(meta, value); err == nil {
		t.Errorf("two fields on one value read without an error")
	}
}

// Values nested MaxVariantDepth deep, the deepest the parser writes, read
// in linear time: a wide array at every level.
func TestVariantJSONAtMaxDepth(t *testing.T) {
	doc := strings.Repeat(`[1,"x",`, 999) + `{"k":null}` + strings.Repeat("]", 999)
	v, err := ParseVariantJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	text, err := VariantJSON(v.Metadata().Bytes(), v.Bytes())
	if err != nil || string(text) != doc {
		t.Fatalf("%.60s… (%v), want the text back", text, err)
	}
	if err := CheckVariant(v.Metadata().Bytes(), v.Bytes()); err != nil {
		t.Fatal(err)
	}
}

package protoarrow

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// variantJSONSeeds are texts each side of the rule: one document or not,
// keys given twice (also escaped, also nested, also in sibling objects
// where they are fine), numbers a float64 holds or not, wide objects.
var variantJSONSeeds = []string{
	`{"a": 1, "b": [true, null, "x"], "c": {"d": 2.5}}`, `not json`, `{"a": 1, "a": 2}`, `1 2`, ``, ` `, `"é"`,
	`{"a": 1, "\u0061": 2}`, `{"a\"b": 1, "a\"b": 2}`, `{"a\\": 1, "b": 2}`, `[{"k": 1}, {"k": 2}]`, `{"x": {"k": 1, "k": 2}}`,
	`{"k": {"a": 1}, "j": {"a": 1}}`, `[1e400]`, `-1e400`, `1e-400`, `1.5e3`, `12345678901234567890123456789012345678901234567890`,
	`0.12345678901234567890123456789012345678901234567890`, `-0`, `[]`, `{}`, `{"": 1, "": 2}`, `[[[[{"a": [{"a": 1}]}]]]]`,
	`{"a": 1,}`, `[1,]`, `{"a" 1}`, `nul`, `"\ud800"`, "\"\xff\"", `{"k": "v", "v": "k"}`,
	`1` + strings.Repeat("0", 320), `1` + strings.Repeat("0", 320) + `.5`, `{"a": "\"}", "b": 1, "a": 3}`,
}

// CheckVariantJSON (its fast path for plain text included) accepts and
// refuses exactly what ParseVariantJSON does, with the same error.
func TestCheckVariantJSONMatchesParse(t *testing.T) {
	wide := "{"
	for i := range 70 {
		if i > 0 {
			wide += ", "
		}
		wide += `"k` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `": 1`
	}
	for _, s := range append(variantJSONSeeds, wide+"}", wide+`, "ka": 2}`) {
		checkVariantJSONAgrees(t, s)
	}
}

func checkVariantJSONAgrees(t *testing.T, s string) {
	t.Helper()
	_, perr := ParseVariantJSON(s)
	cerr := CheckVariantJSON([]byte(s))
	if (perr == nil) != (cerr == nil) || perr != nil && perr.Error() != cerr.Error() {
		t.Fatalf("%.80q: CheckVariantJSON = %v, ParseVariantJSON = %v", s, cerr, perr)
	}
}

func FuzzCheckVariantJSON(f *testing.F) {
	for _, s := range variantJSONSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // the callers check UTF-8 first
		}
		checkVariantJSONAgrees(t, s)
	})
}

// BenchmarkCheckVariantJSON: one small object, the fast path and the full
// parse.
//
//	go test -run '^$' -bench BenchmarkCheckVariantJSON ./core/internal/protoarrow/
func BenchmarkCheckVariantJSON(b *testing.B) {
	doc := []byte(`{"id": 1234, "name": "item", "tags": ["a", "b"], "price": 12.5, "ok": true}`)
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := CheckVariantJSON(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Valid", func(b *testing.B) { // the part of check that is encoding/json's
		for b.Loop() {
			if !json.Valid(doc) {
				b.Fatal("invalid")
			}
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseVariantJSON(string(doc)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

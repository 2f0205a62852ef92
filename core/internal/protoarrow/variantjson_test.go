package protoarrow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/parquet/variant"
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
	// Numbers past DECIMAL(38) (arrow-go's parser panicked on some), with
	// exponents as Python writes them, nesting at and past MaxVariantDepth.
	`123456789012345678901234567890123456789`, `-0.` + strings.Repeat("1", 39), `0.` + strings.Repeat("0", 40) + `1`,
	`[1e-05, 2.5E+10, -3e0]`, `{"p": 1e-05}`, `1.0e2`, `1e308`, `1.8e308`, `-2e308`,
	strings.Repeat("[", 1000) + `1` + strings.Repeat("]", 1000), strings.Repeat("[", 1001) + `1` + strings.Repeat("]", 1001),
	strings.Repeat("[", 1001) + strings.Repeat("]", 1001), strings.Repeat(`{"a":`, 1001) + `{}` + strings.Repeat("}", 1001),
	strings.Repeat("[", 1000) + strings.Repeat("]", 1000), strings.Repeat(`{"a":`, 1000) + `{}` + strings.Repeat("}", 1000),
	// Numbers outside the DOUBLE range (±Infinity), surrogate escapes
	// paired or lone, in values and keys.
	`1E+400`, `{"a": [-1e400, 1e-400]}`, `"\ud83d\ude00"`, `"\uD83D\uDE00x"`, `{"\ud83d\ude00": 1}`, `"\ud800"`,
	`{"\ud800": 1}`, `"\udc00x"`, `"\ud800\u0041"`, `"\ud800\ud800"`, `"\ude00\ud83d"`, `"\\ud800"`, `"\u0041\uDBFF"`,
	`["ok", "\uDFFF"]`, `{"k": "\ud7ff\ue000"}`,
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

// checkVariantJSONAgrees also checks that what ParseVariantJSON encodes
// the readers decode (the local server's, the Flight client's check of
// values given encoded): no value deeper than they read.
func checkVariantJSONAgrees(t *testing.T, s string) {
	t.Helper()
	v, perr := ParseVariantJSON(s)
	cerr := CheckVariantJSON([]byte(s))
	if (perr == nil) != (cerr == nil) || perr != nil && perr.Error() != cerr.Error() {
		t.Fatalf("%.80q: CheckVariantJSON = %v, ParseVariantJSON = %v", s, cerr, perr)
	}
	if perr == nil {
		if _, err := VariantJSON(v.Metadata().Bytes(), v.Bytes()); err != nil {
			t.Fatalf("%.80q: ParseVariantJSON encodes a value VariantJSON refuses: %v", s, err)
		}
	}
}

// Numbers are encoded as Spark's parse_json encodes them: an integer in
// BIGINT range as the smallest integer, a number without an exponent of
// precision and scale up to 38 as the smallest decimal holding it, every
// other number (an exponent, more digits than DECIMAL(38) holds) as a
// DOUBLE, one outside the DOUBLE range as ±Infinity (as Spark stores it).
func TestParseVariantJSONNumbersAsSpark(t *testing.T) {
	digits39 := "123456789012345678901234567890123456789"
	for _, tc := range []struct {
		in   string
		typ  variant.Type
		json string // as VariantJSON decodes it
	}{
		{"1", variant.Int8, "1"},
		{"-300", variant.Int16, "-300"},
		{"9223372036854775807", variant.Int64, "9223372036854775807"},
		{"9223372036854775808", variant.Decimal16, "9223372036854775808"},
		{"-0", variant.Int8, "0"},
		{"1.50", variant.Decimal4, "1.50"},
		{"-0.0", variant.Decimal4, "0.0"},
		{"0.000000001", variant.Decimal4, "0.000000001"},
		{"0.0000000001", variant.Decimal8, "0.0000000001"},
		{"12345678901.25", variant.Decimal8, "12345678901.25"},
		{"-1234567890123456789.5", variant.Decimal16, "-1234567890123456789.5"},
		{digits39[:38], variant.Decimal16, digits39[:38]},
		{"0." + digits39[:38], variant.Decimal16, "0." + digits39[:38]},
		{digits39, variant.Double, "1.2345678901234568e+38"},
		{"-" + digits39 + "0", variant.Double, "-1.2345678901234568e+39"},
		{"0." + digits39, variant.Double, "0.12345678901234568"},
		{"0." + strings.Repeat("0", 38) + "5", variant.Double, "5e-39"},
		{"1e-05", variant.Double, "1e-05"},
		{"2.5E+3", variant.Double, "2500"},
		{"1.0e2", variant.Double, "100"},
		{"1e-400", variant.Double, "0"},
		// Outside the DOUBLE range: ±Infinity, as Spark stores them, and
		// written as Spark's to_json writes them.
		{"1E+400", variant.Double, `"Infinity"`},
		{"-1e400", variant.Double, `"-Infinity"`},
		{"[1.8e308, -2e308]", variant.Array, `["Infinity","-Infinity"]`},
		{"1" + strings.Repeat("0", 400), variant.Double, `"Infinity"`},
		{"-1" + strings.Repeat("0", 320) + ".5", variant.Double, `"-Infinity"`},
		{"1e308", variant.Double, "1e+308"},
	} {
		v, err := ParseVariantJSON(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		text, err := VariantJSON(v.Metadata().Bytes(), v.Bytes())
		if v.Type() != tc.typ || err != nil || string(text) != tc.json {
			t.Errorf("%s: %v %s (%v), want %v %s", tc.in, v.Type(), text, err, tc.typ, tc.json)
		}
	}
}

// A value inside more than MaxVariantDepth objects and arrays fails, naming
// its depth and the limit; one at the limit is encoded, and decodes.
func TestParseVariantJSONDepth(t *testing.T) {
	nest := func(n int, inner string) string {
		return strings.Repeat(`{"a": [`, n/2) + strings.Repeat("[", n%2) + inner + strings.Repeat("]", n%2) + strings.Repeat("]}", n/2)
	}
	for n, want := range map[int]string{
		100:  "",
		101:  "",
		1000: "",
		1001: "VARIANT value: JSON nested 1001 levels deep (objects and arrays inside each other), over the limit of 1000; flatten it",
		1500: "VARIANT value: JSON nested 1500 levels deep (objects and arrays inside each other), over the limit of 1000; flatten it",
	} {
		for _, inner := range []string{`1`, `"s"`, `null`} {
			s := nest(n, inner)
			v, err := ParseVariantJSON(s)
			if want == "" {
				if err != nil {
					t.Fatalf("depth %d: %v", n, err)
				}
				if _, err := VariantJSON(v.Metadata().Bytes(), v.Bytes()); err != nil {
					t.Fatalf("depth %d: encoded a value the reader refuses: %v", n, err)
				}
			} else if err == nil || err.Error() != want {
				t.Fatalf("depth %d: %v, want %q", n, err, want)
			}
			checkVariantJSONAgrees(t, s)
		}
	}
	// Containers count, not values: 999 levels around an empty array or
	// object are 1000 open, 1000 around one are 1001 (Spark refuses it).
	for _, inner := range []string{`[]`, `{}`, `{"k": [1]}`} {
		if _, err := ParseVariantJSON(nest(999, inner)); err != nil && inner != `{"k": [1]}` {
			t.Errorf("999 levels around %s: %v", inner, err)
		}
		want := "VARIANT value: JSON nested 1001 levels deep (objects and arrays inside each other), over the limit of 1000; flatten it"
		if inner == `{"k": [1]}` {
			want = strings.Replace(want, "1001", "1002", 1)
		}
		if _, err := ParseVariantJSON(nest(1000, inner)); err == nil || err.Error() != want {
			t.Errorf("1000 levels around %s: %v, want %q", inner, err, want)
		}
		checkVariantJSONAgrees(t, nest(999, inner))
		checkVariantJSONAgrees(t, nest(1000, inner))
	}
}

func TestMaxVariantDepthIsSparks(t *testing.T) {
	if MaxVariantDepth != 1000 {
		t.Fatalf("MaxVariantDepth = %d, want Spark's 1000", MaxVariantDepth)
	}
}

// A \u escape of half a UTF-16 surrogate pair without its other half, in
// a value or a key, fails naming it (Spark's parse_json refuses it; Go's
// decoder would store U+FFFD); a full pair is the character it encodes.
func TestParseVariantJSONLoneSurrogates(t *testing.T) {
	for in, want := range map[string]string{
		`"\ud83d\ude00"`:              `"😀"`,
		`{"\uD83D\uDE00": "x\u00e9"}`: `{"😀":"xé"}`,
		`"\\ud800"`:                   `"\\ud800"`, // an escaped backslash, then text
		`"\ud7ff\ue000"`:              "\"\ud7ff\ue000\"",
	} {
		v, err := ParseVariantJSON(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		got, err := VariantJSON(v.Metadata().Bytes(), v.Bytes())
		if err != nil || string(got) != want {
			t.Errorf("%s: stored %s (%v), want %s", in, got, err, want)
		}
	}
	high := "VARIANT value: the string escape %s is a lone high surrogate"
	low := "VARIANT value: the string escape %s is a lone low surrogate"
	for in, want := range map[string]string{
		`"\ud800"`:             fmt.Sprintf(high, `\ud800`),
		`{"\ud800": 1}`:        fmt.Sprintf(high, `\ud800`),
		`"\udc00x"`:            fmt.Sprintf(low, `\udc00`),
		`"\ud800\u0041"`:       fmt.Sprintf(high, `\ud800`),
		`"\ud800\ud800"`:       fmt.Sprintf(high, `\ud800`),
		`"\ude00\ud83d"`:       fmt.Sprintf(low, `\ude00`),
		`["ok", "a\uDBFF"]`:    fmt.Sprintf(high, `\uDBFF`),
		`"\ud83d\ude00\uDFFF"`: fmt.Sprintf(low, `\uDFFF`),
	} {
		_, err := ParseVariantJSON(in)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
		checkVariantJSONAgrees(t, in)
	}
}

// JSON text that is not UTF-8 fails, naming the first bad byte, in a
// string value, a key or after a whole document: json.Valid takes such
// bytes inside a string and Go's decoders read each as U+FFFD, so the value
// stored would be other text than was given. Both checks agree.
func TestParseVariantJSONRefusesInvalidUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"\"\xff\"":                  "VARIANT value is not valid UTF-8 (byte 1 of 3 is 0xff); ",
		"{\"k\xc3\": 1}":            "VARIANT value is not valid UTF-8 (byte 3 of 9 is 0xc3); ",
		"[\"é\", \"a\xa9b\"]":       "VARIANT value is not valid UTF-8 (byte 9 of 13 is 0xa9); ",
		"{\"é\": \"\xed\xa0\x80\"}": "VARIANT value is not valid UTF-8 (byte 8 of 13 is 0xed); ", // an encoded surrogate
		"1\xff":                     "VARIANT value is not valid UTF-8 (byte 1 of 2 is 0xff); ",
	} {
		v, err := ParseVariantJSON(in)
		if err == nil {
			got, _ := VariantJSON(v.Metadata().Bytes(), v.Bytes())
			t.Errorf("%q: stored as %s, want an error", in, got)
			continue
		}
		if !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
		if cerr := CheckVariantJSON([]byte(in)); cerr == nil || cerr.Error() != err.Error() {
			t.Errorf("%q: CheckVariantJSON = %v, ParseVariantJSON = %v", in, cerr, err)
		}
	}
}

func FuzzCheckVariantJSON(f *testing.F) {
	for _, s := range variantJSONSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkVariantJSONAgrees(t, s)
		if _, err := ParseVariantJSON(s); err == nil && !utf8.ValidString(s) {
			t.Fatalf("%q is not UTF-8 but ParseVariantJSON accepts it", s)
		}
	})
}

// BenchmarkCheckVariantJSON: one small object, the fast path (also with a
// number written with an exponent) and the full parse.
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
	// Numbers as Python's json.dumps writes small floats: with an exponent.
	exp := []byte(`{"id": 1234, "name": "item", "tags": ["a", "b"], "price": 1e-05, "ok": true}`)
	b.Run("check_exponent", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := CheckVariantJSON(exp); err != nil {
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

// Numbers with an exponent, as Python's json.dumps writes small floats, are
// decided by the quick check (a DOUBLE unless outside its range), not by
// the full parse, which allocates a value: 0 allocations.
// quickCheckAllocs is the most allocations a call of the quick check may
// show: none, but json.Valid's scanner comes from a sync.Pool, which the
// race detector empties at random (a few allocations now and then, which
// AllocsPerRun's average can round to 1). The full parse makes ~30.
const quickCheckAllocs = 2

func TestCheckVariantJSONExponentIsQuick(t *testing.T) {
	doc := []byte(`{"p": 1e-05, "q": [2.5E+3, -7e-300], "r": 1.5e300}`)
	if allocs := testing.AllocsPerRun(50, func() {
		if err := CheckVariantJSON(doc); err != nil {
			t.Fatal(err)
		}
	}); allocs > quickCheckAllocs {
		t.Errorf("CheckVariantJSON allocated %v times a call, want none (the full parse allocates ~30)", allocs)
	}
}

// ParseVariantJSON writes objects and arrays byte for byte as arrow-go's
// Builder does (its FinishArray and FinishObject, which variant.ParseJSON
// uses), for documents whose numbers both encode alike (small integers):
// empty, wide (over 255 elements or fields: 4-byte counts), deep, with
// offsets of 1, 2 and 3 bytes, keys repeated across objects.
func TestParseVariantJSONLayoutAsArrowGo(t *testing.T) {
	var wide, wideObj strings.Builder
	wide.WriteString("[")
	wideObj.WriteString("{")
	for i := range 300 {
		if i > 0 {
			wide.WriteString(",")
			wideObj.WriteString(",")
		}
		fmt.Fprintf(&wide, `{"k%d": [%d, "s"]}`, i%7, i)
		fmt.Fprintf(&wideObj, `"key%03d": [%d]`, 299-i, i)
	}
	wide.WriteString("]")
	wideObj.WriteString("}")
	for _, doc := range []string{
		`1`, `"s"`, `null`, `[]`, `{}`, `[[]]`, `[{}]`, `{"a": {}}`, `[1, [2, [3, {"b": [], "a": null}]], true]`,
		`{"z": 1, "a": {"z": [1, 2], "m": "x"}, "m": [{"a": 1}]}`, wide.String(), wideObj.String(),
		`["` + strings.Repeat("x", 300) + `", {"b": "` + strings.Repeat("y", 70000) + `", "a": 1}]`,
		`{"big": "` + strings.Repeat("z", 1<<24) + `"}`,
		strings.Repeat(`{"a": [`, 400) + `{"k": "v"}` + strings.Repeat("]}", 400),
	} {
		v, err := ParseVariantJSON(doc)
		if err != nil {
			t.Fatalf("%.60s: %v", doc, err)
		}
		want, err := variant.ParseJSON(doc, false)
		if err != nil {
			t.Fatalf("%.60s: arrow-go: %v", doc, err)
		}
		if !bytes.Equal(v.Bytes(), want.Bytes()) || !bytes.Equal(v.Metadata().Bytes(), want.Metadata().Bytes()) {
			t.Errorf("%.60s: value %.80x metadata %.80x, arrow-go writes %.80x %.80x", doc, v.Bytes(), v.Metadata().Bytes(), want.Bytes(), want.Metadata().Bytes())
		}
	}
}

// Encoding a long string inside 999 arrays costs about what it costs
// inside one: no byte is moved once per level (arrow-go's Builder moved
// the whole value at every level, ~40x here).
func TestParseVariantJSONDeepIsLinear(t *testing.T) {
	str := `"` + strings.Repeat("x", 2<<20) + `"`
	cost := func(depth int) time.Duration {
		doc := strings.Repeat("[", depth) + str + strings.Repeat("]", depth)
		best := time.Duration(math.MaxInt64)
		for range 3 {
			start := time.Now()
			if _, err := ParseVariantJSON(doc); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	shallow, deep := cost(1), cost(999)
	if deep > 8*shallow+20*time.Millisecond {
		t.Errorf("a 2 MiB string inside 999 arrays took %v to encode, inside one %v: want about the same", deep, shallow)
	}
}

// An escaped surrogate pair (how Python's json.dumps writes every emoji) is
// plain: the quick check takes it without the full parse (a lone half still
// goes to the parse, which refuses it).
func TestCheckVariantJSONSurrogatePairIsQuick(t *testing.T) {
	doc := []byte(`{"mood": "\ud83d\ude00 ok", "k": ["\uD83D\uDE00"]}`)
	if allocs := testing.AllocsPerRun(50, func() {
		if err := CheckVariantJSON(doc); err != nil {
			t.Fatal(err)
		}
	}); allocs > quickCheckAllocs {
		t.Errorf("CheckVariantJSON allocated %v times a call, want none (the full parse allocates ~30)", allocs)
	}
	for _, bad := range []string{`"\ud83d"`, `"\ud83d x"`, `"\ude00\ud83d"`, `"\ud83d\u0041"`} {
		if err := CheckVariantJSON([]byte(bad)); err == nil || !strings.Contains(err.Error(), "surrogate") {
			t.Errorf("CheckVariantJSON(%s) = %v, want the lone surrogate refused", bad, err)
		}
	}
}

// Text with many escapes is parsed in linear time: goccy/go-json's decoder
// rescans a string's escapes for each one (1 MB of \\ took 9 s), so such
// text goes to encoding/json's. Both sides of the switch encode alike.
func TestParseVariantJSONManyEscapesIsLinear(t *testing.T) {
	// Linear, by a ratio that load and -race do not change: 10× the
	// escapes take about 10× the time (best of 5 each), where a quadratic
	// parse takes 100×. The bound leaves room for the large document's
	// garbage collection on a loaded machine (up to 35× seen at a load
	// of 15 on 2 cores).
	best := func(doc string) time.Duration {
		var b time.Duration
		for i := range 5 {
			start := time.Now()
			if _, err := ParseVariantJSON(doc); err != nil {
				t.Fatal(err)
			}
			if took := time.Since(start); i == 0 || took < b {
				b = took
			}
		}
		return b
	}
	small, large := best(`["`+strings.Repeat(`\\`, 100_000)+`"]`), best(`["`+strings.Repeat(`\\`, 1_000_000)+`"]`)
	if ratio := float64(large) / float64(small); ratio > 50 {
		t.Errorf("10× the escapes took %.0f× the time (%v against %v), want about 10× (linear)", ratio, large, small)
	}
	doc := `["` + strings.Repeat(`\\`, 1_000_000) + `"]`
	v, err := ParseVariantJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	arr, ok := v.Value().(variant.ArrayValue)
	if !ok || arr.Len() != 1 {
		t.Fatalf("parsed to %T, want an array of one", v.Value())
	}
	if e, err := arr.Value(0); err != nil || e.Value() != strings.Repeat(`\`, 1_000_000) {
		t.Errorf("parsed to the wrong value (%v)", err)
	}
	// The same document read by each decoder: 200 escapes, then 100 more
	// (A written as \u0041), over maxFastDecoderEscapes.
	text := func(a string) string {
		return fmt.Sprintf(`{"a": "%s%s", "b": [1, 2.5, -3e-7, "\u00e9", {"c": null, "d": true}], "e": 12345678901234567890}`,
			strings.Repeat(`\n`, 200), strings.Repeat(a, 100))
	}
	fast, slow := text("A"), text(`\u0041`)
	if strings.Count(fast, `\`) > maxFastDecoderEscapes || strings.Count(slow, `\`) <= maxFastDecoderEscapes {
		t.Fatal("the two texts are not each side of maxFastDecoderEscapes")
	}
	fv, err := ParseVariantJSON(fast)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := ParseVariantJSON(slow)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fv.Bytes(), sv.Bytes()) || !bytes.Equal(fv.Metadata().Bytes(), sv.Metadata().Bytes()) {
		t.Errorf("the two decoders encode one document differently")
	}
}

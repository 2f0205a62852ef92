package protoarrow

import (
	"math/big"
	"regexp"
	"strings"
	"testing"
)

func TestCheckDecimalText(t *testing.T) {
	for _, c := range []struct {
		text   string
		p, s   int
		stored string // "" when refused
		plain  bool
	}{
		{"1.23", 10, 2, "1.23", true},
		{"1.234", 10, 2, "1.23", true},
		{"1.235", 4, 2, "1.24", true},
		{"-1.235", 4, 2, "-1.24", true},
		{"99.994", 4, 2, "99.99", true},
		{"99.995", 4, 2, "", true},
		{"-99.995", 4, 2, "", true},
		{"99.99", 4, 2, "99.99", true},
		{"100", 4, 2, "", true},
		{"0.995", 2, 2, "", true},
		{"0.994", 2, 2, "0.99", true},
		{"9.5", 1, 0, "", true},
		{"9.4", 1, 0, "9", true},
		{"0.5", 1, 0, "1", true},
		{"0.005", 3, 2, "0.01", true},
		{"0.0049", 3, 2, "0.00", true},
		{"-0.001", 10, 2, "0.00", true},
		{"-0", 1, 0, "0", true},
		{"000123.4500", 5, 2, "123.45", true},
		{"0", 38, 38, "0." + strings.Repeat("0", 38), true},
		{"12345678901234567890123456789012345678", 38, 0, "12345678901234567890123456789012345678", true},
		{"123456789012345678901234567890123456789", 38, 0, "", true},
		// Decimal text not in the plain form: sent rounded.
		{"1e2", 5, 2, "100.00", false},
		{"1E2", 3, 0, "100", false},
		{"1.5e-1", 3, 2, "0.15", false},
		{"-1.5E+1", 3, 0, "-15", false},
		{"+1.5", 3, 1, "1.5", false},
		{".5", 2, 1, "0.5", false},
		{"5.", 2, 1, "5.0", false},
		{" 12.5\t\n", 4, 1, "12.5", false},
		{"1e-2147483647", 10, 2, "0.00", false},
		{"1e2147483647", 10, 2, "", false},
		{"0e2147483647", 10, 2, "0.00", false},
		{"9.9995e1", 4, 2, "", false}, {"9.995e1", 4, 2, "99.95", false},
		{"9.99949e1", 4, 2, "99.99", false},
		// Not decimal text.
		{"abc", 10, 2, "", false}, {"", 10, 2, "", false}, {" ", 10, 2, "", false}, {"-", 10, 2, "", false},
		{".", 10, 2, "", false}, {"1,5", 10, 2, "", false}, {"NaN", 10, 2, "", false}, {"Infinity", 10, 2, "", false},
		{"0x10", 10, 2, "", false}, {"1e", 10, 2, "", false}, {"1e+", 10, 2, "", false}, {"e5", 10, 2, "", false},
		{"1.2.3", 10, 2, "", false}, {"--1", 10, 2, "", false}, {"1 2", 10, 2, "", false}, {"1e2147483648", 10, 2, "", false},
		{"١", 10, 2, "", false}, {"1_000", 10, 2, "", false},
	} {
		why, plain, number := CheckDecimalText([]byte(c.text), c.p, c.s)
		got, ok := AppendRoundedDecimal(nil, []byte(c.text), c.p, c.s)
		if ok != (why == "") || ok != (c.stored != "") || string(got) != c.stored {
			t.Errorf("%q into DECIMAL(%d,%d): stored %q (ok %v), reason %q; want %q", c.text, c.p, c.s, got, ok, why, c.stored)
		}
		if ok && plain != c.plain {
			t.Errorf("%q: plain %v", c.text, plain)
		}
		if number != (ok || strings.Contains(why, "does not fit")) {
			t.Errorf("%q: number %v, reason %q", c.text, number, why)
		}
	}
	if why, _, _ := CheckDecimalText([]byte("99.995"), 4, 2); why != "99.995 does not fit the table's DECIMAL(4,2), which holds at most 2 digits before the point (values are rounded half-up to 2 places first); correct or filter the row, or give the column a larger precision" {
		t.Errorf("reason: %q", why)
	}
	if why, _, _ := CheckDecimalText([]byte("abc"), 4, 2); why != `"abc" is not a number for the table's DECIMAL(4,2): decimal text is an optional sign, digits with an optional decimal point and an optional exponent (-12.50, 1.5e3)` {
		t.Errorf("reason: %q", why)
	}
	long := strings.Repeat("7", 1000)
	if why, _, _ := CheckDecimalText([]byte(long), 4, 2); len(why) > 300 {
		t.Errorf("a long value is quoted whole: %d bytes", len(why))
	}
	if why, _, _ := CheckDecimalText([]byte(long+"x"), 4, 2); len(why) > 300 {
		t.Errorf("a long value is quoted whole: %d bytes", len(why))
	}
}

// decimalGrammar is the accepted form, written independently of the parser.
var decimalGrammar = regexp.MustCompile(`^[ \t\n\r\f\v]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?[ \t\n\r\f\v]*$`)

// referenceRound rounds text half-up (away from zero) to s places with
// math/big and formats it with s fraction digits; ok is false when the
// value has more than p−s integer digits then.
func referenceRound(text string, p, s int) (string, bool) {
	x, ok := new(big.Rat).SetString(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(text), "+")))
	if !ok {
		panic("reference cannot read " + text)
	}
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s)), nil)
	x.Mul(x, new(big.Rat).SetInt(scale))
	neg := x.Sign() < 0
	x.Abs(x)
	q, r := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
	if new(big.Int).Mul(r, big.NewInt(2)).Cmp(x.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	digits := q.String()
	for len(digits) <= s {
		digits = "0" + digits
	}
	ip, fp := digits[:len(digits)-s], digits[len(digits)-s:]
	if len(strings.TrimLeft(ip, "0")) > p-s {
		return "", false
	}
	out := ip
	if s > 0 {
		out += "." + fp
	}
	if neg && q.Sign() != 0 {
		out = "-" + out
	}
	return out, true
}

// FuzzDecimalText checks the decimal text rule against the grammar and a
// math/big reference for the rounding and the range.
func FuzzDecimalText(f *testing.F) {
	for _, s := range []string{"1.235", "-99.995", "1e2", ".5", "5.", " 7 ", "abc", "0.0049", "9.995e1", "+0", "1e-5", "00.00e0", "1.23", "-0.00", "0.10", "100", "-0.01", "01.20", "12"} {
		f.Add(s, uint8(4), uint8(2))
	}
	f.Fuzz(func(t *testing.T, text string, pb, sb uint8) {
		p := int(pb%38) + 1
		s := int(sb) % (p + 1)
		why, plain, number := CheckDecimalText([]byte(text), p, s)
		got, ok := AppendRoundedDecimal([]byte("x"), []byte(text), p, s)
		if string(got[:1]) != "x" || ok != (why == "") {
			t.Fatalf("%q: AppendRoundedDecimal %q %v, CheckDecimalText %q", text, got, ok, why)
		}
		if number == strings.Contains(why, "is not a number") {
			t.Fatalf("%q: number %v, reason %q", text, number, why)
		}
		if !decimalGrammar.MatchString(text) {
			if !strings.Contains(why, "is not a number") {
				t.Fatalf("%q is not decimal text, accepted: %q", text, why)
			}
			return
		}
		if strings.Contains(why, "is not a number") {
			// Only an exponent past Java's int range is refused.
			if !regexp.MustCompile(`[0-9]{10,}[ \t\n\r\f\v]*$`).MatchString(text) {
				t.Fatalf("%q is decimal text, refused: %q", text, why)
			}
			return
		}
		if m := regexp.MustCompile(`[eE][+-]?0*([0-9]+)`).FindStringSubmatch(text); m != nil && len(m[1]) > 4 {
			return // a large exponent: too slow for the reference
		}
		want, wok := referenceRound(text, p, s)
		if wok != ok || (ok && string(got[1:]) != want) {
			t.Fatalf("%q into DECIMAL(%d,%d): got %q %v (%q), reference %q %v", text, p, s, got[1:], ok, why, want, wok)
		}
		if ok && plain && !regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`).MatchString(text) {
			t.Fatalf("%q is called plain", text)
		}
	})
}

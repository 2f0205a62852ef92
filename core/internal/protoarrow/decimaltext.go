package protoarrow

import (
	"fmt"
	"math"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/plural"
)

// DECIMAL(p,s) values travel as decimal text on both transports (a protobuf
// string, a Flight large_utf8). One rule reads that text, for the clients
// (which fail a row whose value cannot be stored) and for the local server
// (which refuses such a record and stores the others as the service does):
//
//   - Decimal text is what Spark's string to DECIMAL cast reads (Java's
//     BigDecimal form): an optional sign, digits with an optional decimal
//     point (".5" and "5." too), and an optional exponent ("e" or "E", an
//     optional sign, digits; 1.5e3 is 1500), surrounded by any spaces,
//     tabs or line breaks. Anything else ("abc", "", "1,5", "NaN",
//     "Infinity", "0x10") is not a number for a DECIMAL column.
//   - The value is rounded half-up (away from zero) to s fraction digits,
//     as Spark's cast does: 1.235 into DECIMAL(4,2) is 1.24, -1.235 is
//     -1.24. It fits when it then has at most p−s digits before the point:
//     99.995 into DECIMAL(4,2) rounds to 100.00 and does not fit.
//
// Text of the plain form (an optional '-', digits, optionally '.' and
// digits) is sent as given; the service parses it as surely as the
// clients' own decimal columns. Other decimal text (an exponent, a '+',
// surrounding spaces, ".5") is sent as the plain text of its rounded value
// (AppendRoundedDecimal), which is what the table stores either way.

// decimalText is decimal text split into its parts: the mantissa digits
// (int and frac, the point between them) and the exponent.
type decimalText struct {
	neg       bool
	int, frac []byte
	exp       int64
}

// isSpace reports the bytes around decimal text that are ignored.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// parseDecimalText splits text; ok is false when it is not decimal text.
// plain is true when text has the plain form (sent as given).
func parseDecimalText(text []byte) (d decimalText, plain, ok bool) {
	t := text
	for len(t) > 0 && isSpace(t[0]) {
		t = t[1:]
	}
	for len(t) > 0 && isSpace(t[len(t)-1]) {
		t = t[:len(t)-1]
	}
	plain = len(t) == len(text)
	if len(t) > 0 && (t[0] == '-' || t[0] == '+') {
		d.neg = t[0] == '-'
		plain = plain && d.neg
		t = t[1:]
	}
	i := 0
	for i < len(t) && isDigit(t[i]) {
		i++
	}
	d.int, t = t[:i], t[i:]
	if len(t) > 0 && t[0] == '.' {
		j := 1
		for j < len(t) && isDigit(t[j]) {
			j++
		}
		d.frac, t = t[1:j], t[j:]
		plain = plain && len(d.int) > 0 && len(d.frac) > 0
	}
	if len(d.int) == 0 && len(d.frac) == 0 {
		return d, false, false
	}
	if len(t) > 0 && (t[0] == 'e' || t[0] == 'E') {
		plain = false
		t = t[1:]
		eneg := false
		if len(t) > 0 && (t[0] == '-' || t[0] == '+') {
			eneg = t[0] == '-'
			t = t[1:]
		}
		if len(t) == 0 {
			return d, false, false
		}
		for ; len(t) > 0 && isDigit(t[0]); t = t[1:] {
			d.exp = d.exp*10 + int64(t[0]-'0')
			if d.exp > math.MaxInt32 { // past Java's BigDecimal exponent
				return d, false, false
			}
		}
		if eneg {
			d.exp = -d.exp
		}
	}
	if len(t) > 0 {
		return d, false, false
	}
	return d, plain, true
}

// digit returns mantissa digit k (int then frac), k in [0, n).
func (d *decimalText) digit(k int) byte {
	if k < len(d.int) {
		return d.int[k]
	}
	return d.frac[k-len(d.int)]
}

// rounded is a decimal value rounded to s fraction digits: its digits (no
// leading zero; none for 0) with point of them before the decimal point
// (point may be ≤ 0 or past the digits).
type rounded struct {
	neg     bool
	src     *decimalText
	skip    int   // leading zeros of src's mantissa
	n       int   // number of digits: src's from skip on, but see carry and plusOne
	point   int64 // the value is 0.digits × 10^point
	carry   bool  // rounding carried past every digit: the digits are "1"
	plusOne bool  // the last digit is one more than src's
}

// round rounds d half-up to s fraction digits.
func (d *decimalText) round(s int) rounded {
	m := len(d.int) + len(d.frac)
	z := 0
	for z < m && d.digit(z) == '0' {
		z++
	}
	r := rounded{neg: d.neg, src: d, skip: z}
	if z == m {
		r.neg = false
		return r // zero
	}
	r.point = int64(len(d.int)) + d.exp - int64(z)
	keep := r.point + int64(s) // digits left after rounding
	n := int64(m - z)
	switch {
	case keep < 0:
		r.neg = false
		return r // below half a unit of the last place: zero
	case keep >= n:
		r.n = int(n)
		return r
	}
	r.n = int(keep)
	if d.digit(z+r.n) < '5' {
		for r.n > 0 && d.digit(z+r.n-1) == '0' {
			r.n--
		}
		if r.n == 0 {
			r.neg = false
		}
		return r
	}
	for r.n > 0 && d.digit(z+r.n-1) == '9' {
		r.n-- // 9s become 0s: dropped as trailing zeros
	}
	if r.n == 0 {
		r.carry, r.n = true, 1
		r.point++
		return r
	}
	r.plusOne = true
	return r
}

// at returns digit k of the rounded value ('0' past its digits).
func (r *rounded) at(k int64) byte {
	if k < 0 || k >= int64(r.n) {
		return '0'
	}
	if r.carry {
		return '1'
	}
	c := r.src.digit(r.skip + int(k))
	if r.plusOne && k == int64(r.n)-1 {
		c++
	}
	return c
}

// intDigits is the number of digits before the point.
func (r *rounded) intDigits() int64 {
	if r.n == 0 {
		return 0
	}
	return max(r.point, 0)
}

// CheckDecimalText says why text cannot be stored in a DECIMAL(p,s) column
// (see the rule above), or "" when it can; number is false when text is
// not decimal text at all. plain is true when text has the plain form,
// which is sent as given; other accepted text is sent as
// AppendRoundedDecimal writes it.
func CheckDecimalText(text []byte, p, s int) (reason string, plain, number bool) {
	if n, ok := plainIntDigits(text); ok {
		// The common case, decided without rounding: a value with fewer
		// than p−s integer digits fits even when rounding carries into one
		// more; with more it cannot fit.
		switch {
		case n < p-s:
			return "", true, true
		case n > p-s:
			return DecimalTooLarge(text, p, s), true, true
		}
	}
	d, plain, ok := parseDecimalText(text)
	if !ok {
		return fmt.Sprintf("%s is not a number for the table's DECIMAL(%d,%d): decimal text is an optional sign, digits with an optional decimal point and an optional exponent (-12.50, 1.5e3)", quoteShort(text), p, s), false, false
	}
	r := d.round(s)
	if r.intDigits() > int64(p-s) {
		return DecimalTooLarge(text, p, s), plain, true
	}
	return "", plain, true
}

// plainIntDigits returns the number of integer digits (leading zeros not
// counted) of text in the plain form; ok is false for other text.
func plainIntDigits(text []byte) (n int, ok bool) {
	i := 0
	if len(text) > 0 && text[0] == '-' {
		i = 1
	}
	start := i
	for i < len(text) && text[i] == '0' {
		i++
	}
	nz := i
	for i < len(text) && isDigit(text[i]) {
		i++
	}
	if i == start {
		return 0, false
	}
	n = i - nz
	if i == len(text) {
		return n, true
	}
	if text[i] != '.' || i+1 == len(text) {
		return 0, false
	}
	for i++; i < len(text); i++ {
		if !isDigit(text[i]) {
			return 0, false
		}
	}
	return n, true
}

// canonical reports whether text is already in the stored form of a
// DECIMAL of scale s: plain, no leading zero before another integer digit,
// exactly s fraction digits, and not a negative zero.
func canonical(text []byte, s int) bool {
	n, ok := plainIntDigits(text)
	if !ok {
		return false
	}
	neg := text[0] == '-'
	digits := len(text) - btoi(neg)
	if s > 0 {
		digits -= s + 1
		if digits < 1 || text[len(text)-s-1] != '.' {
			return false
		}
	} else if digits < 1 || text[len(text)-1] == '.' || len(text) > btoi(neg)+digits {
		return false
	}
	if n == 0 {
		// "0.xx": one zero before the point, and not "-0.00".
		if digits != 1 {
			return false
		}
		if neg {
			for _, c := range text[len(text)-s:] {
				if c != '0' {
					return true
				}
			}
			return false
		}
		return true
	}
	return n == digits
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// DecimalTooLarge is the reason a decimal value (text) does not fit
// DECIMAL(p,s).
func DecimalTooLarge(text []byte, p, s int) string {
	shown := string(text)
	if len(text) > maxShown {
		shown = string(text[:maxShown]) + "…"
	}
	holds := "no digit"
	if p-s > 0 {
		holds = fmt.Sprintf("at most %d digit%s", p-s, plural.S(p-s))
	}
	return fmt.Sprintf("%s does not fit the table's DECIMAL(%d,%d), which holds %s before the point (values are rounded half-up to %d place%s first); correct or filter the row, or give the column a larger precision", shown, p, s, holds, s, plural.S(s))
}

// maxShown is the most bytes of a value an error message quotes.
const maxShown = 64

func quoteShort(text []byte) string {
	if len(text) > maxShown {
		return fmt.Sprintf("%q…", text[:maxShown])
	}
	return fmt.Sprintf("%q", text)
}

// AppendRoundedDecimal appends the value of decimal text, rounded half-up to
// s fraction digits, in the plain form with exactly s fraction digits
// ("1.5e0" with s = 2: "1.50"; "-0.001": "0.00"), as a DECIMAL(p,s) column
// stores it. ok is false when text is not decimal text or the value does
// not fit DECIMAL(p,s) (CheckDecimalText says why); dst is returned as is.
func AppendRoundedDecimal(dst, text []byte, p, s int) (out []byte, ok bool) {
	if canonical(text, s) {
		if n, _ := plainIntDigits(text); n <= p-s {
			return append(dst, text...), true
		}
		return dst, false
	}
	d, _, ok := parseDecimalText(text)
	if !ok {
		return dst, false
	}
	r := d.round(s)
	id := r.intDigits()
	if id > int64(p-s) {
		return dst, false
	}
	if r.neg {
		dst = append(dst, '-')
	}
	if id == 0 {
		dst = append(dst, '0')
	}
	for k := range id {
		dst = append(dst, r.at(k))
	}
	if s > 0 {
		dst = append(dst, '.')
		for k := range int64(s) {
			dst = append(dst, r.at(r.point+k))
		}
	}
	return dst, true
}

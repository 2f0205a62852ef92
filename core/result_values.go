package core

import (
	"strings"
	"unicode/utf8"
)

// Rows whose conversion errors differ in the row's own value ("int64 value
// 2147483648 is over the INT maximum 2147483647; …" for one row, "… value
// 2147483650 …" for the next) fold like rows whose errors differ only in
// the row they name: the reason is split into its text and the value texts
// it quotes (splitValues), rows fold when the text is the same (same column,
// kind and cause too: sameBesidesRow), and each row keeps only its value
// texts. The rule lives here only.

// splitValues splits a conversion failure's reason around the value texts it
// quotes: parts has one string more than vals, and reason is parts[0] +
// vals[0] + parts[1] + … + vals[len(vals)-1] + parts[len(vals)]. A value
// text is a number standing alone ("2147483648", "-5", "1.5e+300", "0x80",
// "NaN", "+Inf"; not the 64 of "int64") or a double-quoted Go string
// ("\"abc\"", with a "…" right after it when the value was cut). Reasons
// whose parts are equal are the same failure of different values.
func splitValues(reason string) (parts, vals []string) {
	return splitValuesInto(reason, nil, nil)
}

// splitValuesInto is splitValues appending to parts and vals.
func splitValuesInto(reason string, parts, vals []string) ([]string, []string) {
	lo := 0 // start of the current part
	for i := 0; i < len(reason); {
		if c := reason[i]; !isDigit(c) && c != '"' && c != '+' && c != '-' && c != 'N' && c != 'I' {
			i++ // cannot start a value text
			continue
		}
		n := valueLen(reason, i)
		if n == 0 {
			i++
			continue
		}
		parts = append(parts, reason[lo:i])
		vals = append(vals, reason[i:i+n])
		i += n
		lo = i
	}
	return append(parts, reason[lo:]), vals
}

// valueLen is the length of the value text starting at s[i], 0 if none does.
func valueLen(s string, i int) int {
	if i > 0 && (isWordByte(s[i-1]) || s[i-1] == '.') {
		return 0 // inside a word or number: "int64", "x2", "v1.2"
	}
	if i > 1 && (s[i-1] == '-' || s[i-1] == '+') && isWordByte(s[i-2]) {
		return 0 // "UTF-8"
	}
	if s[i] == '"' {
		return quotedLen(s, i)
	}
	if strings.HasPrefix(s[i:], "NaN") && !wordAfter(s, i+3) {
		return 3
	}
	j := i
	if s[j] == '+' || s[j] == '-' {
		j++
	}
	if strings.HasPrefix(s[j:], "Inf") && !wordAfter(s, j+3) {
		return j + 3 - i
	}
	if j == len(s) || !isDigit(s[j]) {
		return 0
	}
	if s[j] == '0' && j+2 < len(s) && (s[j+1] == 'x' || s[j+1] == 'X') && isHex(s[j+2]) {
		k := j + 2
		for k < len(s) && isHex(s[k]) {
			k++
		}
		if wordAfter(s, k) {
			return 0
		}
		return k - i
	}
	k := digitsEnd(s, j)
	if k+1 < len(s) && s[k] == '.' && isDigit(s[k+1]) {
		k = digitsEnd(s, k+1)
	}
	if k+1 < len(s) && (s[k] == 'e' || s[k] == 'E') {
		e := k + 1
		if e < len(s) && (s[e] == '+' || s[e] == '-') {
			e++
		}
		if e < len(s) && isDigit(s[e]) {
			k = digitsEnd(s, e)
		}
	}
	if wordAfter(s, k) {
		return 0 // "3rd", "10ms": not a value standing alone
	}
	return k - i
}

// quotedLen is the length of the double-quoted string at s[i] (with a "…"
// right after it), 0 when it is not closed on its line.
func quotedLen(s string, i int) int {
	for k := i + 1; k < len(s); k++ {
		switch s[k] {
		case '\\':
			k++
		case '\n':
			return 0
		case '"':
			k++
			if strings.HasPrefix(s[k:], "…") {
				k += len("…")
			}
			return k - i
		}
	}
	return 0
}

func digitsEnd(s string, k int) int {
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	return k
}

// wordAfter reports whether s[k] continues a word (a letter, digit or _).
func wordAfter(s string, k int) bool {
	if k >= len(s) {
		return false
	}
	if s[k] >= utf8.RuneSelf {
		return false // "…" and other punctuation outside ASCII
	}
	return isWordByte(s[k])
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isWordByte(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_'
}

// joinValues is splitValues' inverse: parts around vals.
func joinValues(parts, vals []string) string {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	for _, v := range vals {
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for i, p := range parts {
		b.WriteString(p)
		if i < len(vals) {
			b.WriteString(vals[i])
		}
	}
	return b.String()
}

package stream

import (
	"strings"
	"testing"
)

// TestRedactShortSecretWholeTokens: a secret under shortSecret bytes is
// redacted where it stands as a token of its own, not inside other words
// (the secret "wrong" turned the server's "... or wrong client secret" into
// "... or [REDACTED] client secret" and "abc" hid part of "abcdef"); a
// longer one wherever it occurs; secrets under 4 bytes, ignored before,
// are redacted as tokens too.
func TestRedactShortSecretWholeTokens(t *testing.T) {
	for _, tc := range []struct{ secret, in, want string }{
		{"abc", "abc", "[REDACTED]"},
		{"abc", "token=abc", "token=[REDACTED]"},
		{"abc", "abcdef and xabc and a_abc", "abcdef and xabc and a_abc"},
		{"abc", "abcdef abc; (abc) abc", "abcdef [REDACTED]; ([REDACTED]) [REDACTED]"},
		{"abc", "abcabc abc", "abcabc [REDACTED]"},
		{"wrong", "unknown client id or wrong client secret", "unknown client id or [REDACTED] client secret"},
		{"wrong", "the secret was wronged", "the secret was wronged"},
		{"wrong", "secret=wrong&id=x", "secret=[REDACTED]&id=x"},
		{"x1", "x1 and x12 and ax1", "[REDACTED] and x12 and ax1"},
		{"é", "é café", "[REDACTED] café"},
		// a secret beginning or ending with a non-word character: no token
		// edge is asked for on that side
		{"+ab", "a+ab c+abd", "a[REDACTED] c+abd"},
		{"ab/", "ab/c xab/", "[REDACTED]c xab/"},
		{"#$%", "a#$%b", "a[REDACTED]b"},
		// from shortSecret bytes on: every occurrence
		{"abcdefgh", "xabcdefghx abcdefgh", "x[REDACTED]x [REDACTED]"},
		{"s3cret-long-value", "errors:s3cret-long-value:end", "errors:[REDACTED]:end"},
	} {
		r := &redactor{}
		r.add(tc.secret)
		if got := r.clean(tc.in); got != tc.want {
			t.Errorf("secret %q: clean(%q) = %q, want %q", tc.secret, tc.in, got, tc.want)
		}
		kept := &redactor{}
		kept.keep(tc.secret)
		if got := kept.clean(tc.in); got != tc.want {
			t.Errorf("kept secret %q: clean(%q) = %q, want %q", tc.secret, tc.in, got, tc.want)
		}
	}
	// every length is remembered: a one-byte secret standing alone is hidden
	r := &redactor{}
	r.add("q")
	if got := r.clean("token q, quick"); got != "token [REDACTED], quick" {
		t.Errorf("one-byte secret: %q", got)
	}
	r.add("")
	if got := r.clean("empty"); got != "empty" {
		t.Errorf("the empty secret changed %q", got)
	}
	// a server error's message goes through the same rule
	r = &redactor{}
	r.keepCredential("id", "wrong")
	se := r.cleanErr(errString("unknown client id or wrong client secret; secret=wrong; wrongly"))
	if got := se.Error(); got != "unknown client id or [REDACTED] client secret; secret=[REDACTED]; wrongly" {
		t.Errorf("cleanErr: %q", got)
	}
	if strings.Contains(strings.ReplaceAll(se.Error(), "wrongly", ""), "wrong") {
		t.Errorf("the secret is shown as a token: %q", se)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// A short secret standing as a token inside a longer one was replaced
// first (secrets were cleaned in the order they were added), so the longer
// one no longer matched and its rest was shown: client secret "abc" and
// proxy password "abc.Zx9-Long-Proxy-Pw" gave "[REDACTED].Zx9-Long-Proxy-Pw"
// (s20 review diffa L1). The longest are cleaned first.
func TestRedactLongestSecretFirst(t *testing.T) {
	var r redactor
	r.add("abc")
	r.keep("abc.Zx9-Long-Proxy-Pw")
	r.add("Zx9")
	got := r.clean("proxy auth abc.Zx9-Long-Proxy-Pw failed; secret abc; Zx9")
	if want := "proxy auth [REDACTED] failed; secret [REDACTED]; [REDACTED]"; got != want {
		t.Errorf("clean = %q, want %q", got, want)
	}
}

package core

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// Fuzz targets (session 19) for the decoders and parsers of core that had
// none: the value texts of a row error's reason (splitValues, and the
// folding of rows built on it), URL settings (parseURL through Validate),
// the YAML config loader and the environment loader. The seeds run as
// ordinary tests.

// FuzzSplitValues: for every string, joinValues(splitValues(r)) is r, parts
// has one string more than vals, every value text is non-empty and splits
// as itself alone, and splitValuesInto appends after what its slices hold.
func FuzzSplitValues(f *testing.F) {
	for _, s := range []string{
		"int64 value 2147483648 is over the INT maximum 2147483647; filter",
		"float64 value 1.5e+300 is outside the FLOAT range (magnitude at most 3.4028234663852886e+38)",
		"float64 value NaN is not a number; float64 value +Inf, -Inf",
		`duplicate MAP key "a\"b" (the same key as entry 0); a map`,
		`duplicate MAP key "aaaa"… (the same key as entry 12)`,
		"the string value is not valid UTF-8 (byte 3 of 10 is 0xff); STRING values",
		"int64 float32 x2 3rd 10ms v1.2 2^31 DECIMAL(38,0) UTF-8 0x 1e 1e+ 1.",
		`an "unclosed quote`, `"\`, "\"a\n\"", "", "-", "+Inf1", "NaNa", "0X1fg",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, r string) {
		parts, vals := splitValues(r)
		if len(parts) != len(vals)+1 {
			t.Fatalf("splitValues(%q): %d parts, %d values", r, len(parts), len(vals))
		}
		if got := joinValues(parts, vals); got != r {
			t.Fatalf("joinValues(splitValues(%q)) = %q", r, got)
		}
		for _, v := range vals {
			if v == "" {
				t.Fatalf("splitValues(%q): an empty value text in %q", r, vals)
			}
			if p, vv := splitValues(v); len(vv) != 1 || vv[0] != v || p[0] != "" || p[1] != "" {
				t.Fatalf("splitValues(%q): value text %q splits alone as %q, %q", r, v, p, vv)
			}
		}
		p0, v0 := []string{"x"}, []string{"y"}
		p2, v2 := splitValuesInto(r, p0, v0)
		if !slices.Equal(p2[1:], parts) || !slices.Equal(v2[1:], vals) || p2[0] != "x" || v2[0] != "y" {
			t.Fatalf("splitValuesInto(%q) after x, y = %q, %q; splitValues %q, %q", r, p2, v2, parts, vals)
		}
	})
}

// FuzzFoldRowErrors: rows failing with reasons that fold (the same text
// around different values) or not, recorded as a result's failed runs, give
// back through FailedGroups each row's own error message (ErrAt), and the
// RowTemplate of a RowNamed group rebuilds each row's message.
func FuzzFoldRowErrors(f *testing.F) {
	f.Add("int64 value 2147483648 is over the INT maximum 2147483647", "int64 value 2147483650 is over the INT maximum 2147483647", "int64 value 5 is odd", []byte{0, 1, 0, 0, 2, 1})
	f.Add(`duplicate MAP key "a" (entry 0)`, `duplicate MAP key "b"… (entry 3)`, `duplicate MAP key "b"… (entry 3)`, []byte{0, 1, 2})
	f.Add("row 5 is 7", "row 6 is 8", "", []byte{0, 1, 2, 0, 1, 2})
	f.Add("", "", "", []byte{0})
	f.Fuzz(func(t *testing.T, r0, r1, r2 string, pattern []byte) {
		if len(pattern) > 64 {
			pattern = pattern[:64]
		}
		reasons := []string{r0, r1, r2}
		errs := make([]error, len(pattern))
		var runs []failedRun
		for i, p := range pattern {
			re := &convert.RowError{Row: i, Column: "c", Reason: reasons[int(p)%3], Err: convert.ErrOutOfRange}
			errs[i] = fromRowError(re, 0)
			runs = appendFailed(runs, i, i+1, errs[i], RowNotWritten)
		}
		res := &TransmissionResult{TotalRows: len(pattern), FailedCount: len(pattern), NotWrittenCount: len(pattern), failedRuns: runs}
		check := func(what string, res *TransmissionResult) {
			seen := 0
			for _, g := range res.FailedGroups() {
				parts, values, tmpl := g.RowTemplate()
				j := 0
				for _, rg := range g.Ranges {
					for i := rg[0]; i < rg[1]; i++ {
						seen++
						got, want := g.ErrAt(i), errs[i]
						if got.Error() != want.Error() {
							t.Fatalf("%s: row %d: ErrAt = %q, want %q", what, i, got, want)
						}
						var ce *ConversionError
						if !errors.As(got, &ce) || ce.Row != i {
							t.Fatalf("%s: row %d: ErrAt = %#v", what, i, got)
						}
						if tmpl {
							k := len(parts) - 2
							var b strings.Builder
							b.WriteString(parts[0])
							b.WriteString(strconv.Itoa(i))
							for x := range k {
								b.WriteString(parts[1+x])
								b.WriteString(values[j*k+x])
							}
							b.WriteString(parts[k+1])
							if msg := DetailsOf(got).Message; b.String() != msg {
								t.Fatalf("%s: row %d: RowTemplate %q %q gives %q, the row's message is %q", what, i, parts, values, b.String(), msg)
							}
						}
						j++
					}
				}
			}
			if seen != len(pattern) {
				t.Fatalf("%s: groups hold %d rows, want %d", what, seen, len(pattern))
			}
		}
		check("runs", res)
		if n := len(runs); n > 0 {
			// The same rows in two parts, merged (a reader's batches).
			cut := len(pattern) / 2
			var a, b []failedRun
			for i := range pattern {
				if i < cut {
					a = appendFailed(a, i, i+1, errs[i], RowNotWritten)
				} else {
					b = appendFailed(b, i-cut, i-cut+1, fromRowError(&convert.RowError{Row: i - cut, Column: "c", Reason: reasons[int(pattern[i])%3], Err: convert.ErrOutOfRange}, 0), RowNotWritten)
				}
			}
			merged := mergeResults([]*TransmissionResult{
				{TotalRows: cut, FailedCount: cut, NotWrittenCount: cut, failedRuns: a},
				{TotalRows: len(pattern) - cut, FailedCount: len(pattern) - cut, NotWrittenCount: len(pattern) - cut, failedRuns: b},
			}, false, false)
			check("merged", merged)
		}
	})
}

// urlUserInfo is the user information of s as parseURL and RedactURL see
// it (between "://" and the last "@"), "" when s has none.
func urlUserInfo(s string) string {
	at := strings.LastIndexByte(s, '@')
	start := strings.Index(s, "://")
	if at < 0 || start < 0 || start > at {
		return ""
	}
	return s[start+len("://") : at]
}

// leaksUserInfo reports whether msg quotes the user information of s: a
// part of it (its password, or the whole) of 6 or more bytes appears in msg
// though it appears nowhere else in s and in no fixed text of the message.
func leaksUserInfo(s, msg string) (string, bool) {
	ui := urlUserInfo(s)
	if ui == "" {
		return "", false
	}
	outside := s[:strings.Index(s, "://")] + " " + s[strings.LastIndexByte(s, '@')+1:]
	cands := []string{ui}
	if _, pw, ok := strings.Cut(ui, ":"); ok {
		cands = append(cands, pw)
	}
	for _, c := range cands {
		if len(c) >= 6 && strings.Contains(msg, c) && !strings.Contains(outside, c) && !strings.Contains(userInfoSyntax, c) && !strings.Contains(redacted, c) {
			return c, true
		}
	}
	return "", false
}

// FuzzParseURL: parseURL, and Validate of each URL setting (the endpoint,
// the workspace URL, the proxy URL), never panic and never quote the user
// information (user:password@) of the URL in what they say is wrong; a
// URL parseURL accepts is url.Parse's.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"https://abc.zerobus.us-west-2.cloud.databricks.com",
		"http://127.0.0.1:8080",
		"http://user:hunter2secret@proxy.example.com:3128",
		"http://user:hunter2/secret@proxy.example.com:3128",
		"http://user:pa ss#word@proxy:1",
		"https://u:p%zzsecret@host",
		"https://u:secret123@ho st",
		"https://u:secret123@[::1",
		"https://u:secret123@host:99999",
		"https://u:secret123@host:port",
		"user:secret123@host",
		"ftp://user:secret123@host",
		"http://[fe80::1%25en0]:8080",
		"%zz",
		"",
	} {
		f.Add(s)
	}
	if c, leak := leaksUserInfo("http://u:hunter2secret@h:1", "bad port hunter2secret"); !leak || c != "hunter2secret" {
		f.Fatalf("leaksUserInfo misses a quoted password (%q)", c)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, msg := parseURL(s)
		if (u == nil) == (msg == "") {
			t.Fatalf("parseURL(%q) = %v, %q", s, u, msg)
		}
		if c, leak := leaksUserInfo(s, msg); leak {
			t.Fatalf("parseURL(%q) says %q, quoting %q of its user information", s, msg, c)
		}
		if r := RedactURL(s); urlUserInfo(s) != "" && !strings.Contains(r, redacted) {
			t.Fatalf("RedactURL(%q) = %q", s, r)
		} else if c, leak := leaksUserInfo(s, r); leak {
			t.Fatalf("RedactURL(%q) = %q, quoting %q of its user information", s, r, c)
		}
		for _, c := range []Config{{Endpoint: s}, {UnityCatalogURL: s}, {ProxyURL: s}} {
			err := c.Validate()
			if err == nil {
				continue
			}
			if c, leak := leaksUserInfo(s, err.Error()); leak {
				t.Fatalf("Validate of %q: %q quotes %q of its user information", s, err, c)
			}
		}
	})
}

// FuzzParseConfigYAML: any bytes give a Config or a *ConfigurationError,
// never a panic; every problem names its line (or is one Validate finds in
// a value the file gave, also named by line); a client_secret value is
// never quoted in an error.
func FuzzParseConfigYAML(f *testing.F) {
	for _, s := range []string{
		"endpoint: https://abc.zerobus.us-west-2.cloud.databricks.com\ntable_name: main.default.events\n",
		"client_id: id\nclient_secret: s3cr3t-value-xyz\nretry_max_attempts: 3\n",
		"retry_base_delay_ms: 1.5s\nmax_inflight_records: x\n",
		"client_secret: ${NOPE_S19}\n",
		"client_secret: [a, b]\nclient_secret: 1\n",
		"- a\n- b\n",
		"a: b\n---\nc: d\n",
		"endpoint: &a x\ntable_name: *a\n",
		"client_secret: !!binary c2VjcmV0\n",
		"debug_max_file_size: 10GiB\nack_timeout_ms: 0\n",
		"{",
		"",
	} {
		f.Add([]byte(s), "s3cr3t-value-xyz")
	}
	lookup := func(name string) (string, bool) {
		if name == "S19_SET" {
			return "from-env", true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, data []byte, secret string) {
		if len(data) > 4096 {
			return
		}
		checkYAML(t, data, lookup, "")
		// The secret given as a quoted value among the fuzzed keys.
		if len(secret) < 8 || strings.ContainsAny(secret, "\n\r\\\"${}") || strings.Contains(string(data), secret) {
			return
		}
		doc := append([]byte("client_secret: \""+secret+"\"\n"), data...)
		checkYAML(t, doc, lookup, secret)
	})
}

func checkYAML(t *testing.T, data []byte, lookup func(string) (string, bool), secret string) {
	t.Helper()
	_, err := parseYAML(data, "cfg.yaml", lookup)
	if err == nil {
		return
	}
	var ce *ConfigurationError
	if !errors.As(err, &ce) {
		t.Fatalf("parseYAML(%q): %T %v, want a *ConfigurationError", data, err, err)
	}
	if secret != "" && strings.Contains(err.Error(), secret) {
		t.Fatalf("parseYAML(%q): %q quotes the client_secret", data, err)
	}
	for _, p := range ce.Problems {
		if !strings.HasPrefix(p.Message, "line ") {
			t.Fatalf("parseYAML(%q): problem %+v names no line", data, p)
		}
	}
	if ce.Err != nil && len(ce.Problems) > 0 {
		t.Fatalf("parseYAML(%q): both Err and Problems: %v", data, err)
	}
}

// FuzzApplyEnv: any values of the environment variables give a Config or a
// *ConfigurationError naming each bad variable, never a panic; a secret's
// value is never quoted.
func FuzzApplyEnv(f *testing.F) {
	f.Add("https://abc.zerobus.us-west-2.cloud.databricks.com", "main.default.events", "3", "s3cr3t-value-xyz", "1.5s", "10GiB")
	f.Add("http://u:pw-secret-1@h:1", "a.b", "x", "${X}", "-1", "1e3")
	f.Add("", "", "99999999999999999999", "", "0", "0")
	f.Add("ab", "a..b", " 7 ", "secret with spaces", "500ms", "-5KB")
	f.Fuzz(func(t *testing.T, endpoint, table, attempts, secret, delay, size string) {
		env := map[string]string{}
		vals := []string{endpoint, table, attempts, secret, delay, size}
		// Each value goes to a setting of its type, cycling through the
		// settings so every one gets values.
		for i, s := range settings {
			v := vals[i%len(vals)]
			switch s.acc.typ {
			case "int", "duration":
				v = vals[[]int{2, 4}[i%2]]
			case "size":
				v = size
			case "bool":
				v = vals[i%len(vals)]
			}
			if s.secret {
				v = secret
			}
			env[s.env[0]] = v
		}
		lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
		c := DefaultConfig()
		before := c
		err := c.ApplyEnv(lookup)
		if err == nil {
			return
		}
		if !sameConfig(c, before) {
			t.Fatalf("ApplyEnv failed (%v) but changed the Config", err)
		}
		var ce *ConfigurationError
		if !errors.As(err, &ce) || len(ce.Problems) == 0 {
			t.Fatalf("ApplyEnv: %T %v, want a *ConfigurationError with problems", err, err)
		}
		for _, p := range ce.Problems {
			if p.EnvVar == "" && p.YAMLKey == "" {
				t.Fatalf("problem %+v names no variable", p)
			}
		}
		if len(secret) >= 8 && strings.Contains(err.Error(), secret) {
			other := false
			for k, v := range env {
				other = other || (strings.Contains(v, secret) && !strings.Contains(k, "SECRET"))
			}
			if !other {
				t.Fatalf("ApplyEnv: %q quotes the secret %q", err, secret)
			}
		}
	})
}

// sameConfig compares two Configs by their printed settings.
func sameConfig(a, b Config) bool {
	x, y := SettingsOf(a), SettingsOf(b)
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if y[k] != v {
			return false
		}
	}
	return true
}

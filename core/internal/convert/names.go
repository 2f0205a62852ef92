package convert

import (
	"strconv"
	"strings"
)

// protoKeywords are the words of the protobuf language. The Zerobus protocol
// refuses them as field and message names.
var protoKeywords = map[string]bool{
	"syntax": true, "edition": true, "import": true, "weak": true, "public": true, "package": true,
	"option": true, "message": true, "enum": true, "service": true, "rpc": true, "returns": true,
	"stream": true, "extend": true, "extensions": true, "reserved": true, "to": true, "max": true,
	"repeated": true, "optional": true, "required": true, "group": true, "oneof": true, "map": true,
	"true": true, "false": true,
	"double": true, "float": true, "int32": true, "int64": true, "uint32": true, "uint64": true,
	"sint32": true, "sint64": true, "fixed32": true, "fixed64": true, "sfixed32": true,
	"sfixed64": true, "bool": true, "string": true, "bytes": true,
}

// checkName returns why s is not a usable protobuf name, or "".
func checkName(s string) string {
	if s == "" {
		return "the name is empty; give the column a name of ASCII letters, digits and '_'"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9':
			if i == 0 {
				return "the name starts with a digit; protobuf names are ASCII letters, digits and '_' and start with a letter or '_': rename it"
			}
		default:
			return "the name has characters other than ASCII letters, digits and '_', which protobuf and Zerobus refuse: rename it"
		}
	}
	if protoKeywords[s] {
		return "the name is a protobuf keyword, which Zerobus refuses: rename it"
	}
	return ""
}

// SanitizeMessageName turns s (typically the last part of a table name) into
// a valid protobuf message name: characters other than ASCII letters, digits
// and '_' become '_', and a leading digit, a keyword or an empty result gets a
// '_' prefix. It is deterministic and safe for concurrent use.
func SanitizeMessageName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b[i] = '_'
		}
	}
	out := string(b)
	if out == "" || ('0' <= out[0] && out[0] <= '9') || protoKeywords[out] {
		out = "_" + out
	}
	return out
}

// upperCamel turns a field name into a message name the way protoc names map
// entries: each '_' removed and the letter after it, and the first letter,
// upper-cased.
func upperCamel(s string) string {
	var b strings.Builder
	up := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_':
			up = true
		case up:
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			b.WriteByte(c)
			up = false
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// messageNameFor returns the base name of the nested message for a field.
func messageNameFor(field string) string {
	n := upperCamel(field)
	if n == "" || ('0' <= n[0] && n[0] <= '9') {
		n = "M" + n
	}
	return n
}

// mapEntryName is the nested message name protobuf requires for the entries
// of map field name.
func mapEntryName(name string) string { return upperCamel(name) + "Entry" }

// scope is one message being built: its descriptor, fully qualified name
// and the names already used inside it (fields and nested types share one
// namespace in protobuf).
type scope struct {
	full  string // ".Record.Address"
	taken map[string]bool
}

// unique reserves and returns base, or base_2, base_3, ... if taken.
func (s *scope) unique(base string) string {
	name := base
	for n := 2; s.taken[name]; n++ {
		name = base + "_" + strconv.Itoa(n)
	}
	s.taken[name] = true
	return name
}

// nextFieldNumber returns the field number after n, skipping the range
// 19000-19999 that protobuf reserves.
func nextFieldNumber(n int32) int32 {
	n++
	if n >= 19000 && n <= 19999 {
		n = 20000
	}
	return n
}

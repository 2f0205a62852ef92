// Package plural makes English messages agree with their numbers, the same
// way everywhere: "1 attempt", "2 attempts"; "otlp_endpoint exports",
// "otlp_endpoint and otlp_protocol export".
package plural

import "fmt"

// Count is the integer kinds messages count with.
type Count interface{ ~int | ~int64 }

// S is the suffix of a regular noun counted n times: "" for one, "s"
// otherwise (zero included: "0 rows").
func S[N Count](n N) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// Word is one for a count of one, many otherwise: Word(n, "recovery",
// "recoveries").
func Word[N Count](n N, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Verb is verb (its plural form, "export") agreeing with n subjects:
// "exports" for one.
func Verb[N Count](n N, verb string) string {
	if n == 1 {
		return verb + "s"
	}
	return verb
}

// Of is n followed by unit, plural unless n is 1: Of(3, "request") is
// "3 requests".
func Of[N Count](n N, unit string) string {
	return fmt.Sprintf("%d %s%s", n, unit, S(n))
}

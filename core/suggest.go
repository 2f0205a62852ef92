package core

import (
	"fmt"
	"strings"
)

// Nearest is the candidate closest to s by edit distance (a candidate that
// starts with s counts as one edit away), or "" when none is close (more
// than a third of the longer word differs). It is the one "did you mean"
// rule: unknown setting keys, and the command line's commands and flags.
func Nearest(s string, candidates []string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), c)
		if strings.HasPrefix(c, strings.ToLower(s)) && len(s) >= 2 {
			d = min(d, 1)
		}
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	if bestD < 0 || bestD > max(1, max(len(s), len(best))/3) {
		return ""
	}
	return best
}

// DidYouMean is the whole "did you mean" phrase for s: `did you mean "x"?`
// for the candidate Nearest picks, or "" when none is close. Every message
// that suggests a name (unknown setting keys here, attributes and options
// in Python through pybind) words it this way.
func DidYouMean(s string, candidates []string) string {
	best := Nearest(s, candidates)
	if best == "" {
		return ""
	}
	return fmt.Sprintf("did you mean %q?", best)
}

// editDistance is the Levenshtein distance of a and b (byte-wise), with a
// swap of two adjacent letters counting as one edit.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

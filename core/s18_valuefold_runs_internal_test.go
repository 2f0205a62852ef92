package core

import (
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// TestSplitValues: the value texts of a reason are the numbers standing
// alone and the quoted strings; joining the parts around them gives the
// reason back, and reasons of one failure of different values have the
// same parts.
func TestSplitValues(t *testing.T) {
	cases := []struct {
		reason string
		vals   []string
	}{
		{"int64 value 2147483648 is over the INT maximum 2147483647; filter", []string{"2147483648", "2147483647"}},
		{"int64 value -2147483649 is under the INT minimum -2147483648", []string{"-2147483649", "-2147483648"}},
		{"float64 value 1.5e+300 is outside the FLOAT range (magnitude at most 3.4028234663852886e+38)", []string{"1.5e+300", "3.4028234663852886e+38"}},
		{"float64 value NaN is not a number; float64 value +Inf, -Inf", []string{"NaN", "+Inf", "-Inf"}},
		{`duplicate MAP key "a\"b" (the same key as entry 0); a map`, []string{`"a\"b"`, "0"}},
		{`duplicate MAP key "aaaa"… (the same key as entry 12)`, []string{`"aaaa"…`, "12"}},
		{"the string value is not valid UTF-8 (byte 3 of 10 is 0xff); STRING values", []string{"3", "10", "0xff"}},
		{"int64 float32 x2 3rd 10ms v1.2 2^31 DECIMAL(38,0)", []string{"2", "31", "38", "0"}},
		{`an "unclosed quote`, nil},
		{"", nil},
	}
	for _, c := range cases {
		parts, vals := splitValues(c.reason)
		if !slices.Equal(vals, c.vals) || len(parts) != len(vals)+1 || joinValues(parts, vals) != c.reason {
			t.Errorf("splitValues(%q) = %q, %q; want values %q", c.reason, parts, vals, c.vals)
		}
	}
	a, _ := splitValues(convert.IntFitReason(arrow.PrimitiveTypes.Int64, int64(1<<31), convert.Int))
	b, _ := splitValues(convert.IntFitReason(arrow.PrimitiveTypes.Int64, int64(1<<40+7), convert.Int))
	c, _ := splitValues(convert.IntFitReason(arrow.PrimitiveTypes.Int64, int64(-1<<40), convert.Int))
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Errorf("parts over %q, over %q, under %q: want the first two equal, the third apart", a, b, c)
	}
}

// TestValueRunsKeepValuesNotErrors: contiguous rows failing with the same
// failure of different values are one run holding each row's value texts
// (not an error per row), each row's error is the one it failed with, and
// runs merged across parts (a reader's batches) keep them, without
// changing the parts' own runs.
func TestValueRunsKeepValuesNotErrors(t *testing.T) {
	const n = 1000
	// row i's error, naming row at (its chunk starting at row offset)
	mkAt := func(i, at, offset int) error {
		re := &convert.RowError{Row: at - offset, Column: "n", Reason: fmt.Sprintf("int64 value %d is over the INT maximum 2147483647; fix it", int64(1)<<31+int64(i*(i%3))), Err: convert.ErrOutOfRange}
		return fromRowError(re, offset)
	}
	mk := func(i, offset int) error { return mkAt(i, i, offset) }
	var runs []failedRun
	for i := range n {
		runs = appendFailed(runs, i, i+1, mk(i, 0), RowNotWritten)
	}
	if len(runs) != 1 || !runs[0].rowNamed || len(runs[0].vals) != 2*n {
		t.Fatalf("%d runs (vals %d), want one run with 2 values per row", len(runs), len(runs[0].vals))
	}
	if &runs[0].vals[3] == &runs[0].vals[1] || runs[0].vals[3] != runs[0].vals[1] {
		t.Fatal("the maximum, the same in every row")
	}
	for i := range n {
		if got, want := runs[0].errAt(i).Error(), mk(i, 0).Error(); got != want {
			t.Fatalf("errAt(%d) = %q, want %q", i, got, want)
		}
		re := runs[0].errAt(i).(*ConversionError).Err.(*convert.RowError)   //nolint:errorlint,forcetypeassert // as built
		if re.Row != i || re.Reason != mk(i, 0).(*ConversionError).Reason { //nolint:errorlint,forcetypeassert // as built
			t.Fatalf("errAt(%d)'s cause = %+v", i, re)
		}
	}
	// Two parts of 500 rows each, merged: one run of 1000 rows.
	var p1, p2 []failedRun
	for i := range n / 2 {
		p1 = appendFailed(p1, i, i+1, mk(i, 0), RowNotWritten)
		// part 2's rows count from 0 within it (its row i is row n/2+i)
		p2 = appendFailed(p2, i, i+1, mkAt(n/2+i, i, 0), RowNotWritten)
	}
	parts := []*TransmissionResult{
		{TotalRows: n / 2, FailedCount: n / 2, NotWrittenCount: n / 2, failedRuns: p1},
		{TotalRows: n / 2, FailedCount: n / 2, NotWrittenCount: n / 2, failedRuns: p2},
	}
	p1vals := slices.Clone(p1[0].vals)
	merged := mergeResults(parts, false, false)
	for range 2 { // merging again does not disturb the first merge nor the parts
		mergeResults(parts, false, false)
	}
	if !slices.Equal(p1[0].vals, p1vals) || len(merged.failedRuns) != 1 {
		t.Fatalf("merged into %d runs; part 1's values changed: %v", len(merged.failedRuns), !slices.Equal(p1[0].vals, p1vals))
	}
	groups := merged.FailedGroups()
	if len(groups) != 1 || groups[0].Rows() != n {
		t.Fatalf("%d groups", len(groups))
	}
	for i := range n {
		if got, want := groups[0].ErrAt(i).Error(), mk(i, 0).Error(); got != want {
			t.Fatalf("merged ErrAt(%d) = %q, want %q", i, got, want)
		}
	}
}

// TestSameReasonRunsKeepNoValues: rows whose reasons are the same (the s17
// case: only the row differs) keep no value texts.
func TestSameReasonRunsKeepNoValues(t *testing.T) {
	var runs []failedRun
	for i := range 100 {
		runs = appendFailed(runs, i, i+1, &ConversionError{Row: i, Column: "n", Reason: "int64 value 5 is odd"}, RowNotWritten)
	}
	if len(runs) != 1 || runs[0].vals != nil {
		t.Fatalf("%d runs, vals %d: want one run without values", len(runs), len(runs[0].vals))
	}
	g := (&TransmissionResult{failedRuns: runs}).FailedGroups()
	if parts, vals, ok := g[0].RowTemplate(); !ok || len(parts) != 2 || vals != nil {
		t.Fatalf("RowTemplate = %q, %q, %v", parts, vals, ok)
	}
}

package core

import (
	"sort"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// Row sets as ranges: a result keeps its successful rows as ascending,
// non-adjacent half-open ranges [lo, hi) (TransmissionResult.SuccessfulRanges),
// the same form as FailedGroup.Ranges, so a result of millions of rows costs
// a few ranges instead of 8 bytes per row. Lists of indices are built only
// when asked for (SuccessfulRowIndices, or SuccessfulRows unless the Wrapper
// was created WithRowRangesOnly).

// appendRow adds row i to the ranges rs: extends the last range when i
// follows it, else starts a new one (normalizeRanges fixes any disorder).
func appendRow(rs [][2]int, i int) [][2]int {
	if n := len(rs); n > 0 && rs[n-1][1] == i {
		rs[n-1][1]++
		return rs
	}
	return append(rs, [2]int{i, i + 1})
}

// appendRange adds [lo, hi) to rs like appendRow.
func appendRange(rs [][2]int, lo, hi int) [][2]int {
	if lo >= hi {
		return rs
	}
	if n := len(rs); n > 0 && rs[n-1][1] == lo {
		rs[n-1][1] = hi
		return rs
	}
	return append(rs, [2]int{lo, hi})
}

// normalizeRanges sorts rs and merges overlapping or adjacent ranges, in
// place; ranges appended in ascending row order are returned as they are.
func normalizeRanges(rs [][2]int) [][2]int {
	sorted := true
	for i := 1; i < len(rs); i++ {
		if rs[i][0] <= rs[i-1][1] {
			sorted = false
			break
		}
	}
	if sorted {
		return rs
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i][0] < rs[j][0] })
	out := rs[:1]
	for _, r := range rs[1:] {
		last := &out[len(out)-1]
		if r[0] <= last[1] {
			last[1] = max(last[1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// rangesOf is the ranges of ascending (or any) row indices.
func rangesOf(rows []int) [][2]int {
	var rs [][2]int
	for _, i := range rows {
		rs = appendRow(rs, i)
	}
	return normalizeRanges(rs)
}

// rangeRows is the number of rows in rs.
func rangeRows(rs [][2]int) int {
	n := 0
	for _, r := range rs {
		n += r[1] - r[0]
	}
	return n
}

// expandRanges lists the rows of rs in order (a new slice, never nil).
func expandRanges(rs [][2]int) []int {
	out := make([]int, 0, rangeRows(rs))
	for _, r := range rs {
		for i := r[0]; i < r[1]; i++ {
			out = append(out, i)
		}
	}
	return out
}

// successRanges returns the result's successful rows as ranges:
// SuccessfulRanges when set, else built from SuccessfulRows (a result made
// by hand with the list only).
func (r *TransmissionResult) successRanges() [][2]int {
	if r.SuccessfulRanges != nil || r.SuccessfulRows == nil {
		return r.SuccessfulRanges
	}
	return rangesOf(r.SuccessfulRows)
}

// failedRun is rows [lo, hi) that failed with one error in one state: the
// compact form of consecutive FailedRows.
type failedRun struct {
	lo, hi int
	err    error
	state  RowState
	// same is the last other error value found to be the same failure as
	// err (sameFailure), so the next rows that carry it join without
	// comparing messages again.
	same error
	// rowNamed: the rows failed with errors that differ only in the row
	// they name (a conversion error per row, "at row 7"): err is the first
	// row's (a *ConversionError naming lo), row i's is err naming i
	// (errAt). Such rows are one run however many there are.
	rowNamed bool
}

// errAt is the error row i of the run failed with (FailedGroup.ErrAt's
// rule).
func (f failedRun) errAt(i int) error {
	return FailedGroup{Err: f.err, RowNamed: f.rowNamed}.ErrAt(i)
}

// namingRow is ce naming row i instead (a copy; its cause too, when that
// is the row's own and names the row within its chunk).
func namingRow(ce *ConversionError, i int) *ConversionError {
	c := *ce
	if re, ok := ce.Err.(*convert.RowError); ok && re != nil { //nolint:errorlint // the cause as stored
		r := *re
		r.Row += i - ce.Row
		c.Err = &r
	}
	c.Row = i
	return &c
}

// namesRow returns err as a *ConversionError when it names row (the error
// of that row alone, not one shared with other rows).
func namesRow(err error, row int) (*ConversionError, bool) {
	ce, ok := err.(*ConversionError) //nolint:errorlint // the error a row carries, as stored
	if !ok || ce == nil || ce.Row != row || row < 0 {
		return nil, false
	}
	return ce, true
}

// sameBesidesRow reports whether a and b are the same conversion failure
// but for the row they name: same column, reason and cause (the rule that
// folds rows into one run and one FailedGroup; rowTemplateKey is its key).
func sameBesidesRow(a, b *ConversionError) bool {
	if a.Column != b.Column || a.Reason != b.Reason {
		return false
	}
	ra, okA := a.Err.(*convert.RowError) //nolint:errorlint // the cause as stored
	rb, okB := b.Err.(*convert.RowError) //nolint:errorlint // the cause as stored
	if okA || okB {
		// The cause is the row's own (it names the row within its
		// chunk): compare what it says besides the row.
		return okA && okB && ra.Column == rb.Column && ra.Reason == rb.Reason && sameFailure(ra.Err, rb.Err)
	}
	return sameFailure(a.Err, b.Err)
}

// rowTemplateKey is the key of sameBesidesRow: equal for errors that
// differ only in the row they name.
func rowTemplateKey(ce *ConversionError) string {
	var cause string
	if re, ok := ce.Err.(*convert.RowError); ok { //nolint:errorlint // the cause as stored
		cause = "row error\x00" + re.Column + "\x00" + re.Reason + "\x00"
		if re.Err != nil {
			cause += errKey(re.Err)
		}
	} else if ce.Err != nil {
		cause = errKey(ce.Err)
	}
	return ce.Column + "\x00" + ce.Reason + "\x00" + cause
}

// foldsInto reports whether the single row lo failing with err joins last
// (which ends at lo, in the same state) as a row-named run.
func foldsInto(last *failedRun, lo int, err error) bool {
	ce, ok := namesRow(err, lo)
	if !ok {
		return false
	}
	first, ok := namesRow(last.err, last.lo)
	if !ok || !last.rowNamed && last.hi-last.lo != 1 {
		return false
	}
	return sameBesidesRow(first, ce)
}

// appendFailed adds rows [lo, hi) failed with err in state to runs,
// extending the last run when it ends at lo with the same state and an
// error of the same kind and message (each request of a failed stream has
// its own error value; the run keeps the first), or, for one row whose
// conversion error names it, an error that differs only in that row
// (rowNamed).
func appendFailed(runs []failedRun, lo, hi int, err error, state RowState) []failedRun {
	if lo >= hi {
		return runs
	}
	if n := len(runs); n > 0 && runs[n-1].hi == lo && runs[n-1].state == state {
		last := &runs[n-1]
		if hi == lo+1 && foldsInto(last, lo, err) {
			last.hi, last.rowNamed = hi, true
			return runs
		}
		if last.rowNamed { // its rows each have their own error: only those join
			return append(runs, failedRun{lo: lo, hi: hi, err: err, state: state})
		}
		if sameErr(last.err, err) || sameErr(last.same, err) {
			last.hi = hi
			return runs
		}
		if sameFailure(last.err, err) {
			last.hi, last.same = hi, err
			return runs
		}
	}
	return append(runs, failedRun{lo: lo, hi: hi, err: err, state: state})
}

// appendRun adds the run r to runs like appendFailed, keeping a row-named
// run's rows as they are (each naming its own row).
func appendRun(runs []failedRun, r failedRun) []failedRun {
	if !r.rowNamed {
		return appendFailed(runs, r.lo, r.hi, r.err, r.state)
	}
	if n := len(runs); n > 0 && runs[n-1].hi == r.lo && runs[n-1].state == r.state && foldsInto(&runs[n-1], r.lo, r.err) {
		runs[n-1].hi, runs[n-1].rowNamed = r.hi, true
		return runs
	}
	return append(runs, failedRun{lo: r.lo, hi: r.hi, err: r.err, state: r.state, rowNamed: true})
}

// sortRuns orders runs by first row (they are disjoint) and joins neighbours
// of the same error and state, in place.
func sortRuns(runs []failedRun) []failedRun {
	sort.Slice(runs, func(i, j int) bool { return runs[i].lo < runs[j].lo })
	var out []failedRun
	for _, r := range runs {
		out = appendRun(out, r)
	}
	return out
}

// runRows is the number of rows in runs.
func runRows(runs []failedRun) int {
	n := 0
	for _, r := range runs {
		n += r.hi - r.lo
	}
	return n
}

// expandRuns lists the rows of runs as FailedRows, in row order, each with
// its own row's error.
func expandRuns(runs []failedRun) []FailedRow {
	out := make([]FailedRow, 0, runRows(runs))
	for _, r := range runs {
		for i := r.lo; i < r.hi; i++ {
			out = append(out, FailedRow{Index: i, Err: r.errAt(i), State: r.state})
		}
	}
	return out
}

// runs returns the result's failed rows as runs: its compact form when the
// Wrapper was created WithRowRangesOnly, else built from FailedRows.
func (r *TransmissionResult) runs() []failedRun {
	if r == nil {
		return nil
	}
	if r.failedRuns != nil || r.FailedRows == nil {
		return r.failedRuns
	}
	var runs []failedRun
	for _, f := range r.FailedRows {
		runs = appendFailed(runs, f.Index, f.Index+1, f.Err, f.State)
	}
	return runs
}

// sameFailure reports whether rows failed with a and b belong to one run:
// the same error value (cheap, the common case within a request) or errors
// of the same kind and message (errKey, the rule FailedGroups groups by).
func sameFailure(a, b error) bool {
	return sameErr(a, b) || a != nil && b != nil && errKey(a) == errKey(b)
}

package core

import (
	"slices"
	"sort"
	"strconv"
	"strings"

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
	// they name (a conversion error per row, "at row 7") and, when vals is
	// set, in the row's own value texts: err is the first row's (a
	// *ConversionError naming lo), row i's is err naming i (errAt). Such
	// rows are one run however many there are.
	rowNamed bool
	// parts is splitValues of err's reason (nil until a row was compared
	// with it). vals, when not nil, holds the value texts of every row of
	// the run, len(parts)-1 per row in row order: row i's reason is
	// joinValues(parts, vals of row i). nil vals: every row's reason is
	// err's.
	parts, vals []string
	// ownVals: vals' array is this run's alone (built here), so rows may be
	// appended to it in place; a run copied from another result's shares it.
	ownVals bool
}

// errAt is the error row i of the run failed with (FailedGroup.ErrAt's
// rule).
func (f failedRun) errAt(i int) error {
	return rowErr(f.err, f.rowNamed, f.parts, f.vals, i-f.lo, i)
}

// rowErr is the error of row i, the j-th row of a run or group whose first
// row failed with err: err itself, or for rows named (rowNamed) err naming
// row i, with the reason rebuilt from row i's value texts when vals is set.
func rowErr(err error, rowNamed bool, parts, vals []string, j, i int) error {
	if !rowNamed {
		return err
	}
	ce, ok := err.(*ConversionError) //nolint:errorlint // the group's error as stored
	if !ok || ce == nil || ce.Row == i {
		return err
	}
	c := namingRow(ce, i)
	if k := len(parts) - 1; vals != nil && k > 0 && j >= 0 && (j+1)*k <= len(vals) {
		if reason := joinValues(parts, vals[j*k:(j+1)*k]); reason != ce.Reason {
			c.Reason = reason
			if re, ok := c.Err.(*convert.RowError); ok && re.Reason == ce.Reason { //nolint:errorlint // namingRow's copy
				re.Reason = reason
			}
		}
	}
	return c
}

// namingRow is ce naming row i instead (a copy; its cause too, when that
// is the row's own error, which names the same row: fromRowError).
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

// reasonTracks reports whether ce's cause is the row's own error with the
// same reason (a value text in one is in both).
func reasonTracks(ce *ConversionError) (re *convert.RowError, tracks bool) {
	re, ok := ce.Err.(*convert.RowError) //nolint:errorlint // the cause as stored
	if !ok || re == nil {
		return nil, false
	}
	return re, re.Reason == ce.Reason
}

// sameBesidesRow reports whether a and b are the same conversion failure
// but for the row they name and the value texts their reason quotes
// (splitValues): same column, reason around the values, and cause (the rule
// that folds rows into one run and one FailedGroup; rowTemplateKey is its
// key). aParts is splitValues of a.Reason when known (nil: split here).
func sameBesidesRow(a, b *ConversionError, aParts []string) bool {
	if !sameCause(a, b) {
		return false
	}
	if a.Reason != b.Reason {
		if aParts == nil {
			aParts, _ = splitValues(a.Reason)
		}
		if bParts, _ := splitValues(b.Reason); !slices.Equal(aParts, bParts) {
			return false
		}
	}
	return true
}

// sameCause is sameBesidesRow but for the reasons' parts: the same column
// and cause.
func sameCause(a, b *ConversionError) bool {
	if a.Column != b.Column {
		return false
	}
	ra, tracksA := reasonTracks(a)
	rb, tracksB := reasonTracks(b)
	if ra != nil || rb != nil {
		// The cause is the row's own (it names the row within its
		// chunk): compare what it says besides the row (its reason: the
		// conversion error's, or the same text for both).
		return ra != nil && rb != nil && ra.Column == rb.Column && tracksA == tracksB &&
			(tracksA || ra.Reason == rb.Reason) && sameFailure(ra.Err, rb.Err)
	}
	return sameFailure(a.Err, b.Err)
}

// rowTemplateKey is the key of sameBesidesRow: equal for errors that
// differ only in the row they name and their value texts. parts is
// splitValues of ce.Reason.
func rowTemplateKey(ce *ConversionError, parts []string) string {
	var cause string
	if re, tracks := reasonTracks(ce); re != nil {
		reason := "=\x00"
		if !tracks {
			reason = "\x01" + re.Reason + "\x00"
		}
		cause = "row error\x00" + re.Column + "\x00" + reason
		if re.Err != nil {
			cause += errKey(re.Err)
		}
	} else if ce.Err != nil {
		cause = errKey(ce.Err)
	}
	return ce.Column + "\x00" + strings.Join(parts, "\x02") + "\x00" + strconv.Itoa(len(parts)) + "\x00" + cause
}

// foldsInto reports whether the single row lo failing with err joins last
// (which ends at lo, in the same state) as a row-named run, and returns
// err as the row's *ConversionError.
func foldsInto(last *failedRun, lo int, err error) (*ConversionError, bool) {
	ce, ok := namesRow(err, lo)
	if !ok {
		return nil, false
	}
	first, ok := namesRow(last.err, last.lo)
	if !ok || !last.rowNamed && last.hi-last.lo != 1 {
		return nil, false
	}
	if first.Reason != ce.Reason && last.parts == nil {
		last.parts, _ = splitValues(first.Reason)
	}
	return ce, sameBesidesRow(first, ce, last.parts)
}

// valuesOf returns the value texts of row j of the run (len(parts)-1 of
// them; parts must be set).
func (f *failedRun) valuesOf(j int) []string {
	k := len(f.parts) - 1
	if f.vals != nil {
		return f.vals[j*k : (j+1)*k]
	}
	_, v := splitValues(f.err.(*ConversionError).Reason) //nolint:errorlint,forcetypeassert // a row-named run's error
	return v
}

// addRows records the value texts of rows joining the run (n rows, each
// with the values v, or with vals when not nil: n*(len(parts)-1) of
// them), after the run's rows so far (rows). A run whose rows all have its
// first row's reason keeps no values.
func (f *failedRun) addRows(rows int, v []string, vals []string, n int) {
	first := f.err.(*ConversionError) //nolint:errorlint,forcetypeassert // a row-named run's error
	if f.parts == nil {
		f.parts, _ = splitValues(first.Reason)
	}
	k := len(f.parts) - 1
	if k == 0 {
		return
	}
	if f.vals == nil {
		if vals == nil && slices.Equal(v, f.valuesOf(0)) {
			return // still every row's reason is the first's
		}
		fv := f.valuesOf(0)
		f.vals = make([]string, 0, 2*(rows+n)*k)
		for range rows {
			f.vals = append(f.vals, fv...)
		}
		f.ownVals = true
	} else if !f.ownVals {
		f.vals = append(make([]string, 0, 2*(rows+n)*k), f.vals...)
		f.ownVals = true
	}
	if vals != nil {
		f.vals = append(f.vals, vals...)
		return
	}
	fv := f.vals[:k]
	for range n {
		for x, s := range v {
			if s == fv[x] {
				s = fv[x] // the first row's string: no copy kept per row
			} else {
				s = strings.Clone(s) // not the row's whole reason
			}
			f.vals = append(f.vals, s)
		}
	}
}

// join adds the row-named run r (which follows f and folds into it) to f.
func (f *failedRun) join(r failedRun) {
	rows := f.hi - f.lo
	f.hi, f.rowNamed = r.hi, true
	if r.vals == nil && f.vals == nil && sameErr(r.err, f.err) {
		return
	}
	rce := r.err.(*ConversionError) //nolint:errorlint,forcetypeassert // a row-named run's error
	fce := f.err.(*ConversionError) //nolint:errorlint,forcetypeassert // the same
	if f.vals == nil && r.vals == nil && rce.Reason == fce.Reason {
		return
	}
	if r.vals != nil {
		f.addRows(rows, nil, r.vals, r.hi-r.lo)
		return
	}
	_, v := splitValues(rce.Reason)
	f.addRows(rows, v, nil, r.hi-r.lo)
}

// appendFailed adds rows [lo, hi) failed with err in state to runs,
// extending the last run when it ends at lo with the same state and an
// error of the same kind and message (each request of a failed stream has
// its own error value; the run keeps the first), or, for one row whose
// conversion error names it, an error that differs only in that row and
// the value texts of its reason (rowNamed).
func appendFailed(runs []failedRun, lo, hi int, err error, state RowState) []failedRun {
	if lo >= hi {
		return runs
	}
	if n := len(runs); n > 0 && runs[n-1].hi == lo && runs[n-1].state == state {
		last := &runs[n-1]
		if hi == lo+1 {
			if _, ok := foldsInto(last, lo, err); ok {
				last.join(failedRun{lo: lo, hi: hi, err: err, state: state, rowNamed: true})
				return runs
			}
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
// run's rows as they are (each naming its own row, with its own values).
func appendRun(runs []failedRun, r failedRun) []failedRun {
	if !r.rowNamed {
		return appendFailed(runs, r.lo, r.hi, r.err, r.state)
	}
	if n := len(runs); n > 0 && runs[n-1].hi == r.lo && runs[n-1].state == r.state {
		if _, ok := foldsInto(&runs[n-1], r.lo, r.err); ok {
			runs[n-1].join(r)
			return runs
		}
	}
	return append(runs, failedRun{lo: r.lo, hi: r.hi, err: r.err, state: r.state, rowNamed: true, parts: r.parts, vals: r.vals})
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

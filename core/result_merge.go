package core

import (
	"reflect"
	"strconv"
	"strings"
)

// FailedGroup is the rows of a result that failed with one error and have one
// outcome, as ascending half-open row ranges [lo, hi). See
// TransmissionResult.FailedGroups.
type FailedGroup struct {
	// Err is the error of the group's first row; every row of the group
	// failed with this error or one of the same kind and message, or, when
	// RowNamed, the same error naming its own row (ErrAt).
	Err error
	// State is the outcome every row of the group has: not written or unknown.
	State RowState
	// Ranges are the group's rows as ascending half-open ranges [lo, hi).
	Ranges [][2]int
	// RowNamed: each row failed with its own conversion error, and the
	// errors differ only in the row they name ("conversion failed at row 7,
	// column …"): Err is a *ConversionError naming the group's first row,
	// and ErrAt(i) is row i's. Such rows make one group however many
	// there are.
	RowNamed bool
}

// ErrAt returns the error row i of the group failed with: Err, or for a
// RowNamed group a copy of Err naming row i. i is not checked against
// Ranges.
func (g FailedGroup) ErrAt(i int) error {
	if !g.RowNamed {
		return g.Err
	}
	ce, ok := g.Err.(*ConversionError) //nolint:errorlint // the group's error as stored
	if !ok || ce == nil || ce.Row == i {
		return g.Err
	}
	return namingRow(ce, i)
}

// RowMessage splits the message of a RowNamed group's error
// (DetailsOf(Err).Message) around the row number it names: row i's
// message is before + strconv.Itoa(i) + after. ok is false for a group
// that is not RowNamed or whose message does not name its row.
func (g FailedGroup) RowMessage() (before, after string, ok bool) {
	ce, isCE := g.Err.(*ConversionError) //nolint:errorlint // the group's error as stored
	if !g.RowNamed || !isCE || ce == nil || ce.Row < 0 {
		return "", "", false
	}
	msg := DetailsOf(g.Err).Message
	needle := "row " + strconv.Itoa(ce.Row)
	for from := 0; ; {
		i := strings.Index(msg[from:], needle)
		if i < 0 {
			return "", "", false
		}
		end := from + i + len(needle)
		if end == len(msg) || msg[end] < '0' || msg[end] > '9' { // "row 7", not "row 70"
			return msg[:end-len(needle)+len("row ")], msg[end:], true
		}
		from = end
	}
}

// Rows is the number of rows in the group.
func (g FailedGroup) Rows() int {
	n := 0
	for _, r := range g.Ranges {
		n += r[1] - r[0]
	}
	return n
}

// groupKey is what makes two failed rows share a FailedGroup: errors of the
// same kind and message, and the same row state; or, for a row whose own
// conversion error names it (row is the row, or a run of such rows when
// rowNamed), the same error but for that row (rowTemplateKey). The rule
// lives here only; pybind and the Python package take the groups as they
// are.
func groupKey(f failedRun) (key string, rowNamed bool) {
	if ce, ok := namesRow(f.err, f.lo); ok && (f.rowNamed || f.hi-f.lo == 1) {
		return "row named\x00" + rowTemplateKey(ce) + "\x00" + f.state.String(), true
	}
	return errKey(f.err) + "\x00" + f.state.String(), false
}

// errKey identifies an error by kind and message.
func errKey(err error) string {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	return string(KindOf(err)) + "\x00" + msg
}

// sameErr compares errors by identity without panicking on uncomparable
// dynamic types.
func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb || !ta.Comparable() {
		return false
	}
	return a == b
}

// FailedGroups returns the failed rows grouped by error (same kind and
// message, or conversion errors that differ only in the row they name:
// RowNamed) and row state, groups in the order of their first row, each with
// its rows as half-open ranges: a compact form for results of millions of
// rows, a few groups however many rows failed with per-row conversion
// errors.
func (r *TransmissionResult) FailedGroups() []FailedGroup {
	if r == nil {
		return nil
	}
	var groups []FailedGroup
	byKey := map[string]int{}
	last, lastGroup := failedRun{}, -1
	for _, f := range r.runs() {
		g := lastGroup
		if g < 0 || groups[g].RowNamed || f.rowNamed || !sameErr(f.err, last.err) || f.state != last.state {
			key, named := groupKey(f)
			var ok bool
			if g, ok = byKey[key]; !ok {
				g = len(groups)
				byKey[key] = g
				groups = append(groups, FailedGroup{Err: f.err, State: f.state, RowNamed: named})
			}
		}
		last, lastGroup = f, g
		groups[g].Ranges = appendRange(groups[g].Ranges, f.lo, f.hi)
	}
	return groups
}

// FailedAsWhole reports whether the batch failed as a whole: nothing
// succeeded and every row failed with the batch's error (authentication,
// connection, closed wrapper, an unconvertible schema, …), as opposed to
// row-level or partial failures. APIs that raise exceptions (Python) raise
// Err for such a result and return it otherwise; this is the one place that
// decides.
func (r *TransmissionResult) FailedAsWhole() bool {
	if r == nil || r.Err == nil || r.Success || r.SuccessfulCount > 0 || r.FailedCount != r.TotalRows {
		return false
	}
	want := errKey(r.Err)
	for _, f := range r.runs() {
		if f.rowNamed || !sameErr(f.err, r.Err) && errKey(f.err) != want { // a row-named run's rows each have their own error
			return false
		}
	}
	return true
}

// mergeResults combines the results of consecutive parts of one logical
// batch: row indices are offset by the rows of the parts before, failed rows
// are copied whole, successful ranges joined, counts summed; lists says
// whether the merged result also lists SuccessfulRows. Latency is left to
// the caller.
func mergeResults(parts []*TransmissionResult, writerDisabled, lists bool) *TransmissionResult {
	if len(parts) == 1 {
		res := *parts[0]
		res.setFailed(parts[0].runs(), lists)
		res.SuccessfulRanges = successfulRanges(parts[0], 0, [][2]int{})
		res.SuccessfulRows = nil
		if lists && len(res.SuccessfulRanges) > 0 {
			res.SuccessfulRows = expandRanges(res.SuccessfulRanges)
		}
		return &res
	}
	out := &TransmissionResult{Success: true, WriterDisabled: writerDisabled, SuccessfulRanges: [][2]int{}}
	whole := true // every part failed as a whole
	var firstWhole error
	var failed []failedRun
	for _, p := range parts {
		out.Success = out.Success && p.Success
		out.Attempts = max(out.Attempts, p.Attempts)
		out.BatchSizeBytes += p.BatchSizeBytes
		out.WriterDisabled = out.WriterDisabled || p.WriterDisabled
		moved := map[*ConversionError]error{}
		for _, f := range p.runs() {
			failed = appendRun(failed, failedRun{lo: out.TotalRows + f.lo, hi: out.TotalRows + f.hi, err: rowMoved(f.err, out.TotalRows, moved), state: f.state, rowNamed: f.rowNamed})
		}
		out.SuccessfulRanges = successfulRanges(p, out.TotalRows, out.SuccessfulRanges)
		sumCounts(out, p)
		if p.FailedAsWhole() {
			if firstWhole == nil {
				firstWhole = p.Err
			}
		} else if p.TotalRows > 0 || p.Err != nil {
			whole = false
		}
	}
	if lists && len(out.SuccessfulRanges) > 0 {
		out.SuccessfulRows = expandRanges(out.SuccessfulRanges)
	}
	out.setFailed(failed, lists)
	switch {
	case out.Success:
	case whole && firstWhole != nil:
		out.Err = firstWhole
	case len(failed) > 0:
		f := failed[0]
		out.Err = someRowsFailed(f.err, out, f.lo)
	default:
		for _, p := range parts {
			if p.Err != nil {
				out.Err = p.Err
				break
			}
		}
	}
	return out
}

// rowMoved returns err with the row it names moved by offset: a part's
// *ConversionError names its row within the part, the merged result counts
// rows across the parts. moved keeps one copy per error of a part, so rows
// that shared an error value still do.
func rowMoved(err error, offset int, moved map[*ConversionError]error) error {
	ce, ok := err.(*ConversionError) //nolint:errorlint // the error a row carries, as stored
	if !ok || ce.Row < 0 || offset == 0 {
		return err
	}
	if m, ok := moved[ce]; ok {
		return m
	}
	c := *ce
	c.Row += offset
	moved[ce] = &c
	return &c
}

// setFailed stores the failed rows runs (in row order): listed one by one in
// FailedRows when lists, else kept as runs (WithRowRangesOnly).
func (r *TransmissionResult) setFailed(runs []failedRun, lists bool) {
	r.FailedRows, r.failedRuns = nil, nil
	switch {
	case len(runs) == 0:
	case lists:
		r.FailedRows = expandRuns(runs)
	default:
		r.failedRuns = runs
	}
}

// sumCounts adds every int field of p whose name ends in "Count" (and
// TotalRows) to out, so count fields added to TransmissionResult are merged
// without being listed here.
func sumCounts(out, p *TransmissionResult) {
	ov, pv := reflect.ValueOf(out).Elem(), reflect.ValueOf(p).Elem()
	t := ov.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type.Kind() != reflect.Int || !f.IsExported() {
			continue
		}
		if name := f.Name; name == "TotalRows" || (len(name) > 5 && name[len(name)-5:] == "Count") {
			ov.Field(i).SetInt(ov.Field(i).Int() + pv.Field(i).Int())
		}
	}
}

// successfulRanges appends p's successful rows plus offset to dst as
// ranges: p's own (SuccessfulRanges, or built from SuccessfulRows), or, for
// a part that carries neither (SuccessfulCount > 0), every row it does not
// list as failed (TotalRows = SuccessfulCount + FailedCount).
func successfulRanges(p *TransmissionResult, offset int, dst [][2]int) [][2]int {
	if rs := p.successRanges(); rs != nil || p.SuccessfulCount == 0 {
		for _, r := range rs {
			dst = appendRange(dst, offset+r[0], offset+r[1])
		}
		return dst
	}
	next := 0
	for _, f := range p.runs() {
		dst = appendRange(dst, offset+next, offset+f.lo)
		next = f.hi
	}
	return appendRange(dst, offset+next, offset+p.TotalRows)
}

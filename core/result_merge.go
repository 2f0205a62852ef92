package core

import (
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// FailedGroup is the rows of a result that failed with one error and have one
// outcome, as ascending half-open row ranges [lo, hi). See
// TransmissionResult.FailedGroups.
type FailedGroup struct {
	// Err is the error of the group's first row; every row of the group
	// failed with this error or one of the same kind and message, or, when
	// RowNamed, the same error naming its own row and quoting its own
	// values (ErrAt).
	Err error
	// State is the outcome every row of the group has: not written or unknown.
	State RowState
	// Ranges are the group's rows as ascending half-open ranges [lo, hi).
	Ranges [][2]int
	// RowNamed: each row failed with its own conversion error, and the
	// errors differ only in the row they name ("conversion failed at row 7,
	// column …") and in the value texts of the row their reason quotes
	// (numbers such as the 2147483648 of "int64 value 2147483648 is over
	// the INT maximum 2147483647", quoted strings such as a MAP key): the
	// same column path (a list element's or MAP entry's index is part of
	// it: "m[1].key"), kind and cause, the same reason around those values.
	// Err is a *ConversionError of the group's first row, and ErrAt(i) is
	// row i's, with row i's own message. Such rows make one group however
	// many there are; RowTemplate gives their messages compactly.
	RowNamed bool
	// values holds the value texts of each row of a RowNamed group whose
	// rows' reasons differ in them (nil: every row's reason is Err's).
	values *groupValues
}

// groupValues is the value texts of a RowNamed group's rows: row j of the
// group (counting through Ranges) has vals[j*k:(j+1)*k], k = len(parts)-1,
// and its reason is joinValues(parts, those). starts[r] is the number of
// rows before Ranges[r].
type groupValues struct {
	parts, vals []string
	starts      []int
}

// ErrAt returns the error row i of the group failed with: Err, or for a
// RowNamed group a copy of Err naming row i, its reason quoting row i's
// values. i is not checked against Ranges (for a row not in the group, the
// copy quotes the first row's values).
func (g FailedGroup) ErrAt(i int) error {
	if g.values == nil {
		return rowErr(g.Err, g.RowNamed, nil, nil, 0, i)
	}
	return rowErr(g.Err, g.RowNamed, g.values.parts, g.values.vals, g.position(i), i)
}

// position is the number of the group's rows before row i (one of them).
func (g FailedGroup) position(i int) int {
	r := sort.Search(len(g.Ranges), func(r int) bool { return g.Ranges[r][1] > i })
	if r == len(g.Ranges) || i < g.Ranges[r][0] {
		return -1 // not one of the group's rows
	}
	return g.values.starts[r] + i - g.Ranges[r][0]
}

// RowMessage splits the message of a RowNamed group's error
// (DetailsOf(Err).Message) around the row number it names: row i's
// message is before + strconv.Itoa(i) + after. ok is false for a group
// that is not RowNamed or whose message does not name its row, and for a
// group whose rows' messages also differ in their values (RowTemplate
// splits those).
func (g FailedGroup) RowMessage() (before, after string, ok bool) {
	parts, _, ok := g.RowTemplate()
	if !ok || len(parts) != 2 {
		return "", "", false
	}
	return parts[0], parts[1], true
}

// RowTemplate splits the messages of a RowNamed group's rows around what
// differs between them: the row they name and the value texts that are not
// the same in every row. Row i's message (DetailsOf(ErrAt(i)).Message) is
// parts[0] + strconv.Itoa(i) + parts[1] + v[0] + parts[2] + … + v[k-1] +
// parts[k+1], where k = len(parts)-2 and v = values[j*k:(j+1)*k] for the
// group's j-th row (rows counted through Ranges in order, from 0). When the
// messages differ only in the row, k is 0 and values nil (RowMessage). ok
// is false for a group that is not RowNamed or whose message does not name
// its row. The values are the group's (shared): do not modify them.
func (g FailedGroup) RowTemplate() (parts, values []string, ok bool) {
	ce, isCE := g.Err.(*ConversionError) //nolint:errorlint // the group's error as stored
	if !g.RowNamed || !isCE || ce == nil || ce.Row < 0 {
		return nil, nil, false
	}
	msg := DetailsOf(g.Err).Message
	needle := "row " + strconv.Itoa(ce.Row)
	var before, after string
	for from := 0; ; {
		i := strings.Index(msg[from:], needle)
		if i < 0 {
			return nil, nil, false
		}
		end := from + i + len(needle)
		if end == len(msg) || msg[end] < '0' || msg[end] > '9' { // "row 7", not "row 70"
			before, after = msg[:end-len(needle)+len("row ")], msg[end:]
			break
		}
		from = end
	}
	if g.values == nil {
		return []string{before, after}, nil, true
	}
	if !strings.HasSuffix(after, ce.Reason) {
		return nil, nil, false
	}
	return g.values.template(before, after[:len(after)-len(ce.Reason)])
}

// template is RowTemplate's parts and values: value texts the same in every
// row are written into the parts.
func (v *groupValues) template(before, mid string) (parts, values []string, ok bool) {
	k := len(v.parts) - 1
	rows := len(v.vals) / k
	varies := make([]bool, k)
	nvary := 0
	for x := range k {
		for j := 1; j < rows && !varies[x]; j++ {
			varies[x] = v.vals[j*k+x] != v.vals[x]
		}
		if varies[x] {
			nvary++
		}
	}
	parts = []string{before}
	cur := mid + v.parts[0]
	for x := range k {
		if !varies[x] {
			cur += v.vals[x] + v.parts[x+1]
			continue
		}
		parts = append(parts, cur)
		cur = v.parts[x+1]
	}
	parts = append(parts, cur)
	switch nvary {
	case 0:
		return parts, nil, true
	case k:
		return parts, v.vals, true
	}
	values = make([]string, 0, rows*nvary)
	for j := range rows {
		for x := range k {
			if varies[x] {
				values = append(values, v.vals[j*k+x])
			}
		}
	}
	return parts, values, true
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
// rowNamed), the same error but for that row and the value texts of its
// reason (rowTemplateKey; parts is splitValues of its reason). The rule
// lives here only; pybind and the Python package take the groups as they
// are.
func groupKey(f failedRun, parts []string) string {
	if ce, ok := rowNamedErr(f); ok {
		return "row named\x00" + rowTemplateKey(ce, parts) + "\x00" + f.state.String()
	}
	return errKey(f.err) + "\x00" + f.state.String()
}

// rowNamedErr returns the run's error when its rows each failed with their
// own conversion error (a row-named run, or one row whose error names it).
func rowNamedErr(f failedRun) (*ConversionError, bool) {
	ce, ok := namesRow(f.err, f.lo)
	return ce, ok && (f.rowNamed || f.hi-f.lo == 1)
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
// message, or conversion errors that differ only in the row they name and
// the values they quote: RowNamed) and row state, groups in the order of
// their first row, each with its rows as half-open ranges: a compact form
// for results of millions of rows, a few groups however many rows failed
// with per-row conversion errors.
func (r *TransmissionResult) FailedGroups() []FailedGroup {
	if r == nil {
		return nil
	}
	var groups []FailedGroup
	var acc []*groupAcc // of each RowNamed group
	byKey := map[string]int{}
	last, lastGroup, lastNamed := failedRun{}, -1, -1
	var sp, sv []string // scratch: a run's reason split
	for _, f := range r.runs() {
		g := lastGroup
		ce, named := rowNamedErr(f)
		var parts, vals []string // the run's reason split: its own, or in sp and sv
		if named {
			if f.vals != nil {
				parts, vals = f.parts, f.vals
			} else {
				sp, sv = splitValuesInto(ce.Reason, sp[:0], sv[:0])
				parts, vals = sp, sv
			}
			g = -1
			if lastNamed >= 0 && groups[lastNamed].State == f.state && acc[lastNamed].takes(ce, parts) {
				g = lastNamed // the common case: the last row-named group again
			}
		} else if g < 0 || groups[g].RowNamed || !sameErr(f.err, last.err) || f.state != last.state {
			g = -1
		}
		if g < 0 {
			key := groupKey(f, parts)
			var ok bool
			if g, ok = byKey[key]; !ok {
				g = len(groups)
				byKey[key] = g
				groups = append(groups, FailedGroup{Err: f.err, State: f.state, RowNamed: named})
				acc = append(acc, nil)
				if named {
					acc[g] = newGroupAcc(ce, parts, vals)
				}
			}
		}
		last, lastGroup = f, g
		if named {
			lastNamed = g
			acc[g].add(f, vals)
		}
		groups[g].Ranges = appendRange(groups[g].Ranges, f.lo, f.hi)
	}
	for g, a := range acc {
		if a == nil || a.vals == nil {
			continue
		}
		gv := &groupValues{parts: a.parts, vals: a.vals, starts: make([]int, len(groups[g].Ranges))}
		n := 0
		for x, rg := range groups[g].Ranges {
			gv.starts[x] = n
			n += rg[1] - rg[0]
		}
		groups[g].values = gv
	}
	return groups
}

// groupAcc gathers the value texts of a RowNamed group's rows while
// FailedGroups builds it.
type groupAcc struct {
	first     *ConversionError
	parts     []string // splitValues of first.Reason
	firstVals []string
	vals      []string // per row, once a row's values differ from the first's
	rows      int
}

func newGroupAcc(first *ConversionError, parts, vals []string) *groupAcc {
	a := &groupAcc{first: first, parts: slices.Clone(parts)}
	k := len(parts) - 1
	a.firstVals = slices.Clone(vals[:k])
	return a
}

// takes reports whether a row whose error is ce (its reason split into
// parts) belongs to the group.
func (a *groupAcc) takes(ce *ConversionError, parts []string) bool {
	return slices.Equal(a.parts, parts) && (ce == a.first || sameCause(a.first, ce))
}

// add records the values of the run f's rows: f.vals, or vals (of its
// error's reason) for each.
func (a *groupAcc) add(f failedRun, vals []string) {
	n := f.hi - f.lo
	defer func() { a.rows += n }()
	k := len(a.parts) - 1
	if k == 0 {
		return
	}
	if a.vals == nil {
		if f.vals == nil && slices.Equal(vals, a.firstVals) {
			return
		}
		a.vals = make([]string, 0, 2*(a.rows+n)*k)
		for range a.rows {
			a.vals = append(a.vals, a.firstVals...)
		}
	}
	if f.vals != nil {
		a.vals = append(a.vals, f.vals...)
		return
	}
	for range n {
		a.vals = append(a.vals, vals...) // substrings of the row's reason, which the result keeps
	}
}

// FailedAsWhole reports whether the batch failed as a whole: nothing
// succeeded and every row failed with the batch's error (authentication,
// connection, closed wrapper, an unconvertible schema, …), as opposed to
// row-level or partial failures: a row's own conversion error is row-level
// also when it is the batch's only row. APIs that raise exceptions (Python) raise
// Err for such a result and return it otherwise; this is the one place that
// decides.
func (r *TransmissionResult) FailedAsWhole() bool {
	if r == nil || r.Err == nil || r.Success || r.SuccessfulCount > 0 || r.FailedCount != r.TotalRows {
		return false
	}
	want := errKey(r.Err)
	for _, f := range r.runs() {
		// A run whose rows each failed with their own conversion error
		// (also a single row's, as in a one-row batch) is row-level.
		if _, named := rowNamedErr(f); named || !sameErr(f.err, r.Err) && errKey(f.err) != want {
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
			failed = appendRun(failed, failedRun{lo: out.TotalRows + f.lo, hi: out.TotalRows + f.hi, err: rowMoved(f.err, out.TotalRows, moved), state: f.state, rowNamed: f.rowNamed, parts: f.parts, vals: f.vals})
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
	mergeRecoveries(out, parts)
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

// rowMoved returns err with the row it names moved by offset (and its
// cause's, namingRow): a part's *ConversionError names its row within the
// part, the merged result counts rows across the parts. moved keeps one copy per error of a part, so rows
// that shared an error value still do.
func rowMoved(err error, offset int, moved map[*ConversionError]error) error {
	ce, ok := err.(*ConversionError) //nolint:errorlint // the error a row carries, as stored
	if !ok || ce.Row < 0 || offset == 0 {
		return err
	}
	if m, ok := moved[ce]; ok {
		return m
	}
	c := namingRow(ce, ce.Row+offset) // its cause, the row's own RowError, moved too
	moved[ce] = c
	return c
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

package pybind

import "github.com/zerobus-wrapper/zerobus-wrapper/core"

// encodeGroups encodes core's FailedGroups for Python, one group for one.
// Core groups the rows whose conversion errors differ only in the row they
// name (a batch with 500k bad values is one RowNamed group); such a group of
// several rows is sent with RowMessage: Python rebuilds each row's message as
// RowMessage[0] + row + RowMessage[1] (its details: Details with Row set), so
// every row's text still names its row, as core's FailedGroup.ErrAt does.
func encodeGroups(groups []core.FailedGroup) []failedGroup {
	out := make([]failedGroup, 0, len(groups))
	for _, g := range groups {
		d := errorDetails("", g.Err)
		msg := d.Message
		if g.Err == nil {
			msg = "unknown error"
		}
		d.Message = ""
		f := failedGroup{Kind: string(d.Kind), Message: msg, State: g.State.String(), Ranges: g.Ranges, Details: &d}
		if pre, suf, ok := g.RowMessage(); ok && g.Rows() > 1 {
			f.RowMessage = []string{pre, suf}
		}
		out = append(out, f)
	}
	return out
}

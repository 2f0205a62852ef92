package pybind

import "github.com/zerobus-wrapper/zerobus-wrapper/core"

// encodeGroups encodes core's FailedGroups for Python, one group for one.
// Core groups the rows whose conversion errors differ only in the row they
// name and the values they quote (a batch with 500k bad values is one
// RowNamed group); such a group of several rows is sent with core's
// RowTemplate: RowMessage is its parts and RowValues its values, and Python
// rebuilds each row's message from them (its details: Details with Row set),
// so every row's text is the one core's FailedGroup.ErrAt gives.
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
		if parts, values, ok := g.RowTemplate(); ok && g.Rows() > 1 {
			f.RowMessage, f.RowValues = parts, values
		}
		out = append(out, f)
	}
	return out
}

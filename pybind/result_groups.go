package pybind

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// encodeGroups encodes core's FailedGroups for Python. A row error that names
// its row (a conversion error: "conversion failed at row 7, column …") makes
// a group of its own in core, so a batch with 500k bad values has 500k groups.
// Groups of one row whose errors differ only in that row number (same kind,
// state, details and message around the number) are sent as one group with
// RowMessage: Python rebuilds each row's message as
// RowMessage[0] + row + RowMessage[1], so every row's text still names its row,
// at the cost of one group instead of one per row.
func encodeGroups(groups []core.FailedGroup) []failedGroup {
	out := make([]failedGroup, 0, len(groups))
	type template struct {
		at      int                // index in out
		details *core.ErrorDetails // of the first row, Row set to -1
	}
	byTemplate := map[string]template{}
	for _, g := range groups {
		d := errorDetails("", g.Err)
		msg := d.Message
		if g.Err == nil {
			msg = "unknown error"
		}
		d.Message = ""
		pre, suf, ok := rowSplit(g, d.Row, msg)
		if ok {
			key := g.State.String() + "\x00" + pre + "\x00" + suf
			norm := d
			norm.Row = -1
			if t, found := byTemplate[key]; found && reflect.DeepEqual(*t.details, norm) {
				f := &out[t.at]
				if f.RowMessage == nil { // first merge: own the ranges (core's slice) before growing them
					f.RowMessage = []string{pre, suf}
					f.Ranges = append([][2]int(nil), f.Ranges...)
				}
				f.Ranges = appendRun(f.Ranges, g.Ranges[0])
				continue
			} else if !found {
				byTemplate[key] = template{at: len(out), details: &norm}
			}
		}
		dd := d
		out = append(out, failedGroup{Kind: string(d.Kind), Message: msg, State: g.State.String(), Ranges: g.Ranges, Details: &dd})
	}
	return out
}

// rowSplit splits msg around the row number it names ("… at row 7, …" →
// "… at row ", ", …") when the group is that one row (its only range is
// [row, row+1)); ok is false otherwise.
func rowSplit(g core.FailedGroup, row int, msg string) (pre, suf string, ok bool) {
	if row < 0 || len(g.Ranges) != 1 || g.Ranges[0] != [2]int{row, row + 1} {
		return "", "", false
	}
	needle := "row " + strconv.Itoa(row)
	from := 0
	for {
		i := strings.Index(msg[from:], needle)
		if i < 0 {
			return "", "", false
		}
		end := from + i + len(needle)
		if end == len(msg) || msg[end] < '0' || msg[end] > '9' {
			return msg[:end-len(needle)+len("row ")], msg[end:], true
		}
		from = end
	}
}

// appendRun appends the half-open range r to ranges (ascending), joining it
// to the last range when they touch.
func appendRun(ranges [][2]int, r [2]int) [][2]int {
	if n := len(ranges); n > 0 && ranges[n-1][1] == r[0] {
		ranges[n-1][1] = r[1]
		return ranges
	}
	return append(ranges, r)
}

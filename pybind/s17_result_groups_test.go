package pybind

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// s17 M4: conversion errors that name their row (one core group per row)
// are encoded as one group per (state, column, reason), and the message of
// every row can be rebuilt from row_message and still names that row.
func TestS17EncodeResultFoldsRowNamingErrors(t *testing.T) {
	const n = 10_000
	var rows []core.FailedRow
	for i := 0; i < n; i += 2 { // every 2nd row: its own error naming it
		rows = append(rows, core.FailedRow{Index: i, Err: &core.ConversionError{Row: i, Column: "s", Reason: "invalid UTF-8"}, State: core.RowNotWritten})
	}
	other := &core.ConversionError{Row: 3, Column: "t", Reason: "too long"} // another column: a group of its own
	rows = append(rows[:2], append([]core.FailedRow{{Index: 3, Err: other, State: core.RowNotWritten}}, rows[2:]...)...)
	unk := &core.ConversionError{Row: n + 1, Column: "s", Reason: "invalid UTF-8"} // same text, other state
	rows = append(rows, core.FailedRow{Index: n + 1, Err: unk, State: core.RowUnknown})
	in := &core.TransmissionResult{TotalRows: n + 2, FailedCount: len(rows), SuccessfulCount: n + 2 - len(rows), Err: rows[0].Err, FailedRows: rows}
	var got result
	if err := json.Unmarshal(encodeResult(in), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Failed) != 3 {
		t.Fatalf("%d groups, want 3: %+v", len(got.Failed), got.Failed[:min(len(got.Failed), 4)])
	}
	g := got.Failed[0]
	if g.State != "not_written" || len(g.RowMessage) != 2 || g.Details.Row != 0 || g.Message != rows[0].Err.Error() {
		t.Fatalf("folded group %+v (details %+v)", g, g.Details)
	}
	count := 0
	for _, r := range g.Ranges {
		for i := r[0]; i < r[1]; i++ {
			count++
			want := (&core.ConversionError{Row: i, Column: "s", Reason: "invalid UTF-8"}).Error()
			if msg := g.RowMessage[0] + strconv.Itoa(i) + g.RowMessage[1]; msg != want {
				t.Fatalf("row %d: rebuilt %q, want %q", i, msg, want)
			}
		}
	}
	if count != n/2 || len(g.Ranges) != n/2 {
		t.Errorf("folded group holds %d rows in %d ranges, want %d", count, len(g.Ranges), n/2)
	}
	if o := got.Failed[1]; o.Message != other.Error() || o.RowMessage != nil || o.Ranges[0] != [2]int{3, 4} {
		t.Errorf("other column's group %+v", o)
	}
	if u := got.Failed[2]; u.State != "unknown" || u.Message != unk.Error() || u.RowMessage != nil {
		t.Errorf("unknown row's group %+v", u)
	}
}

// A group of several rows sharing one error, or an error whose row is not its
// group's, is kept as it is.
func TestS17EncodeResultKeepsSharedErrors(t *testing.T) {
	shared := &core.ConversionError{Row: 1, Reason: "bad"}
	a := &core.ConversionError{Row: 5, Reason: "bad"}
	rows := []core.FailedRow{{Index: 1, Err: shared}, {Index: 2, Err: shared}, {Index: 5, Err: a}, {Index: 9, Err: &core.ConversionError{Row: 4, Reason: "bad"}}}
	var got result
	if err := json.Unmarshal(encodeResult(&core.TransmissionResult{TotalRows: 10, FailedCount: 4, SuccessfulCount: 6, FailedRows: rows}), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Failed) != 3 || got.Failed[0].RowMessage != nil || got.Failed[1].RowMessage != nil || got.Failed[2].RowMessage != nil {
		t.Fatalf("groups %+v", got.Failed)
	}
	if got.Failed[0].Ranges[0] != [2]int{1, 3} || got.Failed[1].Ranges[0] != [2]int{5, 6} || got.Failed[2].Ranges[0] != [2]int{9, 10} {
		t.Errorf("ranges %+v", got.Failed)
	}
}

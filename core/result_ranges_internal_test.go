package core

import (
	"errors"
	"reflect"
	"testing"
)

func TestRanges(t *testing.T) {
	var rs [][2]int
	for _, i := range []int{0, 1, 2, 5, 6, 9} {
		rs = appendRow(rs, i)
	}
	if want := [][2]int{{0, 3}, {5, 7}, {9, 10}}; !reflect.DeepEqual(rs, want) {
		t.Errorf("appendRow: %v, want %v", rs, want)
	}
	if got, want := expandRanges(rs), []int{0, 1, 2, 5, 6, 9}; !reflect.DeepEqual(got, want) {
		t.Errorf("expandRanges: %v, want %v", got, want)
	}
	if got := rangeRows(rs); got != 6 {
		t.Errorf("rangeRows: %d, want 6", got)
	}
	// Out of order and overlapping (rows resolved out of order) are merged.
	if got, want := normalizeRanges([][2]int{{7, 9}, {0, 2}, {2, 4}, {8, 12}}), [][2]int{{0, 4}, {7, 12}}; !reflect.DeepEqual(got, want) {
		t.Errorf("normalizeRanges: %v, want %v", got, want)
	}
	if got, want := rangesOf([]int{4, 3, 10}), [][2]int{{3, 5}, {10, 11}}; !reflect.DeepEqual(got, want) {
		t.Errorf("rangesOf: %v, want %v", got, want)
	}
}

// TestMergeRanges merges parts given as ranges, as lists, and as neither
// (then the rows not failed): the ranges offset and joined across parts,
// SuccessfulRows listed only when asked.
func TestMergeRanges(t *testing.T) {
	errA := errors.New("a")
	parts := []*TransmissionResult{
		{TotalRows: 4, SuccessfulCount: 3, FailedCount: 1, FailedRows: []FailedRow{{Index: 3, Err: errA}}, SuccessfulRanges: [][2]int{{0, 3}}},
		{TotalRows: 2, SuccessfulCount: 2, SuccessfulRows: []int{0, 1}},
		{TotalRows: 3, SuccessfulCount: 2, FailedCount: 1, FailedRows: []FailedRow{{Index: 0, Err: errA}}},
		{Success: true, TotalRows: 2, SuccessfulCount: 2, SuccessfulRanges: [][2]int{{0, 2}}},
	}
	got := mergeResults(parts, false, false)
	if want := [][2]int{{0, 3}, {4, 6}, {7, 11}}; !reflect.DeepEqual(got.SuccessfulRanges, want) {
		t.Errorf("SuccessfulRanges: %v, want %v", got.SuccessfulRanges, want)
	}
	if got.SuccessfulRows != nil || got.SuccessfulCount != 9 || got.TotalRows != 11 {
		t.Errorf("lists off: SuccessfulRows %v, counts %d/%d, want nil, 9/11", got.SuccessfulRows, got.SuccessfulCount, got.TotalRows)
	}
	if want := []int{0, 1, 2, 4, 5, 7, 8, 9, 10}; !reflect.DeepEqual(got.SuccessfulRowIndices(), want) {
		t.Errorf("SuccessfulRowIndices: %v, want %v", got.SuccessfulRowIndices(), want)
	}
	listed := mergeResults(parts, false, true)
	if !reflect.DeepEqual(listed.SuccessfulRows, got.SuccessfulRowIndices()) {
		t.Errorf("lists on: SuccessfulRows %v, want %v", listed.SuccessfulRows, got.SuccessfulRowIndices())
	}
	one := mergeResults(parts[2:3], false, false)
	if want := [][2]int{{1, 3}}; !reflect.DeepEqual(one.SuccessfulRanges, want) || one.SuccessfulRows != nil {
		t.Errorf("one part: ranges %v rows %v, want %v and nil", one.SuccessfulRanges, one.SuccessfulRows, want)
	}
}

// TestFailedRuns: a batch failing as a whole keeps one run, not a row each,
// when rows are not listed (WithRowRangesOnly); every method gives the rows.
func TestFailedRuns(t *testing.T) {
	errA := errors.New("a")
	errB := errors.New("b")
	b := &batchSend{w: &Wrapper{cfg: &Config{}}, total: 1_000_000}
	b.failRows(0, []int{5}, errB, RowUnknown)
	b.failFrom(10, errA)
	b.ok = appendRange(b.ok, 0, 5)
	b.ok = appendRange(b.ok, 6, 10)
	res := b.result()
	if res.FailedRows != nil || len(res.failedRuns) != 2 {
		t.Fatalf("FailedRows %d rows, runs %v: want nil and 2 runs", len(res.FailedRows), res.failedRuns)
	}
	if res.FailedCount != 999_991 || res.NotWrittenCount != 999_990 || res.UnknownCount != 1 || res.SuccessfulCount != 9 {
		t.Errorf("counts failed/not written/unknown/ok = %d/%d/%d/%d", res.FailedCount, res.NotWrittenCount, res.UnknownCount, res.SuccessfulCount)
	}
	if got := res.UnknownRowIndices(); !reflect.DeepEqual(got, []int{5}) {
		t.Errorf("UnknownRowIndices = %v", got)
	}
	if got := res.FailedRowIndices(); len(got) != 999_991 || got[0] != 5 || got[1] != 10 {
		t.Errorf("FailedRowIndices: %d rows starting %v", len(got), got[:2])
	}
	gs := res.FailedGroups()
	if len(gs) != 2 || !reflect.DeepEqual(gs[0].Ranges, [][2]int{{5, 6}}) || !reflect.DeepEqual(gs[1].Ranges, [][2]int{{10, 1_000_000}}) {
		t.Errorf("FailedGroups = %+v", gs)
	}
	if st := res.ErrorStatistics(); st.ByKind[KindOf(errA)] != 999_991 {
		t.Errorf("ByKind = %v", st.ByKind)
	}
	listed := mergeResults([]*TransmissionResult{res, res}, false, true)
	if len(listed.FailedRows) != 2*999_991 || listed.FailedRows[1].Index != 10 || listed.FailedRows[999_991].Index != 1_000_005 {
		t.Errorf("merged and listed: %d failed rows", len(listed.FailedRows))
	}
	runs := mergeResults([]*TransmissionResult{res, res}, false, false)
	if runs.FailedRows != nil || len(runs.failedRuns) != 4 || runs.FailedCount != 2*999_991 {
		t.Errorf("merged as runs: FailedRows %d, runs %v, count %d", len(runs.FailedRows), runs.failedRuns, runs.FailedCount)
	}
	if !reflect.DeepEqual(runs.SuccessfulRanges, [][2]int{{0, 5}, {6, 10}, {1_000_000, 1_000_005}, {1_000_006, 1_000_010}}) {
		t.Errorf("merged SuccessfulRanges = %v", runs.SuccessfulRanges)
	}
	whole := &batchSend{w: &Wrapper{cfg: &Config{}}, total: 1_000_000}
	whole.failFrom(0, errA)
	if r := whole.result(); !r.FailedAsWhole() || r.Err != errA || len(r.failedRuns) != 1 {
		t.Errorf("whole failure: FailedAsWhole %v, Err %v, runs %v", r.FailedAsWhole(), r.Err, r.failedRuns)
	}
}

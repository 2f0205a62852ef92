package core

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMergeResultsGroupsAndOffsets(t *testing.T) {
	errA := &ConversionError{Row: 1, Reason: "bad a"}
	errB := &ConversionError{Row: 0, Reason: "bad b"}
	errC := &ConversionError{Row: -1, Column: "c", Reason: "bad c"} // names no row
	whole := fmt.Errorf("wrapped: %w", &ConnectionError{})
	whole2 := fmt.Errorf("wrapped: %w", &ConnectionError{}) // same kind and message, another value
	for _, tc := range []struct {
		name    string
		in      []*TransmissionResult
		want    [][][2]int
		whole   bool
		success bool
	}{
		{"success", []*TransmissionResult{{Success: true, TotalRows: 3, SuccessfulCount: 3, SuccessfulRows: []int{0, 1, 2}}}, nil, false, true},
		{
			"row errors across parts",
			[]*TransmissionResult{
				{TotalRows: 3, SuccessfulCount: 2, FailedCount: 1, Err: errA, FailedRows: []FailedRow{{Index: 1, Err: errA}}, SuccessfulRows: []int{0, 2}},
				{TotalRows: 2, SuccessfulCount: 1, FailedCount: 1, Err: errB, FailedRows: []FailedRow{{Index: 0, Err: errB}}, SuccessfulRows: []int{1}},
			},
			[][][2]int{{{1, 2}}, {{3, 4}}}, false, false,
		},
		{
			"same error in two parts is one group",
			[]*TransmissionResult{
				{TotalRows: 2, SuccessfulCount: 1, FailedCount: 1, Err: errC, FailedRows: []FailedRow{{Index: 1, Err: errC}}, SuccessfulRows: []int{0}},
				{TotalRows: 2, SuccessfulCount: 1, FailedCount: 1, Err: errC, FailedRows: []FailedRow{{Index: 0, Err: errC}}, SuccessfulRows: []int{1}},
			},
			[][][2]int{{{1, 3}}}, false, false,
		},
		{
			"whole batch",
			[]*TransmissionResult{{TotalRows: 3, FailedCount: 3, Err: whole, FailedRows: []FailedRow{{Index: 0, Err: whole}, {Index: 1, Err: whole}, {Index: 2, Err: whole}}}},
			[][][2]int{{{0, 3}}}, true, false,
		},
		{
			"whole in every part",
			[]*TransmissionResult{
				{TotalRows: 1, FailedCount: 1, Err: whole, FailedRows: []FailedRow{{Index: 0, Err: whole}}},
				{TotalRows: 2, FailedCount: 2, Err: whole2, FailedRows: []FailedRow{{Index: 0, Err: whole2}, {Index: 1, Err: whole2}}},
			},
			[][][2]int{{{0, 3}}}, true, false,
		},
		{
			"a one-row batch's row error is row-level",
			[]*TransmissionResult{{TotalRows: 1, FailedCount: 1, Err: errB, FailedRows: []FailedRow{{Index: 0, Err: errB}}}},
			[][][2]int{{{0, 1}}}, false, false,
		},
		{
			"a one-row part's row error after a whole failure",
			[]*TransmissionResult{
				{TotalRows: 1, FailedCount: 1, Err: whole, FailedRows: []FailedRow{{Index: 0, Err: whole}}},
				{TotalRows: 1, FailedCount: 1, Err: errB, FailedRows: []FailedRow{{Index: 0, Err: errB}}},
			},
			[][][2]int{{{0, 1}}, {{1, 2}}}, false, false,
		},
		{
			"whole failure after a success is partial",
			[]*TransmissionResult{
				{Success: true, TotalRows: 1, SuccessfulCount: 1, SuccessfulRows: []int{0}},
				{TotalRows: 1, FailedCount: 1, Err: whole, FailedRows: []FailedRow{{Index: 0, Err: whole}}},
			},
			[][][2]int{{{1, 2}}}, false, false,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mergeResults(tc.in, false, true)
			var ranges [][][2]int
			for _, g := range got.FailedGroups() {
				ranges = append(ranges, g.Ranges)
			}
			if diff := cmp.Diff(tc.want, ranges); diff != "" {
				t.Errorf("ranges (-want +got):\n%s", diff)
			}
			if got.FailedAsWhole() != tc.whole || got.Success != tc.success {
				t.Errorf("whole, success = %v, %v; want %v, %v", got.FailedAsWhole(), got.Success, tc.whole, tc.success)
			}
			if got.TotalRows != got.SuccessfulCount+got.FailedCount || len(got.SuccessfulRows) != got.SuccessfulCount || len(got.FailedRows) != got.FailedCount {
				t.Errorf("row accounting broken: %+v", got)
			}
			if !tc.success && got.Err == nil {
				t.Error("failed result without Err")
			}
			if tc.whole && got.Err != tc.in[0].Err {
				t.Errorf("Err = %v, want the first part's error itself", got.Err)
			}
			if !tc.whole && !tc.success && !errors.Is(got.Err, got.FailedRows[0].Err) {
				t.Errorf("Err = %v does not wrap the first failed row's error", got.Err)
			}
		})
	}
}

// A part's row errors name the row within the part; merged, they name the
// row of the whole input, as FailedRow.Index does, and in the result's Err.
// Rows that shared an error value in a part still share one; the parts'
// errors are left as they were.
func TestMergeMovesRowErrorsWithTheirRows(t *testing.T) {
	row := &ConversionError{Row: 1, Column: "name", Reason: "null"}
	span := &ConversionError{Row: 0, Reason: "too large"} // rows 0-1 of its part
	batch := &ConversionError{Row: -1, Reason: "schema"}
	parts := []*TransmissionResult{
		{Success: true, TotalRows: 10, SuccessfulCount: 10},
		{TotalRows: 3, SuccessfulCount: 2, FailedCount: 1, Err: row, FailedRows: []FailedRow{{Index: 1, Err: row}}},
		{TotalRows: 4, SuccessfulCount: 1, FailedCount: 3, Err: span,
			FailedRows: []FailedRow{{Index: 0, Err: span}, {Index: 1, Err: span}, {Index: 3, Err: batch}}},
	}
	for _, lists := range []bool{true, false} {
		got := mergeResults(parts, false, lists)
		var rows []int
		var errs []error
		for _, g := range got.FailedGroups() {
			for _, r := range g.Ranges {
				for i := r[0]; i < r[1]; i++ {
					rows, errs = append(rows, i), append(errs, g.Err)
				}
			}
		}
		if diff := cmp.Diff([]int{11, 13, 14, 16}, rows); diff != "" {
			t.Fatalf("failed rows (-want +got):\n%s", diff)
		}
		wantRow := []int{11, 13, 13, -1}
		for i, e := range errs {
			ce, ok := e.(*ConversionError)
			if !ok || ce.Row != wantRow[i] {
				t.Errorf("row %d: error %v, want a ConversionError at row %d", rows[i], e, wantRow[i])
			}
		}
		if errs[1] != errs[2] || errs[3] != batch {
			t.Errorf("errors %v: rows 13-14 should share one, row 16 keep the part's", errs)
		}
		if want := "zerobus: 4 of 17 rows failed; first, row 11: conversion failed at row 11, column \"name\": null"; got.Err.Error() != want {
			t.Errorf("Err = %q, want %q", got.Err, want)
		}
	}
	if row.Row != 1 || span.Row != 0 {
		t.Errorf("the parts' errors changed: rows %d, %d", row.Row, span.Row)
	}
}

// TestMergeSumsEveryCount guards merging against new count fields: every
// exported int field named *Count (and TotalRows) is summed, and failed
// rows keep every field but Index.
func TestMergeSumsEveryCount(t *testing.T) {
	a, b := &TransmissionResult{}, &TransmissionResult{}
	v := reflect.ValueOf(a).Elem()
	var counts []string
	for i := 0; i < v.NumField(); i++ {
		f := v.Type().Field(i)
		if f.Type.Kind() == reflect.Int && (strings.HasSuffix(f.Name, "Count") || f.Name == "TotalRows") {
			v.Field(i).SetInt(int64(i + 1))
			reflect.ValueOf(b).Elem().Field(i).SetInt(100)
			counts = append(counts, f.Name)
		}
	}
	if len(counts) < 3 {
		t.Fatalf("found count fields %v", counts)
	}
	got := reflect.ValueOf(mergeResults([]*TransmissionResult{a, b}, false, true)).Elem()
	for i := 0; i < got.NumField(); i++ {
		name := got.Type().Field(i).Name
		for _, c := range counts {
			if c == name && got.Field(i).Int() != int64(i+1)+100 {
				t.Errorf("%s = %d, want the sum %d", name, got.Field(i).Int(), i+101)
			}
		}
	}
	failed := FailedRow{Index: 1, Err: errors.New("x")}
	parts := []*TransmissionResult{
		{TotalRows: 4, SuccessfulCount: 4},
		{TotalRows: 2, FailedCount: 1, SuccessfulCount: 1, FailedRows: []FailedRow{failed}, Err: failed.Err},
	}
	m := mergeResults(parts, false, true)
	want := failed
	want.Index = 5
	if !reflect.DeepEqual(m.FailedRows, []FailedRow{want}) {
		t.Errorf("failed rows = %+v, want %+v (copied whole, Index offset)", m.FailedRows, want)
	}
}

// TestMergeResultsKeepsRowStates: merged results keep each failed row's state
// and counts, and FailedGroups splits one error's rows by state, so a row
// that is not written is never reported in a group of unknown ones.
func TestMergeResultsKeepsRowStates(t *testing.T) {
	lost := &ConnectionError{}
	part := func() *TransmissionResult {
		return &TransmissionResult{TotalRows: 4, FailedCount: 4, NotWrittenCount: 2, UnknownCount: 2, Err: lost,
			FailedRows: []FailedRow{{Index: 0, Err: lost, State: RowUnknown}, {Index: 1, Err: lost, State: RowUnknown},
				{Index: 2, Err: lost, State: RowNotWritten}, {Index: 3, Err: lost, State: RowNotWritten}}}
	}
	got := mergeResults([]*TransmissionResult{part(), part()}, false, true)
	if got.NotWrittenCount != 4 || got.UnknownCount != 4 || got.FailedCount != 8 || got.TotalRows != 8 {
		t.Fatalf("counts: not written %d, unknown %d, failed %d, total %d", got.NotWrittenCount, got.UnknownCount, got.FailedCount, got.TotalRows)
	}
	var states []string
	var ranges [][][2]int
	for _, g := range got.FailedGroups() {
		states = append(states, g.State.String())
		ranges = append(ranges, g.Ranges)
	}
	if diff := cmp.Diff([]string{"unknown", "not_written"}, states); diff != "" {
		t.Errorf("group states (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][][2]int{{{0, 2}, {4, 6}}, {{2, 4}, {6, 8}}}, ranges); diff != "" {
		t.Errorf("group ranges (-want +got):\n%s", diff)
	}
	if !got.FailedAsWhole() {
		t.Error("one error on every row in two states is still a whole-batch failure")
	}
}

func TestMergeRebuildsDroppedSuccessfulRows(t *testing.T) {
	errA := errors.New("a")
	parts := []*TransmissionResult{
		{TotalRows: 3, SuccessfulCount: 3},
		{TotalRows: 5, SuccessfulCount: 3, FailedCount: 2, Err: errA, FailedRows: []FailedRow{{Index: 0, Err: errA}, {Index: 3, Err: errA}}},
		{TotalRows: 2, SuccessfulCount: 2, SuccessfulRows: []int{0, 1}},
	}
	got := mergeResults(parts, false, true)
	if want := []int{0, 1, 2, 4, 5, 7, 8, 9}; !reflect.DeepEqual(got.SuccessfulRows, want) {
		t.Errorf("SuccessfulRows = %v, want %v", got.SuccessfulRows, want)
	}
	one := mergeResults(parts[1:2], false, true)
	if want := []int{1, 2, 4}; !reflect.DeepEqual(one.SuccessfulRows, want) {
		t.Errorf("one part: SuccessfulRows = %v, want %v", one.SuccessfulRows, want)
	}
}

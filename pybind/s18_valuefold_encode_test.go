package pybind

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// s18: conversion errors that differ in the row and the row's own value
// (an INT overflow per row) are encoded as one group: row_message is the
// message's parts around the row and the value, row_values one value per
// row, and every row's message rebuilt from them is the row's own.
func TestS18EncodeResultFoldsValueErrors(t *testing.T) {
	const n = 10_000
	errOf := func(i int) *core.ConversionError {
		return &core.ConversionError{Row: i, Column: "n", Reason: fmt.Sprintf("int64 value %d is over the INT maximum 2147483647; fix it", int64(1)<<31+int64(i)*int64(i))}
	}
	var rows []core.FailedRow
	for i := 0; i < n; i += 2 {
		rows = append(rows, core.FailedRow{Index: i, Err: errOf(i), State: core.RowNotWritten})
	}
	in := &core.TransmissionResult{TotalRows: n, FailedCount: len(rows), SuccessfulCount: n - len(rows), Err: rows[0].Err, FailedRows: rows}
	b := encodeResult(in)
	var got result
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Failed) != 1 {
		t.Fatalf("%d groups, want 1", len(got.Failed))
	}
	g := got.Failed[0]
	if len(g.RowMessage) != 3 || len(g.RowValues) != n/2 || g.Message != rows[0].Err.Error() || g.Details.Row != 0 {
		t.Fatalf("group: row_message %q, %d values, message %q", g.RowMessage, len(g.RowValues), g.Message)
	}
	j := 0
	for _, r := range g.Ranges {
		for i := r[0]; i < r[1]; i++ {
			msg := g.RowMessage[0] + strconv.Itoa(i) + g.RowMessage[1] + g.RowValues[j] + g.RowMessage[2]
			if want := errOf(i).Error(); msg != want {
				t.Fatalf("row %d: rebuilt %q, want %q", i, msg, want)
			}
			j++
		}
	}
	if j != n/2 {
		t.Fatalf("%d rows rebuilt, want %d", j, n/2)
	}
	// the reason's text: the result's error (message and details), the
	// group's message and its template, not once per row
	if per := len(b) / (n / 2); per > 40 || strings.Count(string(b), "is over the INT maximum") != 4 {
		t.Errorf("%d bytes of JSON per failed row (the reason's text %d times), want 4 texts", per, strings.Count(string(b), "is over"))
	}
}

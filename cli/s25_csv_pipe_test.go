package cli

import (
	"fmt"
	"strings"
	"testing"
)

// TestSendCSVPipeBadCellNamed: a cell read from standard input that does
// not read as its table column's type is named by row, line, column and
// value, as a file's is, when it is in the text read for the types (the
// sample, kept): here row 2, on line 5 as the row before spans two lines.
// Nothing is sent. A bad cell past that text is still named by the rows
// being read (the input is read once).
func TestSendCSVPipeBadCellNamed(t *testing.T) {
	s := startServer(t)
	const table = "main.csv.pipe_bad_cell"
	csvTable(t, s, table, csvTableDDL)
	p := newStepPipe(t)
	go func() { p.write("zip,qty,code\n1,5,a\n2,6,\"two\nlines\"\n3,9x,c\n"); p.close() }()
	code, stdout, stderr := sendPipe(t, s, table, p, nil)
	want := `reading CSV row 2 (line 5), column "qty" (table main.csv.pipe_bad_cell's BIGINT column): cannot read "9x" as BIGINT; ` +
		`correct the value (an empty cell is a null), or send with -csv-types infer`
	if code != ExitFailed || !strings.Contains(stdout+stderr, want) {
		t.Errorf("exit %d, want %d and %q:\n%s\n%s", code, ExitFailed, want, stdout, stderr)
	}
	if n := s.RecordCount(table); n != 0 {
		t.Errorf("%d rows stored, want 0", n)
	}

	// Past the sample (-csv-infer-rows 1, and more than the 64 KiB read
	// ahead of it), the row is not known.
	var rows strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&rows, "%d,%d,x\n", i, i)
	}
	p2 := newStepPipe(t)
	go func() { p2.write("zip,qty,code\n", rows.String(), "z,9x,c\n"); p2.close() }()
	code, stdout, stderr = sendPipe(t, s, table, p2, nil, "-csv-infer-rows", "1", "-batch-rows", "100000")
	want = "the input is read once, so the row and line of the cell are not known"
	if code != ExitFailed || !strings.Contains(stdout+stderr, want) || strings.Contains(stdout+stderr, `cannot read "9x"`) {
		t.Errorf("past the sample: exit %d, want %d and %q:\n%.2000s\n%s", code, ExitFailed, want, stdout, stderr)
	}
	if n := s.RecordCount(table); n != 0 {
		t.Errorf("%d rows stored, want 0", n)
	}
}

// completeRecords keeps a pipe's sample to its last full line, without a
// copy, and counts its data rows (a quoted cell spanning lines is one row;
// the record cut where inference stopped is left out), the rows after which
// csvBatches lets the sample go.
func TestCompleteRecordsCountsRows(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		rows     int64
	}{
		{"a,b\n1,2\n3,\"x\ny\"\n4,5", "a,b\n1,2\n3,\"x\ny\"\n", 2},
		{"a,b\n", "a,b\n", 0},
		{"a,b", "", 0},
		{"a\n1\n2\n3\n", "a\n1\n2\n3\n", 3},
	} {
		in := []byte(tc.in)
		got, rows := completeRecords(in)
		if string(got) != tc.want || rows != tc.rows {
			t.Errorf("completeRecords(%q) = %q, %d; want %q, %d", tc.in, got, rows, tc.want, tc.rows)
		}
		if len(got) > 0 && &got[0] != &in[0] {
			t.Errorf("completeRecords(%q) copied the sample", tc.in)
		}
	}
}

package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// csvTable creates table on s with the columns ddl.
func csvTable(t *testing.T, s *zerobuslocal.Server, table, ddl string) {
	t.Helper()
	cols, err := zerobuslocal.ParseColumns(ddl)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
}

// writeCSV writes text to a new .csv file and returns its path.
func writeCSV(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.csv")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// storedRows is every row table holds on s, each "col=value ..." in the
// table's column order (ValueStr, "(null)" for a null), sorted.
func storedRows(t *testing.T, s *zerobuslocal.Server, table string) []string {
	t.Helper()
	rec, err := s.ArrowBatch(table, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	var rows []string
	for i := range int(rec.NumRows()) {
		var cells []string
		for j, col := range rec.Columns() {
			v := col.ValueStr(i)
			if d, ok := col.(*array.Decimal128); ok && d.IsValid(i) { // with its scale's digits: 12.30
				v = d.Value(i).ToString(d.DataType().(*arrow.Decimal128Type).Scale)
			}
			cells = append(cells, rec.Schema().Field(j).Name+"="+v)
		}
		rows = append(rows, strings.Join(cells, " "))
	}
	slices.Sort(rows)
	return rows
}

const csvTableDDL = "zip STRING, qty BIGINT, price DECIMAL(10,2), day DATE, at TIMESTAMP, code STRING"

// TestSendCSVTableTypes: a CSV sent to a table whose columns Unity Catalog
// gives is read as the table's column types, on both transports, with the
// header matched case-insensitively: a zero-padded zip and a code made of
// digits stay text in their STRING columns, qty (empty in the one row the
// types would be inferred from) is a BIGINT, price a DECIMAL(10,2), day a
// DATE, at a TIMESTAMP, and empty cells are nulls. The stored values are
// compared exactly. Inferred from the first row (-csv-types infer) the
// same file fails: qty is text there, which the BIGINT column refuses.
func TestSendCSVTableTypes(t *testing.T) {
	const csv = "ZIP,qty,Price,day,at,code\n" +
		"01234,,,,,12345\n" +
		"00501,42,12.30,2024-02-29,2024-03-01T12:34:56Z,007\n" +
		"99999,-7,-0.05,1970-01-01,1970-01-01T00:00:00.000001Z,\n"
	want := []string{
		`zip=00501 qty=42 price=12.30 day=2024-02-29 at=2024-03-01T12:34:56Z code=007`,
		`zip=01234 qty=(null) price=(null) day=(null) at=(null) code=12345`,
		`zip=99999 qty=-7 price=-0.05 day=1970-01-01 at=1970-01-01T00:00:00.000001Z code=`,
	}
	for _, transport := range []string{"protobuf", "arrow_flight"} {
		t.Run(transport, func(t *testing.T) {
			s := startServer(t)
			const table = "main.csv.table_types"
			csvTable(t, s, table, csvTableDDL)
			path := writeCSV(t, csv)
			args := append([]string{"send", "-progress", "never", "-transport", transport, "-csv-infer-rows", "1"}, connFlags(s, table)...)
			code, stdout, stderr := runCLI(t, append(args, path)...)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			if !strings.Contains(stderr, "CSV columns are read as the column types of table "+table+" (from Unity Catalog)") {
				t.Errorf("stderr does not say the table's types were used:\n%s", stderr)
			}
			if got := storedRows(t, s, table); !slices.Equal(got, want) {
				t.Errorf("stored\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			// The same file with the types inferred from its first row.
			s2 := startServer(t)
			csvTable(t, s2, table, csvTableDDL)
			args = append([]string{"send", "-progress", "never", "-transport", transport, "-csv-infer-rows", "1", "-csv-types", "infer"}, connFlags(s2, table)...)
			code, stdout, stderr = runCLI(t, append(args, path)...)
			if code == ExitOK || s2.RecordCount(table) != 0 {
				t.Errorf("-csv-types infer: exit %d, %d rows stored; want a failure, none stored\n%s\n%s", code, s2.RecordCount(table), stdout, stderr)
			}
			if strings.Contains(stderr, "column types of table") {
				t.Errorf("-csv-types infer: stderr says the table's types were used:\n%s", stderr)
			}
		})
	}
}

// TestSendCSVTableHeaderMismatch: a CSV column the table lacks, and a NOT
// NULL table column the CSV lacks, are named before anything is sent; a
// nullable table column the CSV lacks is named on stderr and stored as null.
func TestSendCSVTableHeaderMismatch(t *testing.T) {
	s := startServer(t)
	const table = "main.csv.header"
	csvTable(t, s, table, "id BIGINT NOT NULL, name STRING NOT NULL, note STRING")
	send := func(csv string) (int, string, string) {
		return runCLI(t, append(append([]string{"send", "-progress", "never"}, connFlags(s, table)...), writeCSV(t, csv))...)
	}

	code, stdout, stderr := send("id,name,colour\n1,a,red\n")
	for _, want := range []string{`in.csv: CSV column "colour" is not in table main.csv.header (its columns: "id", "name", "note")`, "rename it"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("extra column: stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != ExitFailed || s.RecordCount(table) != 0 {
		t.Errorf("extra column: exit %d, %d rows stored; want %d, none\n%s", code, s.RecordCount(table), ExitFailed, stdout)
	}

	code, _, stderr = send("ID,note\n1,x\n")
	if want := `table main.csv.header's NOT NULL column "name" is missing from the CSV header: add it`; !strings.Contains(stderr, want) ||
		code != ExitFailed || s.RecordCount(table) != 0 {
		t.Errorf("missing NOT NULL column: exit %d, %d stored, stderr lacks %q:\n%s", code, s.RecordCount(table), want, stderr)
	}

	code, stdout, stderr = send("Name,id\nada,1\n")
	if code != ExitOK {
		t.Fatalf("missing nullable column: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if want := `table main.csv.header's column "note" is not in the CSV header: stored as null`; !strings.Contains(stderr, want) ||
		strings.Count(stderr, want) != 1 {
		t.Errorf("stderr should say once %q:\n%s", want, stderr)
	}
	if got, want := storedRows(t, s, table), []string{"id=1 name=ada note=(null)"}; !slices.Equal(got, want) {
		t.Errorf("stored %q, want %q", got, want)
	}
}

// TestSendCSVTableBadValue: a value that does not parse as its table
// column's type is an error naming the file, row, line, column and value,
// and the batch holding it is not sent.
func TestSendCSVTableBadValue(t *testing.T) {
	s := startServer(t)
	const table = "main.csv.bad_value"
	csvTable(t, s, table, csvTableDDL)
	for _, tc := range []struct{ csv, want string }{
		{"zip,price\n1,1.5\n2,12.x\n", `reading CSV row 1 (line 3), column "price" (table main.csv.bad_value's DECIMAL(10,2) column): cannot read "12.x" as DECIMAL(10,2)`},
		{"zip,price\n1,123456789.5\n", `reading CSV row 0 (line 2), column "price" (table main.csv.bad_value's DECIMAL(10,2) column): cannot read "123456789.5" as DECIMAL(10,2)`},
		{"zip,qty\n1,5\n\"2\",\"9x\"\n", `reading CSV row 1 (line 3), column "qty" (table main.csv.bad_value's BIGINT column): cannot read "9x" as BIGINT`},
		{"zip,day\n1,2024-13-01\n", `column "day" (table main.csv.bad_value's DATE column): cannot read "2024-13-01" as DATE`},
	} {
		path := writeCSV(t, tc.csv)
		code, stdout, stderr := runCLI(t, append(append([]string{"send", "-progress", "never"}, connFlags(s, table)...), path)...)
		if code != ExitFailed || !strings.Contains(stderr, path) || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr lacks the file %s or %q:\n%s\n%s", tc.csv, code, path, tc.want, stderr, stdout)
		}
		if n := s.RecordCount(table); n != 0 {
			t.Errorf("%q: %d rows stored, want 0", tc.csv, n)
		}
	}
}

// TestSendCSVTypesChoice: -csv-types table refuses a table Unity Catalog
// does not know (auto infers, saying so); -csv-strings is -csv-types
// strings, and contradicting it is a usage error; a bad value is one too.
func TestSendCSVTypesChoice(t *testing.T) {
	s := startServer(t)
	const table = "main.csv.not_yet"
	path := writeCSV(t, "id,v\n1,x\n")
	base := append([]string{"send", "-progress", "never"}, connFlags(s, table)...)

	code, _, stderr := runCLI(t, append(base, "-csv-types", "table", path)...)
	if code != ExitFailed || !strings.Contains(stderr, "-csv-types table: the columns of table main.csv.not_yet cannot be read from Unity Catalog: no such table (HTTP 404): check table_name, or create the table; send with -csv-types infer") ||
		s.RecordCount(table) != 0 {
		t.Errorf("-csv-types table, no table: exit %d, %d stored:\n%s", code, s.RecordCount(table), stderr)
	}

	code, _, stderr = runCLI(t, append(base, path)...)
	if code != ExitOK || !strings.Contains(stderr, "CSV column types are inferred from the first 1000 rows: the columns of table main.csv.not_yet cannot be read from Unity Catalog: no such table (HTTP 404)") {
		t.Errorf("auto, no table: exit %d:\n%s", code, stderr)
	}
	if got, want := storedRows(t, s, table), []string{"id=1 v=x"}; !slices.Equal(got, want) {
		t.Errorf("stored %q, want %q", got, want)
	}

	for _, args := range [][]string{{"-csv-strings", "-csv-types", "infer"}, {"-csv-types", "guess"}} {
		code, _, stderr = runCLI(t, append(append(base, args...), path)...)
		if code != ExitUsage || !strings.Contains(stderr, "-csv-") {
			t.Errorf("%v: exit %d, want %d:\n%s", args, code, ExitUsage, stderr)
		}
	}
	base = append([]string{"send", "-progress", "never"}, connFlags(s, "main.csv.strings")...)
	code, _, stderr = runCLI(t, append(base, "-csv-strings", "-csv-types", "strings", "-quiet", path)...)
	if code != ExitOK || stderr != "" {
		t.Errorf("-csv-strings -csv-types strings -quiet: exit %d, stderr %q", code, stderr)
	}
}

// TestSendCSVTablePipe: a CSV read from standard input gets the table's
// column types too (qty, empty in the first row, is a BIGINT; zip keeps
// its zeros), and a header naming a column the table lacks fails before
// any row is sent.
func TestSendCSVTablePipe(t *testing.T) {
	s := startServer(t)
	const table = "main.csv.pipe"
	csvTable(t, s, table, csvTableDDL)
	p := newStepPipe(t)
	go func() { p.write("zip,qty,price\n01234,,1\n00501,42,0.5\n"); p.close() }()
	code, stdout, stderr := sendPipe(t, s, table, p, nil, "-csv-infer-rows", "1")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := []string{
		"zip=00501 qty=42 price=0.50 day=(null) at=(null) code=(null)",
		"zip=01234 qty=(null) price=1.00 day=(null) at=(null) code=(null)",
	}
	if got := storedRows(t, s, table); !slices.Equal(got, want) {
		t.Errorf("stored\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	p2 := newStepPipe(t) // a variable of its own: the first writer goroutine reads p
	go func() { p2.write("zip,colour\n1,red\n"); p2.close() }()
	code, stdout, stderr = sendPipe(t, s, table, p2, nil)
	if want := `CSV column "colour" is not in table main.csv.pipe`; code != ExitFailed || !strings.Contains(stdout+stderr, want) {
		t.Errorf("extra column from a pipe: exit %d, want %d and %q:\n%s\n%s", code, ExitFailed, want, stdout, stderr)
	}
	if n := s.RecordCount(table); n != 2 {
		t.Errorf("%d rows stored, want the 2 of the first send", n)
	}
}

// TestSendCSVTablePauseNoInference: the pipe of
// TestSendCSVPipePauseCutAdvice (a pause after its first row "1,2", then
// "2,2.5") into a table with price DOUBLE: the table's types need no
// sample, so price is a DOUBLE from the start and every row is stored.
func TestSendCSVTablePauseNoInference(t *testing.T) {
	s := startServer(t)
	const table = "main.pipes.pause_table_types"
	doubleTable(t, s, table)
	p := newStepPipe(t)
	go func() { p.write("id,price\n1,2\n", "PAUSE", "2,2.5\n3,3\n"); p.close() }()
	code, stdout, stderr := sendPipe(t, s, table, p, nil)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got, want := storedPairs(t, s, table, "price"), "1=2 2=2.5 3=3"; got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
}

// TestSendCSVTableNestedColumns: a VARIANT column takes the cell's JSON
// text; a CSV column going into an ARRAY column is refused before anything
// is sent, naming it and what to send instead.
func TestSendCSVTableNestedColumns(t *testing.T) {
	s := startServer(t)
	const table = "main.csv.nested"
	csvTable(t, s, table, "id BIGINT, v VARIANT, tags ARRAY<STRING>")
	base := append([]string{"send", "-progress", "never"}, connFlags(s, table)...)
	code, stdout, stderr := runCLI(t, append(base, writeCSV(t, "id,v\n1,\"{\"\"a\"\":[1,2]}\"\n"))...)
	if code != ExitOK {
		t.Fatalf("VARIANT: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got, want := storedRows(t, s, table), []string{`id=1 v={"a":[1,2]} tags=[]`}; !slices.Equal(got, want) {
		t.Errorf("stored %q, want %q", got, want)
	}
	code, _, stderr = runCLI(t, append(base, writeCSV(t, "id,Tags\n2,x\n"))...)
	if want := `CSV column "Tags" goes into table column "tags" of type list<`; code != ExitFailed || !strings.Contains(stderr, want) ||
		!strings.Contains(stderr, "send those rows as Arrow IPC or Parquet") {
		t.Errorf("ARRAY: exit %d, stderr lacks %q:\n%s", code, want, stderr)
	}
	if n := s.RecordCount(table); n != 1 {
		t.Errorf("%d rows stored, want 1", n)
	}
}

// TestSendCSVTableTimestampsIntoBigint: a BIGINT column whose first rows
// are timestamps (and an INT column of dates) is read as timestamps
// (dates), which the engine stores as microseconds (days) since the epoch,
// as with inferred types: a table a protobuf stream created describes its
// TIMESTAMP and DATE columns so. A later cell that is not a timestamp is an
// error naming it.
func TestSendCSVTableTimestampsIntoBigint(t *testing.T) {
	s := startServer(t)
	const table = "main.csv.micros"
	csvTable(t, s, table, "id BIGINT, at BIGINT, d INT")
	base := append([]string{"send", "-progress", "never"}, connFlags(s, table)...)
	code, stdout, stderr := runCLI(t, append(base, writeCSV(t, "id,at,d\n1,1970-01-01T00:00:01Z,1970-01-03\n2,,\n"))...)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, _, stderr = runCLI(t, append(base, "-csv-infer-rows", "1", writeCSV(t, "id,at\n3,1970-01-01T00:00:02Z\n4,x\n"))...)
	if want := `column "at" (table main.csv.micros's BIGINT (read as timestamp[us, tz=UTC], as its first rows are) column): cannot read "x"`; code != ExitFailed || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr lacks %q:\n%s", code, want, stderr)
	}
	if got, want := storedRows(t, s, table), []string{"id=1 at=1000000 d=2", "id=2 at=(null) d=(null)"}; !slices.Equal(got, want) {
		t.Errorf("stored %q, want %q", got, want)
	}
}

// TestSendCSVAutoReadsMisfitSampleColumnsAsInferred: under -csv-types auto
// (the default), a column whose first rows do not all read as the table's
// type is read as infer reads it, and the engine casts it as it does then:
// epoch microseconds into a TIMESTAMP, "1.0" into a BIGINT. auto refused
// such a file that infer sends. -csv-types table still reads the table's
// types and names the cell, saying -csv-types infer reads it.
func TestSendCSVAutoReadsMisfitSampleColumnsAsInferred(t *testing.T) {
	const ddl = "id BIGINT, ts TIMESTAMP, amt BIGINT"
	const csv = "id,ts,amt\n1,1704096000000000,1.0\n2,1704096000000001,2\n"
	want := []string{
		`id=1 ts=2024-01-01T08:00:00Z amt=1`,
		`id=2 ts=2024-01-01T08:00:00.000001Z amt=2`,
	}
	path := writeCSV(t, csv)
	const table = "main.csv.auto_misfit"
	s := startServer(t)
	csvTable(t, s, table, ddl)
	code, stdout, stderr := runCLI(t, append(append([]string{"send", "-progress", "never"}, connFlags(s, table)...), path)...)
	if code != ExitOK {
		t.Fatalf("auto: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := storedRows(t, s, table); !slices.Equal(got, want) {
		t.Errorf("auto stored\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, col := range []string{`CSV column "ts" is read as int64`, `CSV column "amt" is read as float64`} {
		if !strings.Contains(stderr, col) {
			t.Errorf("auto: stderr does not say %s:\n%s", col, stderr)
		}
	}

	s2 := startServer(t)
	csvTable(t, s2, table, ddl)
	code, stdout, stderr = runCLI(t, append(append([]string{"send", "-progress", "never", "-csv-types", "table"}, connFlags(s2, table)...), path)...)
	if code == ExitOK || s2.RecordCount(table) != 0 {
		t.Fatalf("-csv-types table: exit %d, %d rows stored; want refused, none stored\n%s\n%s", code, s2.RecordCount(table), stdout, stderr)
	}
	if !strings.Contains(stderr, `column "ts"`) || !strings.Contains(stderr, `"1704096000000000"`) || !strings.Contains(stderr, "-csv-types infer") {
		t.Errorf("-csv-types table: the error does not name the cell and -csv-types infer:\n%s", stderr)
	}
}

package cli

import (
	"slices"
	"strings"
	"testing"
)

// TestSendCSVTableSpacedValues: the arrow CSV reader reads no value but
// text with spaces around it (" 42" is not a BIGINT, nor " 2024-01-02" a
// DATE, nor " 1.5" a DOUBLE), and a DECIMAL is read so too: under
// -csv-types auto and table a spaced cell of any of them is refused naming
// its row, line, column and value, saying to remove the spaces (not to
// send with -csv-types infer, under which the engine refuses the text of
// all but the DECIMAL), and nothing is sent. Without the spaces the same
// values are stored, compared exactly.
func TestSendCSVTableSpacedValues(t *testing.T) {
	const ddl = "id BIGINT, qty BIGINT, price DECIMAL(10,2), day DATE, f DOUBLE"
	for _, tc := range []struct{ csv, want, stored string }{
		{"id,price\n1,12.50\n2, 12.50\n", `reading CSV row 1 (line 3), column "price" (table main.csv.spaced's DECIMAL(10,2) column): cannot read " 12.50" as DECIMAL(10,2); ` +
			`the CSV reader reads no value but text with spaces around it: remove them`, "id=2 qty=(null) price=12.50 day=(null) f=(null)"},
		{"id,price\n1,\"-0.05 \"\n", `column "price" (table main.csv.spaced's DECIMAL(10,2) column): cannot read "-0.05 " as DECIMAL(10,2); ` +
			`the CSV reader reads no value but text with spaces around it: remove them`, "id=1 qty=(null) price=-0.05 day=(null) f=(null)"},
		{"id,qty\n1, 42\n", `column "qty" (table main.csv.spaced's BIGINT column): cannot read " 42" as BIGINT; ` +
			`the CSV reader reads no value but text with spaces around it: remove them`, "id=1 qty=42 price=(null) day=(null) f=(null)"},
		{"id,day\n1,2024-01-02 \n", `column "day" (table main.csv.spaced's DATE column): cannot read "2024-01-02 " as DATE; ` +
			`the CSV reader reads no value but text with spaces around it: remove them`, "id=1 qty=(null) price=(null) day=2024-01-02 f=(null)"},
		{"id,f\n1, 1.5\n", `column "f" (table main.csv.spaced's DOUBLE column): cannot read " 1.5" as DOUBLE; ` +
			`the CSV reader reads no value but text with spaces around it: remove them`, "id=1 qty=(null) price=(null) day=(null) f=1.5"},
	} {
		for _, mode := range []string{"auto", "table"} {
			s := startServer(t)
			const table = "main.csv.spaced"
			csvTable(t, s, table, ddl)
			path := writeCSV(t, tc.csv)
			base := append([]string{"send", "-progress", "never", "-csv-types", mode}, connFlags(s, table)...)
			code, stdout, stderr := runCLI(t, append(base, path)...)
			if code != ExitFailed || !strings.Contains(stderr, path+": reading CSV row ") || !strings.Contains(stderr, tc.want) || strings.Contains(stderr, "-csv-types infer to read") {
				t.Errorf("%s %q: exit %d, stderr lacks %q (or advises infer):\n%s\n%s", mode, tc.csv, code, tc.want, stderr, stdout)
			}
			if n := s.RecordCount(table); n != 0 {
				t.Errorf("%s %q: %d rows stored, want 0", mode, tc.csv, n)
			}

			// The spaces removed: the last row is stored as it reads.
			lines := strings.Split(strings.TrimSuffix(tc.csv, "\n"), "\n")
			fixed := lines[0] + "\n" + strings.ReplaceAll(strings.ReplaceAll(lines[len(lines)-1], " ", ""), `"`, "") + "\n"
			code, stdout, stderr = runCLI(t, append(base, writeCSV(t, fixed))...)
			if code != ExitOK {
				t.Fatalf("%s %q: exit %d\n%s\n%s", mode, fixed, code, stdout, stderr)
			}
			if got := storedRows(t, s, table); !slices.Equal(got, []string{tc.stored}) {
				t.Errorf("%s %q: stored %q, want %q", mode, fixed, got, tc.stored)
			}
		}
	}
}

// TestSendCSVInferredSpacedValue: a spaced cell in a column whose type was
// inferred from the first rows (" 2" after "1") is named as one too.
func TestSendCSVInferredSpacedValue(t *testing.T) {
	path := writeCSV(t, "id,qty\n1,1\n2, 2\n")
	code, stdout, stderr := runCLI(t, "send", "-progress", "never", "-dry-run", "-csv-infer-rows", "1", path)
	want := `reading CSV row 1 (line 3), column "qty" (int64, inferred from the first 1 rows): cannot read " 2" as int64; ` +
		`the CSV reader reads no value but text with spaces around it: remove them`
	if code != ExitFailed || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stderr lacks %q:\n%s\n%s", code, want, stderr, stdout)
	}
}

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A CSV file with a header and no data rows holds 0 rows: arrow-go's
// inferring reader panicked on it and send called the file corrupt.
func TestSendCSVHeaderOnly(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	for _, content := range []string{"a,b\n", "a,b", "\xEF\xBB\xBFa,b\r\n"} {
		path := filepath.Join(dir, "hdr.csv")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, mode := range [][]string{
			connFlags(s, "main.default.csv_header_only"),
			{"-dry-run"},
			{"-dry-run", "-csv-strings"},
			{"-local"},
		} {
			r := sendCLI(t, append(mode, path)...)
			if r.err != nil {
				t.Fatalf("%q %s: %v\n%s", content, mode[0], r.err, r.stderr)
			}
			if !strings.Contains(r.stdout, "0 of 0\n") || !strings.Contains(r.stdout, "rows failed:  0\n") {
				t.Errorf("%q %s: summary:\n%s", content, mode[0], r.stdout)
			}
		}
	}
	if n := s.RecordCount("main.default.csv_header_only"); n != 0 {
		t.Errorf("server holds %d rows, want 0", n)
	}
}

// A cell after the type sample that does not parse names its row, line,
// column and text: the error named only the chunk's rows and strconv's text.
func TestSendCSVBadCellNamed(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,score,name\n")
	for i := range 3000 {
		score := fmt.Sprint(i * 2)
		if i == 2000 {
			score = "oops"
		}
		fmt.Fprintf(&b, "%d,%s,n%d\n", i, score, i)
	}
	path := filepath.Join(t.TempDir(), "late.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	r := sendCLI(t, "-dry-run", path)
	want := path + `: reading CSV row 2000 (line 2002), column "score" (int64, inferred from the first 1000 rows): cannot read "oops" as int64; ` +
		"raise -csv-infer-rows or use -csv-strings (every column as text)"
	if r.err == nil || r.err.Error() != want {
		t.Fatalf("err = %v\nwant  %s", r.err, want)
	}
	// Timestamps and bools too, and long cells are cut.
	path2 := filepath.Join(t.TempDir(), "ts.csv")
	long := strings.Repeat("x", 60)
	if err := os.WriteFile(path2, []byte("at,ok\n2026-01-02T03:04:05Z,true\n2026-01-03T03:04:05Z,"+long+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = sendCLI(t, "-dry-run", "-csv-infer-rows", "1", path2)
	if want := `row 1 (line 3), column "ok" (bool, inferred from the first 1 rows): cannot read "` + long[:40] + `"... as bool`; r.err == nil || !strings.Contains(r.err.Error(), want) {
		t.Errorf("err = %v, want %q", r.err, want)
	}
}

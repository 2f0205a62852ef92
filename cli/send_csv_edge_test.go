package cli

import (
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

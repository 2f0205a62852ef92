package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestUnreadableInputTexts: a file that is not Arrow (or not Parquet) gave
// a chain of arrow-go package prefixes ("not a readable Arrow IPC stream or
// file: arrow/ipc: could not read message schema: arrow/ipc: could not read
// continuation indicator: ...: 1651663207 bytes of metadata, ...") (s18
// review errors M6). A file of another kind now says what it starts with
// and to give -format; a damaged file of the right kind gives the last
// cause, without the prefixes.
func TestUnreadableInputTexts(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := write("garbage.arrow", "garbage\n")
	csv := write("x.csv", "a,b\n1,2\n")
	damaged := write("damaged.arrow", "\xff\xff\xff\xff\x10\x00\x00\x00abc")
	pq := write("damaged.parquet", "PAR1xxxxxxxxxxxxxxxxxxxxxx")
	for _, tc := range []struct {
		path, format, want string
	}{
		{garbage, "auto", garbage + `: not an Arrow IPC file or stream (it starts with "garbag"); give -format if the extension is wrong`},
		{csv, "arrow", csv + `: not an Arrow IPC file or stream (it starts with "a,b\n1,"); give -format if the extension is wrong`},
		{csv, "parquet", csv + `: not a Parquet file (it starts with "a,b\n"); give -format if the extension is wrong`},
		{damaged, "auto", damaged + `: not a readable Arrow IPC stream or file: 16 bytes of metadata, but only 3 bytes of the stream are left`},
		{pq, "auto", pq + `: not a readable Parquet file: file is smaller than indicated metadata size`},
	} {
		in, err := openInput(context.Background(), tc.path, inputOptions{format: tc.format, batchRows: 10, csvInferRows: 10, mem: memory.NewGoAllocator()})
		if err == nil {
			in.Close()
			t.Errorf("%s: opened", tc.path)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("%s as %s:\n got %q\nwant %q", tc.path, tc.format, err, tc.want)
		}
		if strings.Contains(err.Error(), "arrow/ipc") || strings.Contains(err.Error(), ": parquet: ") {
			t.Errorf("package prefix in %q", err)
		}
	}
}

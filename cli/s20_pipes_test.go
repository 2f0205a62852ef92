package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// arrowBytes is an Arrow IPC stream (or file) of rows rows of mixedSchema
// in batches of per rows.
func arrowBytes(t *testing.T, file bool, rows, per int) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
	if file {
		fw, err := ipc.NewFileWriter(&buf, ipc.WithSchema(mixedSchema))
		if err != nil {
			t.Fatal(err)
		}
		w = fw
	} else {
		w = ipc.NewWriter(&buf, ipc.WithSchema(mixedSchema))
	}
	for first := 0; first < rows; first += per {
		rec := mixedBatch(memory.DefaultAllocator, first, min(per, rows-first))
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pipeStdin is a real pipe (os.Pipe) carrying data, closed by its writer
// at the end, for Env.Stdin.
func pipeStdin(t *testing.T, data []byte) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = w.Write(data)
		_ = w.Close()
	}()
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// runWithStdin runs the command line with stdin and an empty environment.
func runWithStdin(ctx context.Context, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	var out, errOut syncBuffer
	code = RunEnv(ctx, args, Env{Stdin: stdin, Stdout: &out, Stderr: &errOut,
		LookupEnv: func(string) (string, bool) { return "", false }})
	return code, out.String(), errOut.String()
}

// pipeJSON is what the pipe tests read of -json.
type pipeJSON struct {
	Success   bool   `json:"success"`
	RowsRead  int64  `json:"rows_read"`
	RowsTotal *int64 `json:"rows_total"`
	RowsSent  int64  `json:"rows_sent"`
	FilesDone int64  `json:"files_done"`
	Batches   int64  `json:"batches"`
	Error     string `json:"error"`
}

// TestSendFromStdin: `zerobus send -` reads an Arrow IPC stream, an Arrow
// IPC file (front to back) and CSV (examples/data/events.csv) from a pipe,
// the format told from the first bytes, and sends every row: the server
// stores as many as the summary and -json say (rows_total is the rows
// read). Before, "-" was refused with exit status 2.
func TestSendFromStdin(t *testing.T) {
	s := startServer(t)
	events, err := os.ReadFile(filepath.Join("..", "examples", "data", "events.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		rows int64
		args []string
	}{
		{"arrow-stream", arrowBytes(t, false, 1000, 70), 1000, nil},
		{"arrow-file", arrowBytes(t, true, 300, 64), 300, nil},
		{"csv", events, 24, nil},
		{"csv-format", events, 24, []string{"-format", "csv"}},
		{"arrow-format", arrowBytes(t, false, 50, 50), 50, []string{"-format", "arrow"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := "main.pipes.stdin_" + strings.ReplaceAll(tc.name, "-", "_")
			args := append(append([]string{"send", "-json", "-batch-rows", "128"}, connFlags(s, table)...), tc.args...)
			code, out, errOut := runWithStdin(context.Background(), pipeStdin(t, tc.data), append(args, "-")...)
			var sum pipeJSON
			if err := json.Unmarshal([]byte(out), &sum); err != nil {
				t.Fatalf("exit %d, -json %q: %v\nstderr:\n%s", code, out, err, errOut)
			}
			stored := int64(s.RecordCount(table))
			if code != ExitOK || !sum.Success || sum.RowsRead != tc.rows || sum.RowsSent != tc.rows || stored != tc.rows ||
				sum.RowsTotal == nil || *sum.RowsTotal != tc.rows || sum.FilesDone != 1 {
				t.Errorf("exit %d, server stored %d rows, -json %+v (rows_total %v), want %d\nstderr:\n%s", code, stored, sum, sum.RowsTotal, tc.rows, errOut)
			}
		})
	}

	// text: the summary counts the rows read
	const table = "main.pipes.stdin_text"
	code, out, errOut := runWithStdin(context.Background(), pipeStdin(t, events), append(append([]string{"send"}, connFlags(s, table)...), "-")...)
	if code != ExitOK || !strings.Contains(out, "sent standard input to "+table+"\n  rows sent:    24 of 24\n") || s.RecordCount(table) != 24 {
		t.Errorf("exit %d, stored %d, stdout:\n%s\nstderr:\n%s", code, s.RecordCount(table), out, errOut)
	}
}

// TestSendStdinRefusals: what cannot be read from a pipe is refused with
// exit status 2 and the command to use instead: Parquet (read from its
// footer, at the end), compressed data (decompress it on the way in), "-"
// twice; a CSV error names the line, and says the row is not known (a pipe
// is read once).
func TestSendStdinRefusals(t *testing.T) {
	pq := filepath.Join(t.TempDir(), "d.parquet")
	writeParquet(t, pq, mixedSchema, 10, func(yield func(arrow.RecordBatch) bool) {
		yield(mixedBatch(memory.DefaultAllocator, 0, 20))
	})
	pqData, err := os.ReadFile(pq)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("id\n1\n"))
	_ = zw.Close()
	for _, tc := range []struct {
		name string
		data []byte
		args []string
		code int
		want string
	}{
		{"parquet", pqData, []string{"-"}, ExitUsage, "zerobus send: standard input: Parquet cannot be read from a pipe (its footer, at the end, says where the rows are); " +
			"save it to a file and send that: ... > data.parquet && zerobus send [flags] data.parquet"},
		{"parquet-format", []byte("id\n1\n"), []string{"-format", "parquet", "-"}, ExitUsage, "standard input: Parquet cannot be read from a pipe"},
		{"gzip", gz.Bytes(), []string{"-"}, ExitUsage, "zerobus send: standard input is gzip-compressed: compressed input is not supported; " +
			"decompress it on the way in: ... | gzip -dc | zerobus send [flags] -"},
		{"twice", []byte("id\n1\n"), []string{"-", "-"}, ExitUsage, "zerobus send: standard input is given twice: it is read once"},
		{"not-arrow", []byte("id\n1\n"), []string{"-format", "arrow", "-"}, ExitFailed, `not an Arrow IPC stream (it starts with "id\n1\n")`},
		{"csv-cells", []byte("id,name\n1,a\n2,b,c\n3,d\n"), []string{"-"}, ExitFailed,
			"standard input: reading CSV row 1: record on line 3: wrong number of fields"},
		{"csv-cells-late", []byte("id,name\n1,a\n2,b\n3,d,e\n"), []string{"-csv-infer-rows", "1", "-"}, ExitFailed,
			"standard input: reading CSV from row 0 on: record on line 4: wrong number of fields (the input is read once, so the row is not known; the line is)"},
		{"csv-type", []byte("id\n1\n2\nx\n"), []string{"-csv-infer-rows", "2", "-"}, ExitFailed,
			`standard input: reading CSV row 2 (line 4), column "id" (int64, inferred from the first 2 rows): cannot read "x" as int64; ` +
				"raise -csv-infer-rows or use -csv-strings (every column as text)"},
		{"csv-type-late", append([]byte("id\n"+strings.Repeat("1234567\n", 60_000)), "x\n"...), []string{"-csv-infer-rows", "2", "-"}, ExitFailed,
			`strconv.ParseInt: parsing "x": invalid syntax (types are inferred from the first rows; ` +
				"raise -csv-infer-rows or use -csv-strings; the input is read once, so the row and line of the cell are not known)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runWithStdin(context.Background(), pipeStdin(t, tc.data), append([]string{"send", "-dry-run"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant %d and %q", code, errOut, tc.code, tc.want)
			}
		})
	}
}

// TestSendCompressedFileRemedy: a compressed file is refused with the
// command that decompresses it into send; a compressed Parquet file with
// the commands that decompress it to a file and send that.
func TestSendCompressedFileRemedy(t *testing.T) {
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("id\n1\n"))
	_ = zw.Close()
	csvGz, pqGz := filepath.Join(dir, "ev.csv.gz"), filepath.Join(dir, "ev.parquet.gz")
	for _, p := range []string{csvGz, pqGz} {
		if err := os.WriteFile(p, gz.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ arg, want string }{
		{csvGz, "zerobus send: " + csvGz + " is gzip-compressed: compressed input is not supported; decompress it on the way in: gzip -dc " + csvGz + " | zerobus send [flags] -"},
		{pqGz, "zerobus send: " + pqGz + " is gzip-compressed: compressed input is not supported, and Parquet cannot be read from a pipe; " +
			"decompress it to a file first: gzip -dc " + pqGz + " > " + strings.TrimSuffix(pqGz, ".gz") + " && zerobus send [flags] " + strings.TrimSuffix(pqGz, ".gz")},
	} {
		code, _, errOut := runCLIOrderedErr(t, "send", "-dry-run", tc.arg)
		if code != ExitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("send %s: exit %d, stderr:\n%s\nwant %d and %q", tc.arg, code, errOut, ExitUsage, tc.want)
		}
	}
}

// TestProgressWithoutTotal: with a pipe among the inputs the progress line
// shows the rows so far, no bar or percentage (how much is left is not
// known).
func TestProgressWithoutTotal(t *testing.T) {
	c := &counters{totalRows: -1, totalFiles: 1, noTotal: true, start: time.Unix(0, 0)}
	c.rowsSent.Store(1234)
	line := renderBar(c.snapshot(time.Unix(2, 0)))
	if !strings.HasPrefix(line, "1,234 rows so far  617 rows/s") || strings.Contains(line, "%") || strings.Contains(line, "[") {
		t.Errorf("progress line %q", line)
	}
	c.noTotal = false
	if line := renderBar(c.snapshot(time.Unix(2, 0))); !strings.HasPrefix(line, "[") {
		t.Errorf("with a file: progress line %q", line)
	}
}

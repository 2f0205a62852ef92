package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// stepPipe is a pipe for Env.Stdin whose writer writes each step's text
// when told (next), and closes at the end; a step's text "PAUSE" waits
// 1.5 s (longer than csvStallAfter) without writing.
type stepPipe struct {
	r    *os.File
	next chan string
}

func newStepPipe(t *testing.T) *stepPipe {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &stepPipe{r: r, next: make(chan string)}
	go func() {
		defer w.Close()
		for text := range p.next {
			if text == "PAUSE" {
				time.Sleep(csvStallAfter * 3 / 2)
				continue
			}
			if _, err := w.WriteString(text); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { _ = r.Close() })
	return p
}

func (p *stepPipe) write(steps ...string) {
	for _, s := range steps {
		p.next <- s
	}
}

func (p *stepPipe) close() { close(p.next) }

// schemaText is "name:type ..." of s.
func schemaText(s *arrow.Schema) string {
	var parts []string
	for _, f := range s.Fields() {
		parts = append(parts, f.Name+":"+f.Type.String())
	}
	return strings.Join(parts, " ")
}

// batchText is the rows of rec, "1,10 2,20.5", as their values print.
func batchText(rec arrow.RecordBatch) string {
	var rows []string
	for i := range int(rec.NumRows()) {
		var cells []string
		for _, col := range rec.Columns() {
			cells = append(cells, col.(interface{ ValueStr(int) string }).ValueStr(i))
		}
		rows = append(rows, strings.Join(cells, ","))
	}
	return strings.Join(rows, " ")
}

// TestCSVPipePause: a CSV pipe that pauses (for longer than csvStallAfter)
// after fewer rows than -csv-infer-rows has its types inferred from the
// rows that came, and they are read as a batch at once (before, nothing
// was read until 1,000 rows or the end came); a pause in the middle of a
// row does not cut it (v is float64: "20" then ".5" is one cell, 20.5);
// each later pause ends the batch being read; line numbers count from the
// input's start across pauses; the type error says which rows the types
// came from.
func TestCSVPipePause(t *testing.T) {
	p := newStepPipe(t)
	go p.write("id,v\n1,10\n2,20", "PAUSE", ".5\n3,30\n")
	o := inputOptions{format: formatAuto, batchRows: 1000, csvInferRows: 1000, mem: memory.DefaultAllocator}
	in, err := openStream(context.Background(), "-", o, p.r)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if got, want := schemaText(in.schema), "id:int64 v:float64"; got != want {
		t.Errorf("schema %s, want %s", got, want)
	}
	for _, tc := range []struct {
		write []string // before reading the batch
		rows  string
	}{
		{nil, "1,10 2,20.5 3,30"},
		{[]string{"4,40\n"}, "4,40"},
		{[]string{"5,", "PAUSE", "50\n6,60\n"}, "5,50 6,60"},
	} {
		go p.write(tc.write...)
		if !in.reader.Next() {
			t.Fatalf("no batch of %q: %v", tc.rows, in.reader.Err())
		}
		if got := batchText(in.reader.RecordBatch()); got != tc.rows {
			t.Errorf("batch %q, want %q", got, tc.rows)
		}
	}
	go func() { p.write("7,70,7\n"); p.close() }()
	if in.reader.Next() {
		t.Fatalf("a batch %q of a malformed row", batchText(in.reader.RecordBatch()))
	}
	if err, want := in.reader.Err(), "record on line 8: wrong number of fields"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}

	// the type error names the rows the types came from
	p2 := newStepPipe(t)
	go p2.write("id\n1\n")
	in, err = openStream(context.Background(), "-", o, p2.r) // returns at the pause: the writer waits for it
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	go func() { p2.write("x\n"); p2.close() }()
	for in.reader.Next() {
	}
	want := "(types are inferred from the first rows, here the 1 row that had come when the input paused for 1s: a pause ends the sample " +
		"unless -csv-infer-rows is given, so give it (-csv-infer-rows 1000 waits for 1000 rows or the end, however the input pauses) or use -csv-strings;"
	if err := in.reader.Err(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestCSVPipePauseAfterHeader: a pause after the header alone waits on
// (inferring there would make every column a string): the types come from
// the first row, which comes after the pause.
func TestCSVPipePauseAfterHeader(t *testing.T) {
	p := newStepPipe(t)
	go p.write("id,v\n", "PAUSE", "1,1.5\n")
	in, err := openStream(context.Background(), "-", inputOptions{format: formatAuto, batchRows: 1000, csvInferRows: 1000, mem: memory.DefaultAllocator}, p.r)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if got, want := schemaText(in.schema), "id:int64 v:float64"; got != want {
		t.Errorf("schema %s, want %s", got, want)
	}
	p.close()
}

// TestCSVPipeNoPauseSameTypes: a pipe that delivers its rows without a
// pause, closed or left open by its writer, has its types inferred from
// the same -csv-infer-rows rows as the file of the same text: v turns
// float64 at row 950, c string at row 999.
func TestCSVPipeNoPauseSameTypes(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,v,c\n")
	for i := range 1200 {
		v, c := fmt.Sprint(i), fmt.Sprint(i*2)
		if i == 950 {
			v = "1.5"
		}
		if i == 999 {
			c = "x"
		}
		fmt.Fprintf(&b, "%d,%s,%s\n", i, v, c)
	}
	path := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	o := inputOptions{format: formatAuto, batchRows: 500, csvInferRows: 1000, mem: memory.DefaultAllocator}
	file, err := openInput(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	const want = "id:int64 v:float64 c:utf8"
	if got := schemaText(file.schema); got != want {
		t.Fatalf("file schema %s, want %s", got, want)
	}
	for _, closed := range []bool{true, false} {
		p := newStepPipe(t)
		go func() {
			p.write(b.String())
			if closed {
				p.close()
			}
		}()
		in, err := openStream(context.Background(), "-", o, p.r)
		if err != nil {
			t.Fatal(err)
		}
		if got := schemaText(in.schema); got != want {
			t.Errorf("writer closes %v: schema %s, want %s (the file's)", closed, got, want)
		}
		in.Close()
		if !closed {
			p.close()
		}
	}
}

// TestSendSlowCSVPipe: `zerobus send -` of a CSV pipe whose writer sends a
// header and 3 rows and pauses: the server stores the 3 rows while the
// writer still holds the pipe open (before, nothing was sent until 1,000
// rows, -csv-infer-rows, or the end came); then 2 more rows and the end:
// 5 rows stored, in 2 batches, exit 0.
func TestSendSlowCSVPipe(t *testing.T) {
	s := startServer(t)
	const table = "main.pipes.slow_csv"
	p := newStepPipe(t)
	go p.write("id,name\n1,a\n2,b\n3,c\n")
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- RunEnv(context.Background(), append([]string{"send"}, append(connFlags(s, table), "-json", "-progress", "never", "-")...),
			Env{Stdin: p.r, Stdout: &stdout, Stderr: &stderr, LookupEnv: func(string) (string, bool) { return "", false }})
	}()
	deadline := time.Now().Add(time.Minute)
	for s.RecordCount(table) < 3 {
		select {
		case code := <-done:
			t.Fatalf("send returned (exit %d) while the writer pauses\n%s\n%s", code, &stdout, &stderr)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a minute the server holds %d rows of the 3 the paused pipe delivered\n%s", s.RecordCount(table), &stderr)
		}
	}
	go func() { p.write("4,d\n5,e\n"); p.close() }()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, &stdout, &stderr)
	}
	var sum pipeJSON
	if err := json.Unmarshal([]byte(stdout.String()), &sum); err != nil {
		t.Fatalf("-json %q: %v", stdout.String(), err)
	}
	if stored := s.RecordCount(table); stored != 5 || sum.RowsSent != 5 || sum.Batches != 2 {
		t.Errorf("stored %d rows, -json %+v; want 5 rows in 2 batches", stored, sum)
	}
}

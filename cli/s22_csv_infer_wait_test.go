package cli

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// storedPairs is "id=v" of every row the server stored in table, sorted,
// the values as the stored Arrow columns print them.
func storedPairs(t *testing.T, s *zerobuslocal.Server, table, col string) string {
	t.Helper()
	ids, vs := storedColumn(t, s, table, "id"), storedColumn(t, s, table, col)
	var out []string
	for i := range ids.Len() {
		out = append(out, ids.ValueStr(i)+"="+vs.ValueStr(i))
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// sendPipe runs `zerobus send -json -progress never args... -` reading
// the pipe p, and returns its exit status, stdout and stderr once it ends;
// during, called while send runs (the pipe still open), runs first.
func sendPipe(t *testing.T, s *zerobuslocal.Server, table string, p *stepPipe, during func(done <-chan int), args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- RunEnv(context.Background(), append([]string{"send"}, append(append(connFlags(s, table), args...), "-json", "-progress", "never", "-")...),
			Env{Stdin: p.r, Stdout: &stdout, Stderr: &stderr, LookupEnv: func(string) (string, bool) { return "", false }})
	}()
	if during != nil {
		during(done)
	}
	code := <-done
	return code, stdout.String(), stderr.String()
}

// doubleTable creates table with columns id BIGINT, price DOUBLE on s.
func doubleTable(t *testing.T, s *zerobuslocal.Server, table string) {
	t.Helper()
	cols, err := zerobuslocal.ParseColumns("id BIGINT, price DOUBLE")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
}

// TestSendCSVPipePauseExplicitInferRows (s22 review-s21diff 2): a CSV pipe
// that pauses (longer than csvStallAfter) after its first row, sent with
// -csv-infer-rows given, has its types inferred from the rows that come
// after the pause too: price is float64 (2.5 comes after the pause), and
// all 3 rows are stored with their values, exit 0. Before, the pause ended
// the sample whatever -csv-infer-rows said: price was int64 from "2",
// "2.5" failed the run after 1 row, and the error said "raise
// -csv-infer-rows", which changed nothing.
func TestSendCSVPipePauseExplicitInferRows(t *testing.T) {
	s := startServer(t)
	const table = "main.pipes.pause_infer_rows"
	doubleTable(t, s, table)
	p := newStepPipe(t)
	go func() { p.write("id,price\n1,2\n", "PAUSE", "2,2.5\n3,3\n"); p.close() }()
	code, stdout, stderr := sendPipe(t, s, table, p, nil, "-csv-infer-rows", "100000")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got, want := storedPairs(t, s, table, "price"), "1=2 2=2.5 3=3"; got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
	var sum pipeJSON
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("-json %q: %v", stdout, err)
	}
	if sum.RowsSent != 3 || !sum.Success {
		t.Errorf("-json %+v, want 3 rows sent", sum)
	}
}

// TestSendCSVPipePauseCutAdvice: the same pipe without -csv-infer-rows:
// the pause ends the sample (1 row), so "2.5" does not parse as the
// inferred int64; the server stores the 1 row sent before, exit 1, and
// the error says that the pause ended the sample and that giving
// -csv-infer-rows waits for the rows (the advice the test above follows),
// not "raise -csv-infer-rows".
func TestSendCSVPipePauseCutAdvice(t *testing.T) {
	s := startServer(t)
	const table = "main.pipes.pause_cut_advice"
	doubleTable(t, s, table)
	p := newStepPipe(t)
	go func() { p.write("id,price\n1,2\n", "PAUSE", "2,2.5\n3,3\n"); p.close() }()
	// -csv-types infer: by default the table's column types are used (price
	// a DOUBLE, and every row is stored: TestSendCSVTablePauseNoInference).
	code, stdout, stderr := sendPipe(t, s, table, p, nil, "-csv-types", "infer")
	if code != ExitFailed {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitFailed, stdout, stderr)
	}
	if got, want := storedPairs(t, s, table, "price"), "1=2"; got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
	var sum pipeJSON
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("-json %q: %v", stdout, err)
	}
	for _, want := range []string{
		`parsing "2.5"`,
		"here the 1 row that had come when the input paused for 1s: a pause ends the sample unless -csv-infer-rows is given, " +
			"so give it (-csv-infer-rows 1000 waits for 1000 rows or the end, however the input pauses) or use -csv-strings;",
	} {
		if !strings.Contains(sum.Error, want) {
			t.Errorf("error %q, want %q", sum.Error, want)
		}
	}
	if strings.Contains(sum.Error, "raise -csv-infer-rows") {
		t.Errorf("error %q advises raising -csv-infer-rows, which does not help here", sum.Error)
	}
}

// TestSendCSVPipeExplicitInferRowsLaterPause: -csv-infer-rows 2 waits for
// 2 rows across a pause (v is float64 from row 2, after the pause), and a
// pause after the sample still sends the batch being read: the server
// stores rows 1-3 while the writer holds the pipe open; then row 4 and the
// end: 4 rows stored with their values, in 2 batches, exit 0.
func TestSendCSVPipeExplicitInferRowsLaterPause(t *testing.T) {
	s := startServer(t)
	const table = "main.pipes.infer_rows_later_pause"
	p := newStepPipe(t)
	go p.write("id,v\n1,10\n", "PAUSE", "2,20.5\n3,30\n")
	code, stdout, stderr := sendPipe(t, s, table, p, func(done <-chan int) {
		for s.RecordCount(table) < 3 {
			select {
			case code := <-done:
				t.Fatalf("send returned (exit %d) while the writer pauses after the sample", code)
			case <-time.After(10 * time.Millisecond):
			}
		}
		go func() { p.write("4,40\n"); p.close() }()
	}, "-csv-infer-rows", "2")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got, want := storedPairs(t, s, table, "v"), "1=10 2=20.5 3=30 4=40"; got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
	var sum pipeJSON
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("-json %q: %v", stdout, err)
	}
	if sum.RowsSent != 4 || sum.Batches != 2 {
		t.Errorf("-json %+v, want 4 rows in 2 batches", sum)
	}
}

// TestCSVPipeInferWaitSchema: openStream with csvInferWait (-csv-infer-rows
// given) reads the sample across pauses, after the header and after a row:
// the types come from the 3 rows, as from a pipe without pauses; without
// it, the types come from the 1 row before the first pause after a row.
func TestCSVPipeInferWaitSchema(t *testing.T) {
	for _, tc := range []struct {
		wait bool
		want string
	}{
		{true, "id:int64 v:float64 c:utf8"},
		{false, "id:int64 v:int64 c:int64"},
	} {
		p := newStepPipe(t)
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			p.write("id,v,c\n", "PAUSE", "1,10,1\n", "PAUSE", "2,20.5,\n", "PAUSE", "3,,x\n")
		}()
		o := inputOptions{format: formatAuto, batchRows: 1000, csvInferRows: 3, csvInferWait: tc.wait, mem: memory.DefaultAllocator}
		in, err := openStream(context.Background(), "-", o, p.r)
		if err != nil {
			t.Fatal(err)
		}
		if got := schemaText(in.schema); got != tc.want {
			t.Errorf("csvInferWait %v: schema %s, want %s", tc.wait, got, tc.want)
		}
		in.Close()
		<-wrote
		p.close()
	}
}

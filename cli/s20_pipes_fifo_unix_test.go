//go:build unix

package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// mkfifo makes a named pipe in a temporary directory.
func mkfifo(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// feedFIFO writes data into the FIFO (opening it waits for the reader)
// and closes it.
func feedFIFO(t *testing.T, fifo string, data []byte) {
	t.Helper()
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		_, _ = f.Write(data)
		_ = f.Close()
	}()
}

// TestSendFromFIFO: named pipes are read front to back, as "-" is, the
// format from the extension or the first bytes: examples/data/events.csv
// through a FIFO without an extension, then with a regular file after it,
// and an Arrow IPC stream through x.arrows; the server stores every row, as
// many as the summary says. Before, a pipe was refused with exit status 2.
// Two pipes in one run are refused (s20 review diffa M1/M2: two names of
// one FIFO were read by two readers in turn; two FIFOs written one after
// the other by one producer waited on each other).
func TestSendFromFIFO(t *testing.T) {
	s := startServer(t)
	const table = "main.pipes.fifo"
	events, err := os.ReadFile(filepath.Join("..", "examples", "data", "events.csv"))
	if err != nil {
		t.Fatal(err)
	}
	csvFIFO, csv2FIFO, arrowFIFO := mkfifo(t, "events"), mkfifo(t, "more.csv"), mkfifo(t, "x.arrows")
	csvFile := filepath.Join(t.TempDir(), "events.csv")
	if err := os.WriteFile(csvFile, events, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		table string
		files []string
		rows  int64
	}{
		{table, []string{csvFIFO, csvFile}, 48},
		{table + "_arrow", []string{arrowFIFO}, 500},
	} {
		data := map[string][]byte{csvFIFO: events, arrowFIFO: arrowBytes(t, false, 500, 33)}
		for _, f := range tc.files {
			if d, ok := data[f]; ok {
				feedFIFO(t, f, d)
			}
		}
		code, out, errOut := runWithStdin(context.Background(), nil,
			append(append([]string{"send", "-json", "-batch-rows", "100"}, connFlags(s, tc.table)...), tc.files...)...)
		var sum pipeJSON
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatalf("exit %d, -json %q: %v\nstderr:\n%s", code, out, err, errOut)
		}
		stored := int64(s.RecordCount(tc.table))
		if code != ExitOK || sum.RowsRead != tc.rows || sum.RowsSent != tc.rows || stored != tc.rows || sum.RowsTotal == nil ||
			*sum.RowsTotal != tc.rows || sum.FilesDone != int64(len(tc.files)) {
			t.Errorf("%v: exit %d, stored %d, -json %+v\nstderr:\n%s", tc.files, code, stored, sum, errOut)
		}
	}
	// the same FIFO twice is refused: it is read once
	code, _, errOut := runWithStdin(context.Background(), nil, "send", "-dry-run", csvFIFO, csvFIFO)
	if code != ExitUsage || !strings.Contains(errOut, "zerobus send: "+csvFIFO+" is given twice: it is read once") {
		t.Errorf("FIFO twice: exit %d, stderr:\n%s", code, errOut)
	}
	// two pipes, or one FIFO under two names, or "-" and a FIFO: one per run
	dotted := filepath.Dir(csvFIFO) + string(filepath.Separator) + "." + string(filepath.Separator) + filepath.Base(csvFIFO)
	for _, files := range [][]string{{csvFIFO, csv2FIFO}, {csvFIFO, dotted}, {"-", csvFIFO}} {
		code, _, errOut := runWithStdin(context.Background(), strings.NewReader("id\n1\n"), append([]string{"send", "-dry-run"}, files...)...)
		if code != ExitUsage || !strings.Contains(errOut, "are both pipes (or standard input): send reads one per run") {
			t.Errorf("%v: exit %d, stderr:\n%s", files, code, errOut)
		}
	}
}

// stalledPipeSend starts `zerobus send` of a FIFO whose writer sends an
// Arrow IPC stream's schema and 10 rows, then stalls (keeps the pipe open,
// writing nothing); it returns once the server holds the 10 rows (the
// send is then waiting in a read of the pipe).
func stalledPipeSend(t *testing.T, s *zerobuslocal.Server, table string, vars map[string]string, args ...string) (ctx context.Context, interrupt func(), stdout, stderr *syncBuffer, done chan error, fifo string) {
	t.Helper()
	fifo = mkfifo(t, "stall.arrows")
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	go func() {
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		w := ipc.NewWriter(f, ipc.WithSchema(mixedSchema))
		rec := mixedBatch(memory.DefaultAllocator, 0, 10)
		_ = w.Write(rec)
		rec.Release()
		<-release // stalls: more rows may come, the pipe is open
	}()
	ctx, interrupt = context.WithCancel(t.Context())
	t.Cleanup(interrupt)
	stdout, stderr, done = sendUntilStored(t, ctx, s, table, vars, 10, "while the writer stalls", append(append([]string{"-batch-rows", "10"}, args...), fifo)...)
	return ctx, interrupt, stdout, stderr, done, fifo
}

// waitSend is the send's error; it fails the test when the send does not
// return (it still waits for the stalled writer) long after the interrupt.
func waitSend(t *testing.T, done chan error, stdout, stderr *syncBuffer) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(2 * time.Minute):
		t.Fatalf("send still runs 2 minutes after the interrupt (waiting for the stalled writer)\n%s\n%s", stdout, stderr)
	}
	return nil
}

// TestSendStalledPipeInterrupt: the first Ctrl-C stops reading a pipe whose
// writer stalls (the read waiting for it ends), the batch in flight is
// acknowledged, the summary says interrupted with every row read sent and
// stored, exit status 130; rows_total is null (the pipe was not read to its
// end).
func TestSendStalledPipeInterrupt(t *testing.T) {
	s := startServer(t)
	const table = "main.pipes.stall"
	_, interrupt, stdout, stderr, done, _ := stalledPipeSend(t, s, table, nil, "-json")
	interrupt()
	err := waitSend(t, done, stdout, stderr)
	wantExitInterrupted(t, err)
	sum := summaryOf(t, stdout)
	if !sum.Interrupted || sum.GraceExpired || sum.RowsRead != 10 || sum.RowsSent != 10 || sum.RowsFailed != 0 || sum.RowsTotal != nil || sum.Stopped != "" {
		t.Errorf("summary: %+v (rows_total %v)", sum, sum.RowsTotal)
	}
	if got := s.RecordCount(table); got != 10 {
		t.Errorf("server stored %d rows, want 10", got)
	}
}

// TestSendStalledPipeGrace: with a pipe whose writer stalls and a server
// that does not acknowledge, the first Ctrl-C stops reading, -grace runs
// out and cancels the batch in flight: its rows are unknown (the server
// stored them), exit status 130.
func TestSendStalledPipeGrace(t *testing.T) {
	s := startServer(t)
	const table = "main.pipes.stallgrace"
	s.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	vars := map[string]string{"ZEROBUS_ACK_TIMEOUT_MS": "600000", "RETRY_MAX_ATTEMPTS": "1"}
	_, interrupt, stdout, stderr, done, _ := stalledPipeSend(t, s, table, vars, "-json", "-grace", "100ms")
	interrupt()
	err := waitSend(t, done, stdout, stderr)
	wantExitInterrupted(t, err)
	sum := summaryOf(t, stdout)
	if !sum.Interrupted || !sum.GraceExpired || sum.RowsRead != 10 || sum.RowsSent != 0 || sum.RowsUnknown != 10 || sum.RowsNotWritten != 0 {
		t.Errorf("summary: %+v", sum)
	}
	if got := s.RecordCount(table); got != 10 {
		t.Errorf("server stored %d rows, want 10", got)
	}
}

// TestSendStalledPipeHardStop: the second Ctrl-C (HardStop) while the
// writer stalls and a batch waits for its acknowledgement prints where
// reading stopped and the rows not acknowledged. (The server holds the
// acks, so the run is still in its -grace when HardStop comes: without a
// batch in flight the first Ctrl-C ends the run at once, and a HardStop
// after it has nothing to stop.)
func TestSendStalledPipeHardStop(t *testing.T) {
	s := startServer(t)
	const table = "main.pipes.stallhard"
	s.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	vars := map[string]string{"ZEROBUS_ACK_TIMEOUT_MS": "600000", "RETRY_MAX_ATTEMPTS": "1"}
	_, interrupt, stdout, stderr, done, fifo := stalledPipeSend(t, s, table, vars, "-grace", "3s")
	interrupt()
	for deadline := time.Now().Add(time.Minute); !strings.Contains(stderr.String(), "interrupted: "); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the interrupt is not seen:\n%s", stderr)
		}
	}
	HardStop() // the command's main exits here; in a test the run goes on to its -grace
	line := "quit at once: 0 rows acknowledged, 10 in flight (unknown: they may be stored); reading stopped at row 10 of " + fifo + " (file 1 of 1)\n"
	if !strings.Contains(stderr.String(), "zerobus send: "+line) {
		t.Errorf("stderr lacks the quit line %q:\n%s", line, stderr)
	}
	err := waitSend(t, done, stdout, stderr)
	wantExitInterrupted(t, err)
	if got := s.RecordCount(table); got != 10 {
		t.Errorf("server stored %d rows, want 10", got)
	}
}

// TestSendPipeInterruptBeforeData: a Ctrl-C while send waits for a pipe's
// first bytes (its writer opened it and wrote nothing, or never opened it)
// ends the send with exit status 130, nothing sent.
func TestSendPipeInterruptBeforeData(t *testing.T) {
	for _, opens := range []bool{true, false} {
		fifo := mkfifo(t, "quiet.csv")
		release := make(chan struct{})
		if opens {
			go func() {
				f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err != nil {
					return
				}
				<-release
				_ = f.Close()
			}()
		}
		ctx, cancel := context.WithCancel(context.Background())
		type result struct {
			code        int
			out, errOut string
		}
		res := make(chan result, 1)
		go func() {
			code, out, errOut := runWithStdin(ctx, nil, "send", "-dry-run", "-json", fifo)
			res <- result{code, out, errOut}
		}()
		time.Sleep(50 * time.Millisecond) // the outcome is the same whether the send waits yet or not
		cancel()
		var r result
		select {
		case r = <-res:
		case <-time.After(2 * time.Minute):
			t.Fatalf("writer opens %v: send still waits 2 minutes after the interrupt", opens)
		}
		close(release)
		var sum summaryJSON
		_ = json.Unmarshal([]byte(r.out), &sum)
		want := "zerobus send: interrupted: reading " + fifo + " stopped before anything was sent"
		if r.code != ExitInterrupted || !strings.Contains(r.errOut, want) || !sum.Interrupted || sum.RowsRead != 0 {
			t.Errorf("writer opens %v: exit %d, stdout %s, stderr:\n%s\nwant %d and %q", opens, r.code, r.out, r.errOut, ExitInterrupted, want)
		}
		if !opens { // the open still waits for a writer: let it end
			if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				_ = f.Close()
			}
		}
	}
}

// TestSendStdinTerminal: "-" when standard input is a terminal or a device
// (here /dev/null) is refused with exit status 2, saying to pipe the data
// in, instead of waiting for typed rows.
func TestSendStdinTerminal(t *testing.T) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	code, _, errOut := runWithStdin(context.Background(), devNull, "send", "-dry-run", "-")
	want := "zerobus send: standard input is a terminal or a device, not a pipe: pipe the data in " +
		"(some_tool | zerobus send [flags] -) or give the file's name"
	if code != ExitUsage || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr:\n%s\nwant %d and %q", code, errOut, ExitUsage, want)
	}
}

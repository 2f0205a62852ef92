package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/syncbuf"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer = syncbuf.Buffer

// stalledSend starts `zerobus send` of 6 rows against a server that stores
// rows but never acknowledges them (ack timeout 10 minutes), with args
// added, and cancels its context (the first Ctrl-C) once the server holds
// the rows, i.e. while the batch is in flight. done receives sendMain's
// error.
func stalledSend(t *testing.T, table string, args ...string) (stdout, stderr *syncBuffer, done chan error, s *zerobuslocal.Server) {
	t.Helper()
	stdout, stderr, done, s, interrupt := stalledSendWait(t, table, args...)
	interrupt()
	return stdout, stderr, done, s
}

// stalledSendWait is stalledSend without the interrupt: the caller calls
// interrupt.
func stalledSendWait(t *testing.T, table string, args ...string) (stdout, stderr *syncBuffer, done chan error, s *zerobuslocal.Server, interrupt func()) {
	t.Helper()
	s = startServer(t)
	s.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 6)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	vars := map[string]string{"ZEROBUS_ACK_TIMEOUT_MS": "600000", "RETRY_MAX_ATTEMPTS": "1"}
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	stdout, stderr, done = sendUntilStored(t, ctx, s, table, vars, 6, "before the interrupt", append(args, path)...)
	return stdout, stderr, done, s, cancel
}

// wantExitInterrupted fails unless sendMain's error err gives exit status
// 130 (interrupted).
func wantExitInterrupted(t *testing.T, err error) {
	t.Helper()
	if code := finish(context.Background(), "send", err, &bytes.Buffer{}); code != ExitInterrupted {
		t.Errorf("exit status %d (%v), want %d", code, err, ExitInterrupted)
	}
}

// summaryOf decodes the -json summary send wrote to stdout.
func summaryOf(t *testing.T, stdout *syncBuffer) summaryJSON {
	t.Helper()
	var sum summaryJSON
	if err := json.Unmarshal([]byte(stdout.String()), &sum); err != nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
	return sum
}

// sendUntilStored starts sendMain with s's connection flags for table,
// "-progress never", args and the environment vars, and returns once s
// holds rows rows of table; a send that returns first fails the test
// (naming when: "before the interrupt"). done receives sendMain's error.
func sendUntilStored(t *testing.T, ctx context.Context, s *zerobuslocal.Server, table string, vars map[string]string, rows int, when string, args ...string) (stdout, stderr *syncBuffer, done chan error) {
	t.Helper()
	stdout, stderr, done = &syncBuffer{}, &syncBuffer{}, make(chan error, 1)
	go func() {
		done <- sendMain(ctx, append(append(connFlags(s, table), "-progress", "never"), args...), sendEnv{
			stdout: stdout, stderr: stderr,
			lookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
			now:       time.Now, mem: memory.DefaultAllocator,
		})
	}()
	for s.RecordCount(table) < rows {
		select {
		case err := <-done:
			t.Fatalf("send returned %s: %v\n%s\n%s", when, err, stdout, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	return stdout, stderr, done
}

// TestSendInterruptGrace: after the first Ctrl-C, the batches in flight
// get -grace, then they are cancelled: the send returns (it waited for the
// acknowledgements for the whole ack timeout and retries before), with the
// summary marked interrupted and the cancelled rows unknown (the server
// stored them: never "not written"), and exit status 130.
func TestSendInterruptGrace(t *testing.T) {
	const table = "main.default.grace"
	stdout, stderr, done, s := stalledSend(t, table, "-json", "-grace", "100ms")
	err := <-done
	wantExitInterrupted(t, err)
	sum := summaryOf(t, stdout)
	if !sum.Interrupted || !sum.GraceExpired || sum.Success || sum.RowsRead != 6 || sum.RowsSent != 0 ||
		sum.RowsFailed != 6 || sum.RowsUnknown != 6 || sum.RowsNotWritten != 0 {
		t.Errorf("summary: %+v", sum)
	}
	if !strings.Contains(sum.Interruption, "after the 100ms grace (-grace) were cancelled") {
		t.Errorf("interruption %q", sum.Interruption)
	}
	if got := s.RecordCount(table); got != 6 {
		t.Errorf("server stored %d rows, want 6", got)
	}
	const notice = "interrupted: finishing the batches in flight (Ctrl-C again to quit at once): " +
		"waiting up to 100ms (-grace) for 1 batch (6 rows), then cancelling them\n"
	if !strings.Contains(stderr.String(), notice) {
		t.Errorf("stderr lacks %q:\n%s", notice, stderr)
	}

	// text: the summary says so too
	stdout, _, done, _ = stalledSend(t, "main.default.grace2", "-grace", "100ms")
	err = <-done
	for _, want := range []string{
		"  rows failed:  6 (",
		"6 unknown: sent without an acknowledgement, they may be stored",
		"  interrupted:  reading stopped after 1 of 1 files; the batches still in flight after the 100ms grace (-grace) were cancelled",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
	wantExitInterrupted(t, err)
}

// TestSendHardStop: the second Ctrl-C (cmd/zerobus calls HardStop, then
// exits): one line on stderr with the rows acknowledged and in flight and
// where reading stopped, under -json a minimal JSON object saying
// interrupted and aborted, and the quarantine's temporary file removed.
func TestSendHardStop(t *testing.T) {
	qdir := t.TempDir()
	q := filepath.Join(qdir, "failed.arrows")
	stdout, stderr, done, _, interrupt := stalledSendWait(t, "main.default.hard", "-json", "-grace", "50ms", "-quarantine", q)
	if tmps, _ := filepath.Glob(filepath.Join(qdir, ".failed.arrows.*.tmp")); len(tmps) != 1 {
		t.Fatalf("quarantine temporary files %v, want 1 while sending", tmps)
	}
	HardStop()
	const line = "zerobus send: quit at once: 0 rows acknowledged, 6 in flight (unknown: they may be stored); " +
		"reading stopped at row 6 of "
	if !strings.Contains(stderr.String(), line) || !strings.Contains(stderr.String(), "d.arrow (file 1 of 1)\n") {
		t.Errorf("stderr lacks %q:\n%s", line, stderr)
	}
	var obj struct {
		Interrupted, Aborted, Success bool
		RowsRead                      int64 `json:"rows_read"`
		RowsSent                      int64 `json:"rows_sent"`
		RowsUnknown                   int64 `json:"rows_unknown"`
		StoppedRow                    int64 `json:"stopped_row"`
	}
	if err := json.Unmarshal([]byte(stdout.String()), &obj); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if !obj.Interrupted || !obj.Aborted || obj.Success || obj.RowsRead != 6 || obj.RowsSent != 0 || obj.RowsUnknown != 6 || obj.StoppedRow != 6 {
		t.Errorf("hard stop JSON %+v", obj)
	}
	if left, _ := os.ReadDir(qdir); len(left) != 0 {
		t.Errorf("quarantine directory holds %v after the hard stop, want nothing", left)
	}
	// here the process would exit; in the test the send goes on to its end
	interrupt()
	<-done
	if left, _ := os.ReadDir(qdir); len(left) != 0 {
		t.Errorf("quarantine directory holds %v at the end, want nothing", left)
	}
}

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// syncBuffer is a bytes.Buffer safe for a writer and a concurrent reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// stalledSend starts `zerobus send` of 6 rows against a server that stores
// rows but never acknowledges them (ack timeout 10 minutes), with args
// added, and cancels its context (the first Ctrl-C) once the server holds
// the rows, i.e. while the batch is in flight. done receives sendMain's
// error.
func stalledSend(t *testing.T, table string, args ...string) (stdout, stderr *syncBuffer, done chan error, s *zerobuslocal.Server) {
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
	stdout, stderr, done = &syncBuffer{}, &syncBuffer{}, make(chan error, 1)
	go func() {
		done <- sendMain(ctx, append(append(connFlags(s, table), "-progress", "never"), append(args, path)...), sendEnv{
			stdout: stdout, stderr: stderr,
			lookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
			now:       time.Now, mem: memory.DefaultAllocator,
		})
	}()
	for s.RecordCount(table) < 6 {
		select {
		case err := <-done:
			t.Fatalf("send returned before the interrupt: %v\n%s\n%s", err, stdout, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	t.Cleanup(cancel)
	return stdout, stderr, done, s
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
	if code := finish(context.Background(), "send", err, &bytes.Buffer{}); code != ExitInterrupted {
		t.Errorf("exit status %d (%v), want %d", code, err, ExitInterrupted)
	}
	var sum summaryJSON
	if err := json.Unmarshal([]byte(stdout.String()), &sum); err != nil {
		t.Fatalf("summary %q: %v", stdout, err)
	}
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
	if code := finish(context.Background(), "send", err, &bytes.Buffer{}); code != ExitInterrupted {
		t.Errorf("exit status %d (%v), want %d", code, err, ExitInterrupted)
	}
}

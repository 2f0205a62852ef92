package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestSendReportsResentRows (s19 review cliux M4): rows re-sent after a
// stream recovery may be stored twice; the summary and -json say how many.
// Acks stop after the 3rd request and the connection drops at the 6th,
// with one stream (so that both faults fire on it) and at most 3 requests
// in flight: requests 4-6 are stored and
// unacknowledged, nothing after them is written, and the one recovery
// writes exactly them again. So the rows re-sent are exactly the rows the
// server holds beyond those sent. A run without a fault says nothing.
func TestSendReportsResentRows(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	const rows = 20_000
	rec := mixedBatch(memory.DefaultAllocator, 0, rows)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	env := map[string]string{"ZEROBUS_STREAMS_PER_SCHEMA": "1", "ZEROBUS_MAX_INFLIGHT_REQUESTS": "3", "ZEROBUS_MAX_MESSAGE_BYTES": "65536", "RETRY_BASE_DELAY_MS": "1"}

	clean := sendCLIEnv(t, env, append(connFlags(s, "main.default.resent_clean"), "-progress", "never", path)...)
	if clean.err != nil || strings.Contains(clean.stdout, "recovered") || strings.Contains(clean.stdout, "re-sent") {
		t.Errorf("a run without a fault: err %v, summary:\n%s", clean.err, clean.stdout)
	}
	clean = sendCLIEnv(t, env, append(connFlags(s, "main.default.resent_clean"), "-json", "-progress", "never", path)...)
	var out struct {
		RowsSent         int64  `json:"rows_sent"`
		StreamRecoveries *int64 `json:"stream_recoveries"`
		RowsResent       *int64 `json:"rows_resent"`
	}
	if err := json.Unmarshal([]byte(clean.stdout), &out); err != nil {
		t.Fatalf("-json output %q: %v", clean.stdout, err)
	}
	if out.StreamRecoveries == nil || out.RowsResent == nil || *out.StreamRecoveries != 0 || *out.RowsResent != 0 {
		t.Errorf("-json without a fault: %s; want stream_recoveries 0 and rows_resent 0", clean.stdout)
	}

	for i, jsonOut := range []bool{false, true} {
		table := fmt.Sprintf("main.default.resent_%d", i)
		s.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 3})
		s.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 6})
		// One batch, its requests written back to back (several batches
		// sharing a recovery count it once: core's RecoveryCount tests).
		args := append(connFlags(s, table), "-progress", "never", path)
		if jsonOut {
			args = append(connFlags(s, table), "-json", "-progress", "never", path)
		}
		r := sendCLIEnv(t, env, args...)
		if r.err != nil {
			t.Fatalf("send: %v\n%s%s", r.err, r.stdout, r.stderr)
		}
		dups := int64(s.RecordCount(table) - rows)
		if dups <= 0 {
			t.Fatalf("the server stored %d rows for %d: the fault made no duplicates", s.RecordCount(table), rows)
		}
		if !jsonOut {
			want := fmt.Sprintf("  recovered:    1 stream; up to %s rows re-sent (possible duplicates)\n", thousands(dups))
			if !strings.Contains(r.stdout, want) {
				t.Errorf("summary lacks %q:\n%s", want, r.stdout)
			}
			continue
		}
		out.StreamRecoveries, out.RowsResent = nil, nil
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("-json output %q: %v", r.stdout, err)
		}
		if out.RowsSent != rows || out.StreamRecoveries == nil || *out.StreamRecoveries != 1 || out.RowsResent == nil || *out.RowsResent != dups {
			t.Errorf("-json: %s; want rows_sent %d, stream_recoveries 1, rows_resent %d", r.stdout, rows, dups)
		}
	}
}

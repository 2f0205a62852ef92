package tests_go

import (
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// PERMISSION_DENIED from an open RPC, on every RPC, before any ack: the
// client refreshes the token once (protocol §4), and when the RPC opened
// with the fresh token is refused the same way it fails the send with an
// AuthenticationError, not retryable. So the server sees two RPCs and
// stores at most the copies those two carried. It used to take the second
// refusal for an expired token and refresh up to retry_max_attempts, each
// time re-sending every unacknowledged request (918 stored copies of 400
// rows at 5 attempts), and end in RetryExhausted advising more retries
// (s14 review-faults 3).
func TestPermissionDeniedMidStreamFailsAfterOneRefresh(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			srv := startServer(t, zerobuslocal.Options{})
			const table = "main.default.pd_midstream"
			createTable(t, srv, table, "id BIGINT, name STRING, score DOUBLE")
			srv.SetAckPolicy(table, zerobuslocal.DelayedAcks(20*time.Millisecond, 0))
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.PermissionDenied, AfterMessages: 2, Persistent: true})
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			cfg.MaxMessageBytes = 1024
			cfg.RetryMaxAttempts = 5
			w := newWrapper(t, cfg)
			const rows = 400
			rec := eventBatch(mem, 0, rows)
			defer rec.Release()
			before := srv.Stats()
			res, err := w.SendBatch(testCtx(t), rec)
			if core.KindOf(err) != core.KindAuthentication || core.IsRetryable(err) {
				t.Fatalf("SendBatch error: %v (kind %s, retryable %t), want a non-retryable authentication error", err, core.KindOf(err), core.IsRetryable(err))
			}
			checkInvariant(t, res, rows)
			st := srv.Stats()
			if got := st.StreamsCreated - before.StreamsCreated; got != 2 {
				t.Errorf("streams created: got %d, want 2 (the first and the one retry with a fresh token)", got)
			}
			// Each RPC stores what came before the fault: its first two
			// messages. Two RPCs, so no row is stored more than twice, and
			// at most four messages' rows are.
			stored := storedIDs(t, srv, table)
			total := 0
			for id, n := range stored {
				total += n
				if n > 2 {
					t.Errorf("row %d stored %d times, want at most 2", id, n)
				}
			}
			perMsg := 0
			msgs := 0
			for _, ev := range srv.Events() {
				if ev.Kind == zerobuslocal.EventMessageStored && ev.Table == table {
					msgs++
					perMsg = max(perMsg, ev.Records)
				}
			}
			if msgs > 4 || total > 4*perMsg {
				t.Errorf("stored %d messages, %d rows (at most %d rows a message), want at most 4 messages", msgs, total, perMsg)
			}
			durable := 0
			for _, r := range res.SuccessfulRowIndices() {
				durable++
				if stored[int64(r)] == 0 {
					t.Errorf("row %d reported durable, not stored", r)
				}
			}
			for _, r := range res.NotWrittenRowIndices() {
				if stored[int64(r)] != 0 {
					t.Errorf("row %d reported not written, stored", r)
				}
			}
			t.Logf("%s: %d streams, %d messages and %d rows stored, %d durable; %v", transport, st.StreamsCreated-before.StreamsCreated, msgs, total, durable, err)
		})
	}
}

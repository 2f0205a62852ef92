package tests_go

import (
	"errors"
	"strings"
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

// One token answer slower than create_timeout_ms, before the first send to
// a table with a NOT NULL column, the batch's columns nullable. The read of
// the table's columns times out (the token request it makes is cut off).
//   - protobuf plans with the batch's own (nullable) columns for now and the
//     stream, whose own token request is answered at once, is refused for
//     its schema. That refusal is no verdict on the batch: the send fails
//     with the catalog's retryable error, and the next send reads the
//     catalog again and is stored. It used to fail with a non-retryable
//     INVALID_ARGUMENT, and every send after it for mismatchRecheck (10 s)
//     too (s14 review-faults 2).
//   - arrow_flight, which needs the table's schema, reads it again under
//     the stream's retry rule: the first send is stored.
func TestSlowTokenAtFirstReadOfTheCatalog(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			const table = "main.default.slow_token"
			createTable(t, srv, table, "id BIGINT NOT NULL, name STRING, score DOUBLE")
			srv.InjectFault("", zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenLatency, Latency: 900 * time.Millisecond})
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			cfg.CreateTimeout = 300 * time.Millisecond
			w := newWrapper(t, cfg)
			ctx := testCtx(t)
			send := func(first int64) error {
				rec := nullableBatch(first, 10)
				defer rec.Release()
				res, err := w.SendBatch(ctx, rec)
				checkInvariant(t, res, 10)
				return err
			}
			err := send(0)
			if transport == core.TransportArrowFlight && err != nil {
				t.Fatalf("first send: %v (kind %s), want it stored after the catalog is read again", err, core.KindOf(err))
			}
			if err != nil {
				if !core.IsRetryable(err) || core.KindOf(err) != core.KindConnection {
					t.Fatalf("first send: %v (kind %s, retryable %t), want the catalog's retryable connection error", err, core.KindOf(err), core.IsRetryable(err))
				}
				if msg := err.Error(); !strings.Contains(msg, "could not be read from Unity Catalog") || !strings.Contains(msg, "create_timeout_ms") {
					t.Errorf("first send: %s", msg)
				}
				t.Logf("first send: %v", err)
			}
			if err := send(100); err != nil {
				t.Fatalf("second send: %v (kind %s), want it stored", err, core.KindOf(err))
			}
			stored := storedIDs(t, srv, table)
			for id := int64(100); id < 110; id++ {
				if stored[id] != 1 {
					t.Errorf("row %d stored %d times, want 1", id, stored[id])
				}
			}
		})
	}
}

// A persistent token endpoint failure that may pass fails the first send
// with the same error on both transports: the retries of a stream creation
// (retry_max_attempts), then a RetryExhaustedError whose last failure is
// the token's (TokenRefreshError) or the timeout's (connection). arrow_flight
// met it first in its read of the table's columns, which it did not retry:
// a TokenRefreshError or ConnectionError at once (s14 review-faults 4).
func TestPersistentTokenFaultTypedAlikeOnBothTransports(t *testing.T) {
	cases := []struct {
		name     string
		fault    zerobuslocal.Fault
		lastKind core.ErrorKind
	}{
		{"token 500", zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 500, Persistent: true}, core.KindTokenRefresh},
		{"token 429", zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 429, Persistent: true}, core.KindTokenRefresh},
		{"token latency", zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenLatency, Latency: 600 * time.Millisecond, Persistent: true}, core.KindConnection},
	}
	for _, tc := range cases {
		for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
			t.Run(tc.name+"/"+transport, func(t *testing.T) {
				srv := startServer(t, zerobuslocal.Options{})
				const table = "main.default.token_fault"
				createTable(t, srv, table, "id BIGINT NOT NULL, name STRING, score DOUBLE")
				srv.InjectFault("", tc.fault)
				cfg := serverConfig(srv, table)
				cfg.Transport = transport
				cfg.RetryMaxAttempts = 3
				cfg.CreateTimeout = 200 * time.Millisecond
				w := newWrapper(t, cfg)
				rec := nullableBatch(0, 10)
				defer rec.Release()
				res, err := w.SendBatch(testCtx(t), rec)
				checkInvariant(t, res, 10)
				if got := len(res.NotWrittenRowIndices()); got != 10 {
					t.Errorf("rows not written: got %d, want 10", got)
				}
				var re *core.RetryExhaustedError
				if !errors.As(err, &re) || core.KindOf(err) != core.KindRetryExhausted {
					t.Fatalf("error: %v (%T, kind %s), want a RetryExhaustedError", err, err, core.KindOf(err))
				}
				if re.Attempts != cfg.RetryMaxAttempts || core.KindOf(re.Last) != tc.lastKind || !core.IsRetryable(err) {
					t.Errorf("attempts %d, last %v (kind %s), retryable %t; want %d attempts, last of kind %s, retryable",
						re.Attempts, re.Last, core.KindOf(re.Last), core.IsRetryable(err), cfg.RetryMaxAttempts, tc.lastKind)
				}
				if n := srv.RecordCount(table); n != 0 {
					t.Errorf("%d rows stored", n)
				}
			})
		}
	}
}

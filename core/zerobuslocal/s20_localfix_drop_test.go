package zerobuslocal_test

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// dropRuns is how many streams each drop test opens: the lost-ack race was
// seen in most runs, so a fix that only narrows it fails here.
const dropRuns = 50

// wantDropped checks the end of an RPC cut by FaultDropConnection: a
// transport error, not a status the server wrote.
func wantDropped(t *testing.T, run int, err error) {
	t.Helper()
	if errors.Is(err, io.EOF) || status.Code(err) != codes.Unavailable || strings.Contains(err.Error(), "dropped by fault") {
		t.Fatalf("run %d: end: got %v, want UNAVAILABLE from the client's transport (the connection dropped)", run, err)
	}
}

// TestFaultsAfterMessagesDeliverDueAcks: with immediate acks and a fault
// after N messages, the client has received the ack for message N-1 (every
// stored message acked) before the RPC ends, on every run, whether the
// fault ends it with a status (written after the acks on the same stream)
// or drops its connection (the server lets the queued acks be written
// first). The client sends 2N messages without waiting, so the messages
// after the N-th are in flight when the fault fires and are not stored.
func TestFaultsAfterMessagesDeliverDueAcks(t *testing.T) {
	const after, sent = 5, 10
	tests := []struct {
		kind zerobuslocal.FaultKind
		tls  bool
		end  func(t *testing.T, run int, err error)
	}{
		{zerobuslocal.FaultDropConnection, false, wantDropped},
		{zerobuslocal.FaultDropConnection, true, wantDropped}, // the conn under TLS counts TLS records
		{zerobuslocal.FaultError, false, func(t *testing.T, run int, err error) {
			t.Helper()
			if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "injected") {
				t.Fatalf("run %d: end: got %v, want the injected UNAVAILABLE", run, err)
			}
		}},
		{zerobuslocal.FaultEndStream, false, func(t *testing.T, run int, err error) {
			t.Helper()
			if !errors.Is(err, io.EOF) {
				t.Fatalf("run %d: end: got %v, want a clean end", run, err)
			}
		}},
		{zerobuslocal.FaultExpireToken, false, func(t *testing.T, run int, err error) {
			t.Helper()
			if status.Code(err) != codes.Unauthenticated {
				t.Fatalf("run %d: end: got %v, want UNAUTHENTICATED", run, err)
			}
		}},
	}
	for _, tc := range tests {
		name := string(tc.kind)
		if tc.tls {
			name += " over TLS"
		}
		t.Run(name, func(t *testing.T) {
			s := start(t, zerobuslocal.Options{TLS: tc.tls})
			if err := s.InjectFault(testTable, zerobuslocal.Fault{Kind: tc.kind, AfterMessages: after, Persistent: true}); err != nil {
				t.Fatal(err)
			}
			rec := encode(t, event(t, 1, ""))
			short := 0
			for run := range dropRuns {
				before := s.RecordCount(testTable)
				st, err := tryCreate(t, s, token(t, s, testTable), testTable) // expire_token revokes each
				if err != nil {
					t.Fatalf("run %d: create: %v", run, err)
				}
				for off := range int64(sent) {
					if err := st.c.Send(recordReq(off, rec)); err != nil {
						break // io.EOF: the RPC ended; Recv says how
					}
				}
				acked := int64(-1)
				for {
					m, err := st.c.Recv()
					if err != nil {
						tc.end(t, run, err)
						break
					}
					a := m.GetIngestRecordResponse()
					if a == nil || a.DurabilityAckUpToOffset == nil || a.GetDurabilityAckUpToOffset() <= acked {
						t.Fatalf("run %d: got %v, want an ack past offset %d", run, m, acked)
					}
					acked = a.GetDurabilityAckUpToOffset()
				}
				st.cancel()
				stored := s.RecordCount(testTable) - before
				if stored != after {
					t.Fatalf("run %d: stored %d records, want %d (the fault fires after %d messages)", run, stored, after, after)
				}
				if acked+1 != int64(stored) {
					short++
					t.Errorf("run %d: acked up to offset %d (%d records), the server stored %d", run, acked, acked+1, stored)
				}
			}
			if short > 0 {
				t.Errorf("%d of %d runs lost acks of stored messages to the fault", short, dropRuns)
			}
		})
	}
}

// TestFlightDropConnectionDeliversDueAcks is the same for Arrow Flight
// DoPut: every stored batch's PutResult arrives before the drop.
func TestFlightDropConnectionDeliversDueAcks(t *testing.T) {
	const after, sent, rows = 5, 10, 3
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	if err := s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: after, Persistent: true}); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, testTable)
	batch := flightRows(t, 0, rows)
	defer batch.Release()
	short := 0
	for run := range dropRuns {
		before := s.RecordCount(testTable)
		f := openFlight(t, s, tok, testTable)
		f.sendSchema(flightSchema)
		f.expect(-1, 0) // READY
		for off := range sent {
			if err := f.sendBatch(batch, `{"offset_id": `+strconv.Itoa(off)+`}`); err != nil {
				break
			}
		}
		ackedOff, ackedRecs := int64(-1), int64(0)
		for {
			a, _, err := f.recv()
			if err != nil {
				wantDropped(t, run, err)
				break
			}
			if a.AckUpToOffset <= ackedOff || a.AckUpToRecords != (a.AckUpToOffset+1)*rows {
				t.Fatalf("run %d: got ack %+v after offset %d, want a later offset with %d records per batch", run, a, ackedOff, rows)
			}
			ackedOff, ackedRecs = a.AckUpToOffset, a.AckUpToRecords
		}
		stored := s.RecordCount(testTable) - before
		if stored != after*rows {
			t.Fatalf("run %d: stored %d rows, want %d (the fault fires after %d batches)", run, stored, after*rows, after)
		}
		if ackedRecs != int64(stored) {
			short++
			t.Errorf("run %d: acked up to offset %d (%d rows), the server stored %d", run, ackedOff, ackedRecs, stored)
		}
	}
	if short > 0 {
		t.Errorf("%d of %d runs lost acks of stored batches to the drop", short, dropRuns)
	}
}

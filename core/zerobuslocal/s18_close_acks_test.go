package zerobuslocal_test

import (
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// s18 sdkconf M1: a stream the server ends at its lifetime acknowledges
// everything it stored before it ends, however long the ack policy delays
// acks; before, the delayed acks were dropped and a client re-sent stored
// rows on its next stream (the official SDK stored 282 rows of 250).
func TestGracefulEndAcksStoredRequests(t *testing.T) {
	opts := zerobuslocal.Options{StreamLifetime: 600 * time.Millisecond, StreamCloseGrace: 200 * time.Millisecond,
		AckPolicy: zerobuslocal.DelayedAcks(time.Hour, 0)}
	s := start(t, opts)
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, testTable)
	desc, _ := s.TableDescriptor(testTable)
	st := openStream(t, dial(t, s), tok, testTable)
	st.create(testTable, desc, zerobuspb.RecordType_PROTO)
	for off := int64(0); off < 3; off++ {
		st.send(recordReq(off, encode(t, event(t, off, "x"))))
	}
	var sig, ack bool
	var upTo int64 = -1
	for {
		m, err := st.c.Recv()
		if err != nil {
			if !sig {
				t.Fatalf("stream ended (%v) without a CloseStreamSignal", err)
			}
			if err.Error() != "EOF" {
				t.Fatalf("end: %v, want a clean end", err)
			}
			break
		}
		if m.GetCloseStreamSignal() != nil {
			sig = true
		}
		if a := m.GetIngestRecordResponse(); a != nil {
			ack, upTo = true, a.GetDurabilityAckUpToOffset()
		}
	}
	if !ack || upTo != 2 {
		t.Fatalf("acked %v up to %d before the end, want every stored request (up to 2)", ack, upTo)
	}
	if n := len(s.Rows(testTable)); n != 3 {
		t.Fatalf("stored %d rows, want 3", n)
	}

	// Arrow Flight: the same end acknowledges the stored batch.
	f := openFlight(t, s, tok, testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	rec := flightRows(t, 10, 5)
	defer rec.Release()
	f.send(rec, 0)
	var got int64 = -1
	for {
		a, _, err := f.recv()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("Flight end: %v", err)
			}
			break
		}
		if a.AckUpToOffset >= 0 {
			got = a.AckUpToOffset
		}
	}
	if got != 0 {
		t.Fatalf("Flight: acked up to %d before the end, want 0", got)
	}
}

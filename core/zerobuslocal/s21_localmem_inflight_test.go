package zerobuslocal_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// waitUntil polls cond; the deadline only turns a hang into a failure.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: gave up", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestRequestsWaitForTheInflightBudget: with the server's in-flight budget
// taken, a PROTO stream and a Flight stream that send batches are held at
// their admission: each gets at most the one request its idle read was
// already waiting for (an idle stream holds no reservation), and reads
// nothing more (before, each stream's receive goroutine read up to 16
// requests ahead of its handler, whatever the server already held); once
// the budget is back, every row is stored and acknowledged, and the budget
// is all given back when the streams end.
func TestRequestsWaitForTheInflightBudget(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const flightTable = "main.default.flight_budget"
	if err := s.CreateTableColumns(flightTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	cc := dial(t, s)
	st := openStream(t, cc, token(t, s, testTable), testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	f := openFlight(t, s, token(t, s, flightTable), flightTable)
	f.sendSchema(flightSchema)
	if _, _, err := f.recv(); err != nil {
		t.Fatalf("READY: %v", err)
	}
	giveBack := zerobuslocal.FillInflight(s)
	returned := false
	defer func() {
		if !returned {
			giveBack()
		}
	}()
	before := s.Stats()

	const batches, perBatch = 6, 50
	sendDone := make(chan error, 2)
	go func() {
		for b := range batches {
			var recs [][]byte
			for i := range perBatch {
				recs = append(recs, encode(t, event(t, int64(b*perBatch+i), fmt.Sprintf("n%d", i))))
			}
			if err := st.c.Send(batchReq(int64(b), recs...)); err != nil {
				sendDone <- err
				return
			}
		}
		sendDone <- nil
	}()
	go func() {
		for b := range batches {
			rec := flightRows(t, b*perBatch, perBatch)
			err := f.sendBatch(rec, fmt.Sprintf(`{"offset_id": %d}`, b))
			rec.Release()
			if err != nil {
				sendDone <- fmt.Errorf("flight: %w (%v)", err, f.drain())
				return
			}
		}
		sendDone <- nil
	}()
	for range 2 {
		if err := <-sendDone; err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	waitUntil(t, "both streams' reads to wait for admission", func() bool { return zerobuslocal.InflightWaiters(s) == 2 })
	held := s.Stats()
	if got := held.MessagesReceived - before.MessagesReceived; got > 2 {
		t.Errorf("requests handled while the budget was taken: %d, want at most 2 (one per stream)", got)
	}
	if got := held.RecordsStored - before.RecordsStored; got > 2*perBatch {
		t.Errorf("records stored while the budget was taken: %d, want at most %d", got, 2*perBatch)
	}
	// One 50-row request is about 3 KB, the twelve about 36 KB.
	if got := held.BytesReceived - before.BytesReceived; got > 8192 {
		t.Errorf("request bytes read while the budget was taken: %d, want one request per stream's (< 8192)", got)
	}

	giveBack()
	returned = true
	ackUpTo(t, st, batches-1)
	for {
		a, _, err := f.recv()
		if err != nil {
			t.Fatalf("Flight acks: %v", err)
		}
		if a.AckUpToOffset == batches-1 {
			if a.AckUpToRecords != batches*perBatch {
				t.Fatalf("Flight ack of the last batch: %d records, want %d", a.AckUpToRecords, batches*perBatch)
			}
			break
		}
	}
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	_ = f.c.CloseSend()
	if err := f.drain(); err != nil {
		t.Fatal(err)
	}
	if got, got2 := s.RecordCount(testTable), s.RecordCount(flightTable); got != batches*perBatch || got2 != batches*perBatch {
		t.Fatalf("rows stored: %d and %d, want %d each", got, got2, batches*perBatch)
	}
	waitUntil(t, "the budget to be given back", func() bool { return zerobuslocal.InflightInUse(s) == 0 })
}

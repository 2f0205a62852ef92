package zerobuslocal_test

import (
	"bytes"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

type rowKey struct {
	ID     int64
	Offset int64
	Index  int
	Seq    int64
}

func rowKeys(t *testing.T, rows []zerobuslocal.Row) []rowKey {
	t.Helper()
	out := make([]rowKey, len(rows))
	for i, r := range rows {
		if r.Message == nil {
			t.Fatalf("row %d has no decoded message", i)
		}
		id := r.Message.Get(r.Message.Descriptor().Fields().ByName("id")).Int()
		out[i] = rowKey{id, r.Offset, r.Index, r.Seq}
	}
	return out
}

// TestStoredRowsAreExact: raw bytes, stream id, offsets, indexes and Seq of
// stored rows, for single records and batches, and the decoded messages.
func TestStoredRowsAreExact(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	st := openStream(t, cc, token(t, s, testTable), testTable)
	sid := st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	var sent [][]byte
	for i := range 4 {
		sent = append(sent, encode(t, event(t, int64(i), "n")))
	}
	st.send(recordReq(0, sent[0]))
	st.send(batchReq(1, sent[1:]...))
	st.send(batchReq(2)) // an empty batch stores nothing
	ackUpTo(t, st, 2)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	rows := s.Rows(testTable)
	want := []rowKey{{0, 0, 0, 1}, {1, 1, 0, 2}, {2, 1, 1, 3}, {3, 1, 2, 4}}
	if diff := cmp.Diff(want, rowKeys(t, rows)); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	for i, r := range rows {
		if !bytes.Equal(r.Raw, sent[i]) {
			t.Errorf("row %d Raw: got %x, want %x", i, r.Raw, sent[i])
		}
		if r.StreamID != sid || r.JSON {
			t.Errorf("row %d: StreamID %q JSON %v, want %q false", i, r.StreamID, r.JSON, sid)
		}
	}
	// Decoded once: a second call returns the same messages.
	again := s.Rows(testTable)
	for i := range rows {
		if again[i].Message != rows[i].Message {
			t.Errorf("row %d decoded twice", i)
		}
	}
}

// TestMaxStoredRows drops the oldest rows, across and inside stored
// messages, and counts them.
func TestMaxStoredRows(t *testing.T) {
	s := start(t, zerobuslocal.Options{MaxStoredRows: 5})
	cc := dial(t, s)
	st := openStream(t, cc, token(t, s, testTable), testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	id := int64(0)
	batch := func(n int) [][]byte {
		var out [][]byte
		for range n {
			out = append(out, encode(t, event(t, id, "")))
			id++
		}
		return out
	}
	st.send(batchReq(0, batch(3)...)) // ids 0-2
	st.send(batchReq(1, batch(1)...)) // id 3
	st.send(batchReq(2, batch(4)...)) // ids 4-7: 0-2 go
	ackUpTo(t, st, 2)
	if got := s.RecordCount(testTable); got != 5 {
		t.Fatalf("RecordCount: got %d, want 5", got)
	}
	want := []rowKey{{3, 1, 0, 4}, {4, 2, 0, 5}, {5, 2, 1, 6}, {6, 2, 2, 7}, {7, 2, 3, 8}}
	if diff := cmp.Diff(want, rowKeys(t, s.Rows(testTable))); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	st.send(batchReq(3, batch(2)...)) // ids 8-9: 3 and 4 go, splitting a message
	ackUpTo(t, st, 3)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	want = []rowKey{{5, 2, 1, 6}, {6, 2, 2, 7}, {7, 2, 3, 8}, {8, 3, 0, 9}, {9, 3, 1, 10}}
	if diff := cmp.Diff(want, rowKeys(t, s.Rows(testTable))); diff != "" {
		t.Errorf("rows after the second drop (-want +got):\n%s", diff)
	}
	if got := s.Stats().RowsDropped; got != 5 {
		t.Errorf("Stats.RowsDropped: got %d, want 5", got)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec, err := s.ArrowBatch(testTable, mem)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	ids := rec.Column(0).(*array.Int64).Int64Values()
	if diff := cmp.Diff([]int64{5, 6, 7, 8, 9}, ids); diff != "" {
		t.Errorf("ArrowBatch ids (-want +got):\n%s", diff)
	}
}

// TestConcurrentReadsDuringIngest reads rows (first decoding included) from
// several goroutines while a stream writes; run with -race.
func TestConcurrentReadsDuringIngest(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	st := openStream(t, cc, token(t, s, testTable), testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	const msgs, per = 40, 25
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var once sync.Once
	halt := func() { once.Do(func() { close(stop); wg.Wait() }) }
	defer halt()
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				select {
				case <-stop:
					return
				default:
				}
				rows := s.Rows(testTable)
				for j, r := range rows {
					if got := r.Message.Get(r.Message.Descriptor().Fields().ByName("id")).Int(); got != int64(j) {
						t.Errorf("row %d has id %d", j, got)
						return
					}
				}
				if rec, err := s.ArrowBatch(testTable, nil); err == nil {
					rec.Release()
				}
			}
		}()
	}
	for m := range msgs {
		recs := make([][]byte, per)
		for i := range recs {
			recs[i] = encode(t, event(t, int64(m*per+i), "x"))
		}
		st.send(batchReq(int64(m), recs...))
	}
	ackUpTo(t, st, msgs-1)
	halt()
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	if got := len(s.Rows(testTable)); got != msgs*per {
		t.Errorf("rows: got %d, want %d", got, msgs*per)
	}
}

// ackUpTo reads responses until an ack covering offset want arrives.
func ackUpTo(t *testing.T, st *stream, want int64) {
	t.Helper()
	for i := 0; i < 10_000; i++ {
		m := st.recv()
		ack := m.GetIngestRecordResponse()
		if ack == nil {
			t.Fatalf("response: got %v, want an ack", m)
		}
		if got := ack.GetDurabilityAckUpToOffset(); got >= want {
			if got != want {
				t.Fatalf("ack up to %d, want %d", got, want)
			}
			return
		}
	}
	t.Fatalf("no ack up to %d", want)
}

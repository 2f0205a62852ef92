package zerobuslocal_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

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
	// Not cached on the server: a second call decodes the same values into
	// messages of its own.
	again := s.Rows(testTable)
	for i := range rows {
		if again[i].Message == rows[i].Message || !proto.Equal(again[i].Message, rows[i].Message) {
			t.Errorf("row %d: second Rows gave message %p (%v), first %p (%v); want an equal, distinct message",
				i, again[i].Message, again[i].Message, rows[i].Message, rows[i].Message)
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

// TestMaxStoredRowsAcrossTables: the bound holds for all tables together,
// the oldest rows of the server go first whatever their table (including a
// Flight table), evictions are counted per table (RecordCount + evicted =
// received, also in the inspection API), and a dropped table's rows leave
// the count.
func TestMaxStoredRowsAcrossTables(t *testing.T) {
	const limit, tables, rounds = 100, 12, 5
	s := start(t, zerobuslocal.Options{MaxStoredRows: limit})
	cc := dial(t, s)
	name := func(k int) string { return fmt.Sprintf("main.default.t%02d", k) }
	streams := make([]*stream, tables)
	for k := range tables {
		streams[k] = openStream(t, cc, token(t, s, name(k)), name(k))
		streams[k].create(name(k), eventsDesc(), zerobuspb.RecordType_PROTO)
	}
	// A Flight table takes part too.
	const flightTable = "main.default.flight"
	if err := s.CreateTableColumns(flightTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	fs := openFlight(t, s, token(t, s, flightTable), flightTable)
	fs.sendSchema(flightSchema)
	fs.expect(-1, 0)

	received := map[string]int{}
	id := int64(0)
	for round := range rounds {
		for k := range tables {
			// Uneven sizes: 1..7 rows per message.
			n := 1 + (k+round)%7
			var recs [][]byte
			for range n {
				recs = append(recs, encode(t, event(t, id, "x")))
				id++
			}
			streams[k].send(batchReq(int64(round), recs...))
			ackUpTo(t, streams[k], int64(round))
			received[name(k)] += n
			checkTotal(t, s, limit)
		}
		rec := flightRows(t, round*10, 10)
		fs.send(rec, round)
		rec.Release()
		fs.expect(int64(round), int64(10*(round+1)))
		received[flightTable] += 10
		checkTotal(t, s, limit)
	}

	// Exactly the newest `limit` rows of the server are kept.
	var seqs []int64
	total := 0
	for tbl, n := range received {
		rows := s.Rows(tbl)
		for _, r := range rows {
			seqs = append(seqs, r.Seq)
		}
		stored, evicted := s.RecordCount(tbl), s.EvictedCount(tbl)
		if stored != len(rows) || stored+int(evicted) != n {
			t.Errorf("%s: RecordCount %d (%d rows) + EvictedCount %d, want %d received", tbl, stored, len(rows), evicted, n)
		}
		total += n
	}
	slices.Sort(seqs)
	if len(seqs) != limit || seqs[0] != int64(total-limit+1) || seqs[limit-1] != int64(total) {
		t.Errorf("kept %d rows, Seq %d..%d; want the newest %d of %d", len(seqs), seqs[0], seqs[len(seqs)-1], limit, total)
	}
	if got := s.Stats().RowsDropped; got != int64(total-limit) {
		t.Errorf("Stats.RowsDropped: got %d, want %d", got, total-limit)
	}
	// The oldest tables lost everything; the inspection API says so.
	code, body := httpDo(t, nil, "GET", s.WorkspaceURL()+zerobuslocal.InspectPrefix+"/tables/"+name(0), nil)
	var ti zerobuslocal.TableInfo
	if err := json.Unmarshal(body, &ti); code != 200 || err != nil {
		t.Fatalf("GET table: %d %v %s", code, err, body)
	}
	if ti.RecordCount+int(ti.RowsEvicted) != received[name(0)] || ti.RowsEvicted != s.EvictedCount(name(0)) || ti.RowsEvicted == 0 {
		t.Errorf("table info %+v: want record_count + rows_evicted = %d, rows_evicted %d", ti, received[name(0)], s.EvictedCount(name(0)))
	}

	// Dropping a table frees its share: the next rows evict nothing.
	flightRowsKept := s.RecordCount(flightTable)
	if flightRowsKept == 0 || !s.DropTable(flightTable) {
		t.Fatalf("flight table: %d rows kept", flightRowsKept)
	}
	dropped := s.Stats().RowsDropped
	var recs [][]byte
	for range flightRowsKept {
		recs = append(recs, encode(t, event(t, id, "y")))
		id++
	}
	streams[0].send(batchReq(rounds, recs...))
	ackUpTo(t, streams[0], rounds)
	if got := s.Stats().RowsDropped; got != dropped {
		t.Errorf("after DropTable, %d more rows dropped, want 0", got-dropped)
	}
	checkTotal(t, s, limit)
	if err := fs.c.CloseSend(); err != nil {
		t.Fatal(err)
	}
	for _, st := range streams {
		if err := st.finish(); err != nil {
			t.Fatal(err)
		}
	}
}

// checkTotal checks the rows of all tables together are within limit.
func checkTotal(t *testing.T, s *zerobuslocal.Server, limit int) {
	t.Helper()
	total := 0
	for _, tbl := range s.Tables() {
		total += s.RecordCount(tbl)
	}
	if total > limit {
		t.Fatalf("%d rows stored across tables, over MaxStoredRows %d", total, limit)
	}
}

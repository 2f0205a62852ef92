package zerobuslocal_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestIngestRejections: after one good message at offset 0, each bad
// message ends the RPC with INVALID_ARGUMENT and stores nothing more.
func TestIngestRejections(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	tok := token(t, s, testTable)
	good := encode(t, event(t, 1, "ok"))
	noID := protowire.AppendString(protowire.AppendTag(nil, 2, protowire.BytesType), "no id")
	unknown := protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), good...), 42, protowire.VarintType), 1)

	tests := []struct {
		name   string
		msg    *req
		substr string
	}{
		{"offset repeats", recordReq(0, good), "offset_id 0, want 1"},
		{"offset skips", recordReq(2, good), "offset_id 2, want 1"},
		{"offset missing", &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{Record: &zerobuspb.IngestRecordRequest_ProtoEncodedRecord{ProtoEncodedRecord: good}}}}, "has no offset_id"},
		{"create twice", createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO), "create_stream sent twice"},
		{"empty message", &req{}, "empty request message"},
		{"no record", &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{OffsetId: proto.Int64(1)}}}, "has no record"},
		{"json record on proto stream", jsonReq(1, `{"id":1}`), "carries JSON records on a PROTO stream"},
		{"undecodable record", recordReq(1, []byte{0xff, 0xff}), "record 0 of 1: cannot decode"},
		{"missing required field", recordReq(1, noID), `record 0 of 1: column "id": null in a NOT NULL column`},
		{"unknown field number", recordReq(1, unknown), "field number 42 is not in the stream's descriptor Events"},
		{"one bad record in a batch", batchReq(1, good, good, []byte{0x08}), "record 2 of 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			table := fmt.Sprintf("main.ingest.t%d", len(s.Tables()))
			tok = token(t, s, table)
			st := openStream(t, cc, tok, table)
			st.create(table, eventsDesc(), zerobuspb.RecordType_PROTO)
			st.send(recordReq(0, good))
			st.expectAck(0)
			st.send(tc.msg)
			err := st.drain()
			wantStatus(t, err, codes.InvalidArgument, tc.substr)
			if got := s.RecordCount(table); got != 1 {
				t.Errorf("RecordCount: got %d, want 1 (nothing from the bad message)", got)
			}
		})
	}
}

func TestJSONStreams(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)

	t.Run("raw table", func(t *testing.T) {
		table := "main.json.raw"
		st := openStream(t, cc, token(t, s, table), table)
		st.create(table, nil, zerobuspb.RecordType_JSON)
		st.send(jsonReq(0, `{"a": 1}`))
		st.send(jsonReq(1, `{"b": "x"}`, `{"c": [1,2]}`))
		st.expectAck(0)
		st.expectAck(1)
		st.send(jsonReq(2, `[1,2]`)) // not an object
		wantStatus(t, st.drain(), codes.InvalidArgument, "record 0 of 1 is a JSON array; each record must be a JSON object")
		var got []string
		for _, r := range s.Rows(table) {
			if r.Message != nil || !r.JSON {
				t.Errorf("row %d: got Message %v JSON %v, want raw JSON", r.Seq, r.Message, r.JSON)
			}
			got = append(got, string(r.Raw))
		}
		if want := []string{`{"a": 1}`, `{"b": "x"}`, `{"c": [1,2]}`}; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("rows: got %q, want %q", got, want)
		}
		if _, err := s.ArrowBatch(table, nil); err == nil {
			t.Error("ArrowBatch of a raw JSON table: got nil error")
		}
	})

	t.Run("table with schema", func(t *testing.T) {
		table := "main.json.typed"
		if err := s.CreateTable(table, eventsDesc()); err != nil {
			t.Fatal(err)
		}
		st := openStream(t, cc, token(t, s, table), table)
		st.create(table, nil, zerobuspb.RecordType_JSON)
		st.send(jsonReq(0, `{"id": "5", "name": "five", "tags": ["a"], "attrs": {"k": 3}, "loc": {"lat": 1.5}}`, `{"id": 6}`))
		st.expectAck(0)
		st.send(jsonReq(1, `{"name": "no id"}`))
		wantStatus(t, st.drain(), codes.InvalidArgument, `column "id": null in a NOT NULL column`)
		rows := s.Rows(table)
		if len(rows) != 2 {
			t.Fatalf("rows: got %d, want 2", len(rows))
		}
		m := rows[0].Message
		if got := m.Get(m.Descriptor().Fields().ByName("id")).Int(); got != 5 {
			t.Errorf("row 0 id: got %d, want 5", got)
		}
		rec, err := s.ArrowBatch(table, nil)
		if err != nil {
			t.Fatalf("ArrowBatch: %v", err)
		}
		defer rec.Release()
		if rec.NumRows() != 2 || rec.Column(1).ValueStr(0) != "five" || !rec.Column(1).IsNull(1) {
			t.Errorf("ArrowBatch: got %v", rec)
		}
	})
}

// readAcks reads responses until an ack for want arrives and returns every
// acked offset seen.
func (s *stream) readAcks(want int64) []int64 {
	s.t.Helper()
	var got []int64
	for i := 0; i < 10_000; i++ {
		m := s.recv()
		ack := m.GetIngestRecordResponse()
		if ack == nil {
			s.t.Fatalf("response: got %v, want an ack", m)
		}
		got = append(got, ack.GetDurabilityAckUpToOffset())
		if ack.GetDurabilityAckUpToOffset() >= want {
			return got
		}
	}
	s.t.Fatalf("no ack for %d", want)
	return nil
}

func TestAckPolicies(t *testing.T) {
	tests := []struct {
		name     string
		policy   zerobuslocal.AckPolicy
		messages int
		// exact, if non-nil, is the exact ack sequence expected.
		exact []int64
	}{
		{"immediate", zerobuslocal.ImmediateAcks(), 5, []int64{0, 1, 2, 3, 4}},
		{"every 3", zerobuslocal.CoalescedAcks(3, time.Hour), 9, []int64{2, 5, 8}},
		{"every 4 with tail interval", zerobuslocal.CoalescedAcks(4, 20*time.Millisecond), 6, nil},
		{"interval only", zerobuslocal.CoalescedAcks(0, 20*time.Millisecond), 6, nil},
		{"delayed", zerobuslocal.DelayedAcks(20*time.Millisecond, 0), 5, nil},
		{"delayed with jitter", zerobuslocal.DelayedAcks(5*time.Millisecond, 30*time.Millisecond), 20, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, zerobuslocal.Options{AckPolicy: zerobuslocal.AckPolicy{Every: 1000}}) // overridden per table below
			s.SetAckPolicy(testTable, tc.policy)
			cc := dial(t, s)
			st := openStream(t, cc, token(t, s, testTable), testTable)
			st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
			rec := encode(t, event(t, 1, "x"))
			for i := 0; i < tc.messages; i++ {
				st.send(recordReq(int64(i), rec))
			}
			got := st.readAcks(int64(tc.messages - 1))
			if tc.exact != nil && fmt.Sprint(got) != fmt.Sprint(tc.exact) {
				t.Errorf("acks: got %v, want %v", got, tc.exact)
			}
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Errorf("acks not strictly increasing: %v", got)
				}
			}
			if got[len(got)-1] != int64(tc.messages-1) {
				t.Errorf("last ack: got %d, want %d", got[len(got)-1], tc.messages-1)
			}
			if err := st.finish(); err != nil {
				t.Fatalf("finish: %v", err)
			}
			if n := s.Stats().AcksSent; n != int64(len(got)) {
				t.Errorf("Stats.AcksSent: got %d, want %d", n, len(got))
			}
		})
	}
}

// TestHalfCloseWaitsForDelayedAcks: the client half-closes with acks still
// pending; the server sends them before ending the RPC cleanly.
func TestHalfCloseWaitsForDelayedAcks(t *testing.T) {
	s := start(t, zerobuslocal.Options{AckPolicy: zerobuslocal.DelayedAcks(30*time.Millisecond, 0)})
	cc := dial(t, s)
	st := openStream(t, cc, token(t, s, testTable), testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	for i := 0; i < 3; i++ {
		st.send(recordReq(int64(i), encode(t, event(t, int64(i), ""))))
	}
	if err := st.c.CloseSend(); err != nil {
		t.Fatal(err)
	}
	got := st.readAcks(2)
	if got[len(got)-1] != 2 {
		t.Errorf("acks: got %v, want the last to be 2", got)
	}
	if err := st.drain(); err != nil {
		t.Errorf("end: got %v, want clean", err)
	}
}

func TestConcurrentStreams(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	const streams, msgs = 4, 50
	tables := []string{"main.c.a", "main.c.b"}
	tokens := map[string]string{}
	for _, tb := range tables {
		tokens[tb] = token(t, s, tb)
	}
	var wg sync.WaitGroup
	errs := make(chan error, streams)
	for g := 0; g < streams; g++ {
		table := tables[g%2]
		st := openStream(t, cc, tokens[table], table)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				if err := st.c.Send(createReq(table, eventsDesc(), zerobuspb.RecordType_PROTO)); err != nil {
					return err
				}
				if _, err := st.c.Recv(); err != nil {
					return err
				}
				for i := 0; i < msgs; i++ {
					b, _ := proto.Marshal(event(t, int64(g*1000+i), ""))
					if err := st.c.Send(recordReq(int64(i), b)); err != nil {
						return err
					}
				}
				for {
					m, err := st.c.Recv()
					if err != nil {
						return err
					}
					if m.GetIngestRecordResponse().GetDurabilityAckUpToOffset() == msgs-1 {
						return st.c.CloseSend()
					}
				}
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, tb := range tables {
		rows := s.Rows(tb)
		if len(rows) != streams/2*msgs {
			t.Errorf("%s: got %d rows, want %d", tb, len(rows), streams/2*msgs)
		}
		next := map[string]int64{}
		for _, r := range rows {
			if r.Offset != next[r.StreamID] {
				t.Fatalf("%s stream %s: row offset %d, want %d (per-stream FIFO)", tb, r.StreamID, r.Offset, next[r.StreamID])
			}
			next[r.StreamID]++
		}
	}
	if got := s.Stats().RecordsStored; got != streams*msgs {
		t.Errorf("RecordsStored: got %d, want %d", got, streams*msgs)
	}
}

// The cap counts record bytes (framing excluded) and an oversize request
// is INVALID_ARGUMENT "Batch size exceeds maximum allowed size", as the
// service answers (not gRPC's retryable RESOURCE_EXHAUSTED).
func TestMaxMessageBytes(t *testing.T) {
	s := start(t, zerobuslocal.Options{MaxMessageBytes: 1024})
	cc := dial(t, s)
	// Two records of exactly 512 bytes: 1024 bytes of records, more on the wire.
	var half []byte
	for l := 400; len(half) != 512; l++ {
		half = encode(t, event(t, 1, strings.Repeat("x", l)))
	}
	st := openStream(t, cc, token(t, s, testTable), testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	st.send(batchReq(0, half, half))
	st.expectAck(0)
	st.send(batchReq(1, half, half, []byte{0x08, 0x02}))
	wantStatus(t, st.drain(), codes.InvalidArgument, "Batch size exceeds maximum allowed size: ingest_record_batch at offset 1 has 1026 bytes of records, the limit is 1024")
	if got := s.RecordCount(testTable); got != 2 {
		t.Errorf("RecordCount: got %d, want 2", got)
	}

	st = openStream(t, cc, token(t, s, testTable), testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	st.send(recordReq(0, encode(t, event(t, 1, string(make([]byte, 2048))))))
	wantStatus(t, st.drain(), codes.InvalidArgument, "Batch size exceeds maximum allowed size")
}

func TestWaitFor(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	st := openStream(t, cc, token(t, s, testTable), testTable)
	id := st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	// Already recorded events are found.
	ev, err := s.WaitFor(ctxT(t), func(e zerobuslocal.Event) bool { return e.Kind == zerobuslocal.EventStreamCreated })
	if err != nil || ev.StreamID != id || ev.Table != testTable {
		t.Fatalf("WaitFor(stream_created): got %+v %v, want stream %s", ev, err, id)
	}
	// Future events wake the waiter.
	done := make(chan error, 1)
	go func() {
		done <- s.WaitForCount(ctxT(t), 3, func(e zerobuslocal.Event) bool { return e.Kind == zerobuslocal.EventMessageStored })
	}()
	for i := 0; i < 3; i++ {
		st.send(recordReq(int64(i), encode(t, event(t, 1, ""))))
	}
	if err := <-done; err != nil {
		t.Fatalf("WaitForCount: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.WaitFor(ctx, func(zerobuslocal.Event) bool { return false }); err != context.Canceled {
		t.Errorf("WaitFor with cancelled ctx: got %v, want context.Canceled", err)
	}
	var seqs []int64
	for _, e := range s.Events() {
		seqs = append(seqs, e.Seq)
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			t.Fatalf("event seqs not consecutive: %v", seqs)
		}
	}
}

package zerobuslocal_test

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

func TestHappyPathProto(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	st := openStream(t, cc, token(t, s, testTable), testTable)
	id := st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)

	want := []proto.Message{event(t, 1, "a"), event(t, 2, ""), event(t, 3, "c"), event(t, 4, "d"), event(t, 5, "e")}
	st.send(recordReq(0, encode(t, want[0])))
	st.expectAck(0)
	st.send(recordReq(1, encode(t, want[1])))
	st.send(batchReq(2, encode(t, want[2]), encode(t, want[3]), encode(t, want[4])))
	st.expectAck(1)
	st.expectAck(2)
	if err := st.finish(); err != nil {
		t.Fatalf("end of stream: got %v, want clean end", err)
	}

	rows := s.Rows(testTable)
	if got := len(rows); got != len(want) {
		t.Fatalf("rows: got %d, want %d", got, len(want))
	}
	var got []proto.Message
	for i, r := range rows {
		got = append(got, r.Message)
		wantOff := []int64{0, 1, 2, 2, 2}[i]
		wantIdx := []int{0, 0, 0, 1, 2}[i]
		if r.StreamID != id || r.Offset != wantOff || r.Index != wantIdx || r.Seq != int64(i+1) || r.JSON {
			t.Errorf("row %d: got stream %q offset %d index %d seq %d json %v, want %q %d %d %d false", i, r.StreamID, r.Offset, r.Index, r.Seq, r.JSON, id, wantOff, wantIdx, i+1)
		}
	}
	if diff := cmp.Diff(want, got, protocmp.Transform()); diff != "" {
		t.Errorf("stored messages (-want +got):\n%s", diff)
	}
	if got := s.RecordCount(testTable); got != 5 {
		t.Errorf("RecordCount: got %d, want 5", got)
	}

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec, err := s.ArrowBatch(testTable, mem)
	if err != nil {
		t.Fatalf("ArrowBatch: %v", err)
	}
	defer rec.Release()
	if rec.NumRows() != 5 {
		t.Fatalf("ArrowBatch rows: got %d, want 5", rec.NumRows())
	}
	ids := rec.Column(0).(*array.Int64)
	names := rec.Column(1).(*array.String)
	for i := 0; i < 5; i++ {
		if ids.Value(i) != int64(i+1) {
			t.Errorf("id[%d]: got %d, want %d", i, ids.Value(i), i+1)
		}
	}
	if !names.IsNull(1) || names.Value(2) != "c" {
		t.Errorf("names: got %v, want null at 1 and c at 2", names)
	}

	stats := s.Stats()
	// Uncompressed: as many bytes on the wire as in the messages.
	if stats.BytesReceived <= 0 || stats.WireBytesReceived != stats.BytesReceived {
		t.Errorf("bytes received %d, on the wire %d: want equal and positive", stats.BytesReceived, stats.WireBytesReceived)
	}
	wantStats := zerobuslocal.Stats{TokensIssued: 1, StreamsCreated: 1, StreamsEnded: 1, MessagesReceived: 4, RecordsStored: 5, AcksSent: 3,
		BytesReceived: stats.BytesReceived, WireBytesReceived: stats.WireBytesReceived}
	if diff := cmp.Diff(wantStats, stats); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

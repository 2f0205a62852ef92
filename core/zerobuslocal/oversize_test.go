package zerobuslocal_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Over a small cap, a request far bigger than 2 × cap + 1 MiB (what gRPC's
// receive limit used to be) still reaches the cap check: INVALID_ARGUMENT
// naming its record bytes and the limit, never gRPC's retryable
// RESOURCE_EXHAUSTED.
func TestOversizeFarOverCapIsInvalidArgument(t *testing.T) {
	s := start(t, zerobuslocal.Options{MaxMessageBytes: 64 << 10})
	cc := dial(t, s)
	big := encode(t, event(t, 1, strings.Repeat("x", 4<<20)))

	st := openStream(t, cc, token(t, s, testTable), testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	st.send(batchReq(0, big))
	wantStatus(t, st.drain(), codes.InvalidArgument, fmt.Sprintf(
		"Batch size exceeds maximum allowed size: ingest_record_batch at offset 0 has %d bytes of records, the limit is 65536", len(big)))
	// As big as the official clients' requests get (10 MiB − 64 KiB of records).
	st = openStream(t, cc, token(t, s, testTable), testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	st.send(batchReq(0, big, big[:len(big)-64<<10]))
	wantStatus(t, st.drain(), codes.InvalidArgument, "the limit is 65536")
	if got := s.RecordCount(testTable); got != 0 {
		t.Errorf("RecordCount: got %d, want 0", got)
	}
}

// Many empty records: 0 record bytes, framing over 1 MiB. The cap counts
// record bytes only, so they are stored.
func TestEmptyRecordsFramingNotCounted(t *testing.T) {
	s := start(t, zerobuslocal.Options{MaxMessageBytes: 64 << 10})
	table := "main.default.allnull"
	desc := &descriptorpb.DescriptorProto{Name: proto.String("T"), Field: []*descriptorpb.FieldDescriptorProto{
		{Name: proto.String("a"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()},
	}}
	st := openStream(t, dial(t, s), token(t, s, table), table)
	st.create(table, desc, zerobuspb.RecordType_PROTO)
	recs := make([][]byte, 700_000)
	for i := range recs {
		recs[i] = []byte{}
	}
	st.send(batchReq(0, recs...))
	st.expectAck(0)
	if got := s.RecordCount(table); got != len(recs) {
		t.Errorf("RecordCount: got %d, want %d", got, len(recs))
	}
}

func TestFlightOversizeFarOverCapIsInvalidArgument(t *testing.T) {
	s := start(t, zerobuslocal.Options{MaxMessageBytes: 64 << 10, DisableAutoCreate: true})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, testTable)
	oneRow := func(nameBytes int) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, flightSchema)
		defer b.Release()
		b.Field(0).(*array.Int64Builder).Append(1)
		b.Field(1).(*array.LargeStringBuilder).Append(strings.Repeat("x", nameBytes))
		for i := 2; i < 5; i++ {
			b.Field(i).AppendNull()
		}
		return b.NewRecordBatch()
	}
	for _, tc := range []struct {
		name      string
		nameBytes int
		want      string
	}{
		{"over 2x cap + 1 MiB", 4 << 20, "Batch size exceeds maximum allowed size: batch at offset 0 has "},
		{"10 MiB", 10<<20 - 64<<10, "Batch size exceeds maximum allowed size: batch at offset 0 has "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := openFlight(t, s, tok, testTable)
			f.sendSchema(flightSchema)
			f.expect(-1, 0)
			rec := oneRow(tc.nameBytes)
			defer rec.Release()
			_ = f.sendBatch(rec, `{"offset_id": 0}`)
			err := f.drain()
			wantStatus(t, err, codes.InvalidArgument, tc.want)
			wantStatus(t, err, codes.InvalidArgument, "the limit is 65536")
		})
	}
	if got := s.RecordCount(testTable); got != 0 {
		t.Errorf("RecordCount: got %d, want 0", got)
	}
}

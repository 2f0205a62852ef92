package zerobuslocal_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A zstd-compressed batch whose first buffer declares more uncompressed
// bytes than its data holds (1 MiB for 16) ends the DoPut with
// INVALID_ARGUMENT before arrow-go allocates them: a declared TiB was a
// fatal out-of-memory that took down the whole process (zerobus local, or
// the Python process running LocalServer). The
// server goes on serving, compressed batches included.
func TestFlightCompressedBufferLength(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, testTable)
	f := openFlight(t, s, tok, testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	rec := flightRows(t, 0, 2)
	defer rec.Release()
	p, err := ipc.GetRecordBatchPayload(rec, ipc.WithZstd(), ipc.WithMinSpaceSavings(0))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Release()
	var body bytes.Buffer
	if err := p.SerializeBody(&body); err != nil {
		t.Fatal(err)
	}
	b := body.Bytes()
	// The ids' buffer (two int64s) starts with its uncompressed length, 16.
	at := bytes.Index(b, binary.LittleEndian.AppendUint64(nil, 16))
	if at < 0 {
		t.Fatal("no compressed buffer of 16 uncompressed bytes")
	}
	binary.LittleEndian.PutUint64(b[at:], 1<<20) // within the sum's bound (TestFlightCompressedBodyBomb), yet not what the data holds
	_ = f.c.Send(&flight.FlightData{DataHeader: p.Meta().Bytes(), DataBody: b, AppMetadata: []byte(`{"offset_id": 0}`)})
	wantStatus(t, f.drain(), codes.InvalidArgument, "declares 1048576 uncompressed bytes")

	f = openFlight(t, s, tok, testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	if err := f.sendBatch(rec, `{"offset_id": 0}`, ipc.WithZstd(), ipc.WithMinSpaceSavings(0)); err != nil {
		t.Fatal(err)
	}
	f.expect(0, 2)
	_ = f.c.CloseSend()
	if err := f.drain(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seq(0, 2), storedIDs(t, s, testTable)); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
}

// A small zstd body that really decompresses to far more than a message may
// hold (a batch of zeros: 200,000 rows, ~7 MiB, compressed to a few KiB) is
// refused before anything is decompressed: the guard bounds the declared
// uncompressed lengths' sum (16 × MaxMessageBytes), so a 32 KiB body cannot
// make the server allocate hundreds of GiB.
func TestFlightCompressedBodyBomb(t *testing.T) {
	s := start(t, zerobuslocal.Options{MaxMessageBytes: 64 << 10})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, testTable)
	const n = 200_000
	b := array.NewRecordBuilder(memory.DefaultAllocator, flightSchema)
	defer b.Release()
	for range n {
		b.Field(0).(*array.Int64Builder).Append(0)
		b.Field(1).AppendNull()
		b.Field(2).(*array.ListBuilder).Append(true)
		b.Field(3).(*array.TimestampBuilder).Append(0)
		b.Field(4).(*array.StructBuilder).Append(true)
		b.Field(4).(*array.StructBuilder).FieldBuilder(0).(*array.Float64Builder).Append(0)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	f := openFlight(t, s, tok, testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	if err := f.sendBatch(rec, `{"offset_id": 0}`, ipc.WithZstd(), ipc.WithMinSpaceSavings(0)); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, f.drain(), codes.InvalidArgument, "decompresses to more than 1048576 bytes, the local server's limit for one message (16 × max_message_bytes)")
	if got := len(s.Rows(testTable)); got != 0 {
		t.Fatalf("%d rows stored", got)
	}
}

package zerobuslocal_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A zstd-compressed batch whose first buffer declares 1 TiB of uncompressed
// bytes ends the DoPut with INVALID_ARGUMENT before arrow-go allocates
// them: that allocation was a fatal out-of-memory that took down the whole
// process (zerobus local, or the Python process running LocalServer). The
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
	binary.LittleEndian.PutUint64(b[at:], 1<<40)
	_ = f.c.Send(&flight.FlightData{DataHeader: p.Meta().Bytes(), DataBody: b, AppMetadata: []byte(`{"offset_id": 0}`)})
	wantStatus(t, f.drain(), codes.InvalidArgument, "declares 1099511627776 uncompressed bytes")

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

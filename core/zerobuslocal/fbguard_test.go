package zerobuslocal_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A record batch whose header places its buffers past the FlightData's
// body ends the DoPut with INVALID_ARGUMENT naming the body lengths, before
// arrow-go reads it; nothing is stored.
func TestFlightHeaderBodyPastFlightDataBody(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	hdr, body := batchMessage(t, 0, 3)
	f := openFlight(t, s, token(t, s, testTable), testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	short := body[:len(body)-8]
	if err := f.c.Send(&flight.FlightData{DataHeader: hdr, DataBody: short, AppMetadata: []byte(`{"offset_id": 0}`)}); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	wantStatus(t, f.drain(), codes.InvalidArgument, "malformed Arrow IPC message header: a body of")
	if n := len(storedIDs(t, s, testTable)); n != 0 {
		t.Fatalf("stored %d rows", n)
	}
}

// batchMessage is the IPC metadata and body of flightRows(first, n), as a
// FlightData carries them.
func batchMessage(t *testing.T, first, n int) (header, body []byte) {
	t.Helper()
	rec := flightRows(t, first, n)
	defer rec.Release()
	bp, err := ipc.GetRecordBatchPayload(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer bp.Release()
	var b bytes.Buffer
	if err := bp.SerializeBody(&b); err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(bp.Meta().Bytes()), b.Bytes()
}

package flightstream

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/protobuf/proto"
)

// TestPutCodecWire: putCodec writes a FlightData byte for byte as
// proto.Marshal does, with the IPC body by reference (not copied), and
// reads back what it wrote.
func TestPutCodecWire(t *testing.T) {
	body := bytes.Repeat([]byte{7, 1, 9}, 50_000)
	for _, fd := range []*flight.FlightData{
		{DataHeader: []byte("header"), DataBody: body, AppMetadata: []byte(`{"offset_id":12}`)},
		{DataBody: body[:1]},
		{DataHeader: []byte("h"), DataBody: body[:200]},
		{AppMetadata: []byte("m"), DataBody: body[:129]},
		{DataHeader: []byte("schema only")},                                                    // no body: the proto codec
		{FlightDescriptor: &flight.FlightDescriptor{Path: []string{"t"}}, DataBody: body[:10]}, // descriptor: the proto codec
	} {
		want, err := proto.Marshal(fd)
		if err != nil {
			t.Fatal(err)
		}
		got, err := doPutCodec.Marshal(fd)
		if err != nil {
			t.Fatal(err)
		}
		if m := got.Materialize(); !bytes.Equal(m, want) {
			t.Fatalf("%d bytes marshalled, want the %d of proto.Marshal (equal: false)", len(m), len(want))
		}
		if fd.FlightDescriptor == nil && len(fd.DataBody) > 0 {
			last := got[len(got)-1].ReadOnlyData()
			if &last[0] != &fd.DataBody[0] {
				t.Error("the body was copied, want it by reference")
			}
		}
		var back flight.FlightData
		if err := doPutCodec.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(&back, fd) {
			t.Fatalf("read back %v, want %v", &back, fd)
		}
		got.Free()
	}
}

package zerobuslocal

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/flight"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// maxUncompressedFactor bounds what a compressed Flight batch may
// decompress to, as a multiple of Options.MaxMessageBytes (which bounds
// its compressed body): 16, so 160 MiB by default, far above what a
// client's batch of a few MiB decompresses to, and far below the
// gigabytes a small body of zeros can.
const maxUncompressedFactor = 16

// arrow-go's IPC reader trusts the lengths inside the flatbuffer header of
// each message (a corrupt schema message can make it allocate gigabytes
// before failing). checkIPCHeader runs protoarrow's verifier (the one the
// command line checks its input files with) on a FlightData's header
// before the reader sees it; the body the header declares, and every
// buffer in it, must lie within the FlightData's body; a compressed body
// may declare at most maxUncompressedFactor × maxMessage bytes
// uncompressed. v carries the stream's schema to its batches.
func checkIPCHeader(v *protoarrow.IPCMessageVerifier, fd *flight.FlightData, maxMessage int) error {
	_, err := v.Verify(fd.DataHeader, "FlightData", int64(len(fd.DataBody)))
	if err == nil {
		err = v.VerifyBody(fd.DataBody, maxUncompressedFactor*int64(maxMessage))
	}
	if se := (*protoarrow.IPCDecodedSizeError)(nil); errors.As(err, &se) {
		return fmt.Errorf("%v, the local server's limit for one message (%d × max_message_bytes): send smaller batches", se, maxUncompressedFactor)
	}
	if me := (*protoarrow.IPCMetadataError)(nil); errors.As(err, &me) {
		return fmt.Errorf("malformed Arrow IPC message header: %s", me.Reason)
	}
	return err
}

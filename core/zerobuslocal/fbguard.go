package zerobuslocal

import (
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/flight"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// arrow-go's IPC reader trusts the lengths inside the flatbuffer header of
// each message (a corrupt schema message can make it allocate gigabytes
// before failing). checkIPCHeader runs protoarrow's verifier (the one the
// command line checks its input files with) on a FlightData's header
// before the reader sees it; the body the header declares, and every
// buffer in it, must lie within the FlightData's body. v carries the
// stream's schema to its batches.
func checkIPCHeader(v *protoarrow.IPCMessageVerifier, fd *flight.FlightData) error {
	_, err := v.Verify(fd.DataHeader, "FlightData", int64(len(fd.DataBody)))
	if err == nil {
		err = v.VerifyBody(fd.DataBody)
	}
	if me := (*protoarrow.IPCMetadataError)(nil); errors.As(err, &me) {
		return fmt.Errorf("malformed Arrow IPC message header: %s", me.Reason)
	}
	return err
}

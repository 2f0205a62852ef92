package pybind

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// ReadDebugFile reads a debug file written by a wrapper with debug output
// on and returns its rows as an Arrow IPC stream: a protobuf debug file
// (".proto", with its descriptor sidecar beside it) decoded with its
// descriptor into one batch; an Arrow debug file (".arrow") as written. A
// file cut short returns an error (the Python side reads Arrow files itself
// to keep the complete batches before the cut).
func ReadDebugFile(path string) ([]byte, error) {
	if strings.HasSuffix(path, ".proto") {
		rec, err := core.ReadDebugProtoFileArrow(path, memory.DefaultAllocator)
		if err != nil {
			return nil, errorOf(core.KindUnknown, "zerobus: %v", err)
		}
		defer rec.Release()
		return writeIPC(rec.Schema(), rec)
	}
	recs, err := core.ReadDebugArrowFile(path, memory.DefaultAllocator)
	defer releaseAll(recs)
	if err != nil {
		return nil, errorOf(core.KindUnknown, "zerobus: %v", err)
	}
	if len(recs) == 0 {
		return nil, errorOf(core.KindUnknown, "zerobus: debug file %q holds no record batch", path)
	}
	schema := recs[0].Schema()
	for i, r := range recs[1:] {
		if !r.Schema().Equal(schema) {
			return nil, errorOf(core.KindUnknown, "zerobus: debug file %q changes schema at batch %d", path, i+1)
		}
	}
	return writeIPC(schema, recs...)
}

//go:build cgo

package pybind

/*
#include <stdint.h>

static void* zb_debug_stream_addr(uintptr_t a) { return (void*)a; }
*/
import "C"

import (
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// ExportDebugFile opens the debug file at path (core.OpenDebugFile: an
// Arrow debug file, read a batch at a time, or a protobuf one, decoded with
// its descriptor sidecar) and exports its batches as an Arrow C stream into
// the ArrowArrayStream at addr (a struct the caller allocated, zeroed; the
// consumer imports it from there, e.g. pyarrow's
// RecordBatchReader._import_from_c, and releases it). The stream ends
// before any damage, without an error: the DebugReader returned says,
// once the stream has ended, whether damage ended it and how the file ends.
// A file that cannot be read at all (a descriptor sidecar, a protobuf file
// without its descriptor) is the error, naming the file.
func ExportDebugFile(path string, addr int64) (*DebugReader, error) {
	if addr == 0 {
		return nil, errorOf(core.KindUnknown, "zerobus: null ArrowArrayStream address")
	}
	r, err := core.OpenDebugFile(path, memory.DefaultAllocator)
	if err != nil {
		return nil, errorOf(core.KindUnknown, "zerobus: %v", err)
	}
	cdata.ExportRecordReader(r, (*cdata.CArrowArrayStream)(C.zb_debug_stream_addr(C.uintptr_t(addr))))
	r.Release() // the stream holds it now
	return &DebugReader{r: r}, nil
}

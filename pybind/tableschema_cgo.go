//go:build cgo

package pybind

/*
#include <stdint.h>

static void* zb_schema_stream_addr(uintptr_t a) { return (void*)a; }
*/
import "C"

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// exportSchemaStream exports an Arrow C stream of schema s and no batches
// into the ArrowArrayStream at addr.
func exportSchemaStream(s *arrow.Schema, addr int64) error {
	if addr == 0 {
		return errorOf(core.KindUnknown, "zerobus: null ArrowArrayStream address")
	}
	r, err := array.NewRecordReader(s, nil)
	if err != nil {
		return errorOf(core.KindUnknown, "zerobus: %v", err)
	}
	cdata.ExportRecordReader(r, (*cdata.CArrowArrayStream)(C.zb_schema_stream_addr(C.uintptr_t(addr))))
	r.Release() // the stream holds it now
	return nil
}

//go:build !cgo

package pybind

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// cStream needs cgo (the Arrow C stream interface); the Python extension is
// always built with it (gopy). This stub keeps the package compiling, and
// vettable for other platforms, without cgo.
type cStream struct{}

func importStream(int64) (*cStream, error) {
	return nil, errorOf(core.KindUnknown, "zerobus: this build has no cgo: Arrow C streams cannot be imported")
}

func (*cStream) Schema() *arrow.Schema          { return nil }
func (*cStream) Next() bool                     { return false }
func (*cStream) RecordBatch() arrow.RecordBatch { return nil }
func (*cStream) Record() arrow.RecordBatch      { return nil }
func (*cStream) Err() error                     { return nil }
func (*cStream) Retain()                        {}
func (*cStream) Release()                       {}

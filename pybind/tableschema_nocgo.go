//go:build !cgo

package pybind

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// exportSchemaStream needs cgo (the Arrow C stream interface); the Python
// extension is always built with it (gopy).
func exportSchemaStream(*arrow.Schema, int64) error {
	return errorOf(core.KindUnknown, "zerobus: this build has no cgo: Arrow C streams cannot be exported")
}

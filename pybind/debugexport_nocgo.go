//go:build !cgo

package pybind

import "github.com/zerobus-wrapper/zerobus-wrapper/core"

// ExportDebugFile needs cgo (the Arrow C stream interface); the Python
// extension is always built with it (gopy).
func ExportDebugFile(string, int64) (*DebugReader, error) {
	return nil, errorOf(core.KindUnknown, "zerobus: this build has no cgo: Arrow C streams cannot be exported")
}

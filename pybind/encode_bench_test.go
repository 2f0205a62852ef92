package pybind

import (
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// BenchmarkEncodeResultRowErrors encodes a result whose 10,000 rows each
// failed with their own conversion error (one group per row).
func BenchmarkEncodeResultRowErrors(b *testing.B) {
	const n = 10_000
	res := &core.TransmissionResult{TotalRows: n, FailedCount: n}
	for i := 0; i < n; i++ {
		res.FailedRows = append(res.FailedRows, core.FailedRow{Index: i, Err: &core.ConversionError{Row: i, Column: "name", Reason: "the string value is not valid UTF-8"}})
	}
	res.Err = res.FailedRows[0].Err
	for b.Loop() {
		encodeResult(res)
	}
}

package core

import "github.com/zerobus-wrapper/zerobus-wrapper/core/internal/debugfile"

// DebugFileStats are the counters of one kind of debug output (Arrow or
// protobuf) since the Wrapper was created: writes accepted and their rows,
// writes dropped (the queue to the disk was full, or a file had failed) with
// their rows and bytes, bytes that reached the files, I/O failures, and what
// is queued now. Every drop is also recorded in the drops sidecar of the
// file it is missing from (ReadDebugDrops), when that sidecar can be written:
// after an I/O failure (Failures; a full disk) it may not be, and these
// counters and the log are then the only record.
type DebugFileStats = debugfile.Stats

// DebugGap is one point of a debug file where writes were dropped: see
// ReadDebugDrops.
type DebugGap = debugfile.Gap

// DebugStats are the counters of both debug outputs.
type DebugStats struct {
	Arrow    DebugFileStats `json:"arrow"`
	Protobuf DebugFileStats `json:"protobuf"`
}

// DebugStats returns the debug file counters; zero for a kind that is not
// written (Config.DebugKinds): all when debug output is off, Protobuf always
// on transport arrow_flight, which writes no protobuf debug file.
func (w *Wrapper) DebugStats() DebugStats {
	if w.unusable() {
		return DebugStats{}
	}
	a, p := w.debug.Stats() // a nil *debugfile.Writer returns zeros
	return DebugStats{Arrow: a, Protobuf: p}
}

// ReadDebugDrops returns the gaps recorded for debug file path (an Arrow or
// protobuf debug file): each says how many writes, rows (protobuf: records)
// and bytes were dropped just before write BeforeWrite (row BeforeRow) of
// that file, and why. Writes are dropped, never waited for, when 64 MiB or
// 8192 writes per kind are already waiting for the disk (see
// docs/debug-files.md). The record is the sidecar <stem>.drops.jsonl, one JSON object per gap; no
// sidecar (nil, nil) means nothing is missing from the file, unless a write
// failed (DebugStats Failures: on a full disk the sidecar cannot be written
// either; the lost writes are counted in DebugStats and logged).
func ReadDebugDrops(path string) ([]DebugGap, error) {
	return debugfile.ReadDrops(path)
}

package pybind

import (
	"fmt"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// DebugReader is what ExportDebugFile's stream found: read it once the
// stream has ended (its last batch read).
type DebugReader struct {
	r *core.DebugFileReader
}

// Damage is "" for an intact file. For a damaged (or cut short) debug file
// it is the details JSON (see errorJSON) of the damage that ended the
// stream (core.DebugFileReader's Damage, naming the file and, for an Arrow
// file, the batch, column and row; for a protobuf file the record and its
// byte offset): the stream held the intact batches before it.
func (d *DebugReader) Damage() string {
	if err := d.r.Damage(); err != nil {
		return string(errorJSON(core.KindUnknown, fmt.Errorf("zerobus: %w", err)))
	}
	return ""
}

// StillWriting is the core.DebugTail's: the file is an active one that ends
// inside a message or record (an Arrow file: also one with no schema yet).
func (d *DebugReader) StillWriting() bool { return d.r.Tail().StillWriting }

// Tail is the core.DebugTail's description ("complete", or how the file
// ends while it is still being written).
func (d *DebugReader) Tail() string { return d.r.Tail().String() }

// DebugReadersOpen is core.DebugReadersOpen: debug file readers (streams
// ExportDebugFile made) not yet released, for leak tests.
func DebugReadersOpen() int64 { return core.DebugReadersOpen() }

// DebugReadBytes is core.DebugReadBytes: the bytes of the batches read from
// debug files and not yet released, for leak tests.
func DebugReadBytes() int64 { return core.DebugReadBytes() }

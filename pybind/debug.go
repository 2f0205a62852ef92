package pybind

import (
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// DebugFile is a debug file read by ReadDebugFile.
type DebugFile struct {
	// IPC is an Arrow IPC stream of the batches read.
	IPC []byte
	// Damage is "" for an intact file. For a damaged Arrow debug file it is
	// the details JSON (see errorJSON) of core.ReadDebugArrowFile's error,
	// which names the file, batch, column and row; IPC then holds the
	// intact batches before the damage (what that function returns with it).
	Damage string
}

// ReadDebugFile reads a debug file written by a wrapper with debug output
// on: a protobuf debug file (".proto", with its descriptor sidecar beside it)
// decoded with its descriptor into one batch
// (core.ReadDebugProtoFileArrow); an Arrow debug file (".arrow") with
// core.ReadDebugArrowFile; another file (a descriptor sidecar) is an error
// saying what to pass (core.DebugFileKind, as `zerobus debug read`). A file
// with no batch to return is an error.
func ReadDebugFile(path string) (*DebugFile, error) {
	kind, err := core.DebugFileKind(path)
	if err != nil {
		return nil, errorOf(core.KindUnknown, "zerobus: %v", err)
	}
	if kind == "proto" {
		rec, err := core.ReadDebugProtoFileArrow(path, memory.DefaultAllocator)
		if err != nil {
			return nil, errorOf(core.KindUnknown, "zerobus: %v", err)
		}
		defer rec.Release()
		b, err := writeIPC(rec.Schema(), rec)
		if err != nil {
			return nil, err
		}
		return &DebugFile{IPC: b}, nil
	}
	recs, readErr := core.ReadDebugArrowFile(path, memory.DefaultAllocator)
	defer releaseAll(recs)
	if len(recs) == 0 {
		if readErr != nil {
			return nil, errorOf(core.KindUnknown, "zerobus: %v", readErr)
		}
		return nil, errorOf(core.KindUnknown, "zerobus: debug file %q holds no record batch", path)
	}
	b, err := writeIPC(recs[0].Schema(), recs...) // one IPC stream: one schema
	if err != nil {
		return nil, err
	}
	out := &DebugFile{IPC: b}
	if readErr != nil {
		out.Damage = string(errorJSON(core.KindUnknown, fmt.Errorf("zerobus: %w", readErr)))
	}
	return out, nil
}

// ReadDebugDrops returns core.ReadDebugDrops(path) as a JSON array (null
// when nothing was dropped from the file).
func ReadDebugDrops(path string) (string, error) {
	gaps, err := core.ReadDebugDrops(path)
	if err != nil {
		return "", errorOf(core.KindUnknown, "zerobus: %v", err)
	}
	b, err := json.Marshal(gaps)
	return string(b), err
}

// ListDebugFiles returns core.ListDebugFiles(dir) as a JSON array of paths
// (null when there is none).
func ListDebugFiles(dir string) (string, error) {
	paths, err := core.ListDebugFiles(dir)
	if err != nil {
		return "", errorOf(core.KindUnknown, "zerobus: listing debug files: %v", err)
	}
	b, err := json.Marshal(paths)
	return string(b), err
}

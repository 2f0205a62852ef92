package pybind

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// DebugFile is a debug file read by ReadDebugFile.
type DebugFile struct {
	// IPC is an Arrow IPC stream of the batches read. An Arrow file with
	// its schema and no batch gives that schema and no batch; an active
	// Arrow file with no schema yet (StillWriting) a stream with an empty
	// schema and no batch: a table of no columns and no rows.
	IPC []byte
	// Damage is "" for an intact file. For a damaged (or cut short) Arrow
	// debug file it is the details JSON (see errorJSON) of
	// core.ReadDebugArrowFile's error, which names the file, batch, column
	// and row; IPC then holds the intact batches before the damage (what
	// that function returns with it), none but the file's schema when the
	// first batch is damaged. For a protobuf debug file it is
	// core.ReadDebugProtoFileArrow's error, naming the record and its byte
	// offset; IPC holds the complete records before it.
	Damage string
	// StillWriting is core.DebugTail's: the file is an active one that
	// ends inside a message or record (an Arrow file: also one with no
	// schema yet); IPC holds what came before it.
	StillWriting bool
	// Tail is the DebugTail's description ("complete", or how the file
	// ends while it is still being written), for a note to the user.
	Tail string
}

// ReadDebugFile reads a debug file written by a wrapper with debug output
// on: a protobuf debug file (".proto", with its descriptor sidecar beside it)
// decoded with its descriptor into one batch
// (core.ReadDebugProtoFileArrow, with core.ReadDebugProtoFileTail saying
// how it ends); an Arrow debug file (".arrow") with
// core.ReadDebugArrowFileTail; another file (a descriptor sidecar) is an error
// saying what to pass (core.DebugFileKind, as `zerobus debug read`). An
// Arrow file holding its schema and no batch (a rotated file closed before
// its first batch; an active one ending inside it, StillWriting) gives its
// schema and no rows (DebugTail.Schema); an active Arrow file with no schema
// yet is StillWriting, with no columns; an Arrow file of no byte (a crash
// right after a rotation leaves one) gives no columns, no rows.
func ReadDebugFile(path string) (*DebugFile, error) {
	kind, err := core.DebugFileKind(path)
	if err != nil {
		return nil, errorOf(core.KindUnknown, "zerobus: %v", err)
	}
	if kind == "proto" {
		return readDebugProto(path)
	}
	recs, tail, readErr := core.ReadDebugArrowFileTail(path, memory.DefaultAllocator)
	defer releaseAll(recs)
	if len(recs) == 0 {
		if schema := core.DebugDamageSchema(readErr); schema != nil {
			// damage in the first batch: no intact batch, the file's schema
			b, err := writeIPC(schema)
			if err != nil {
				return nil, err
			}
			return &DebugFile{IPC: b, Damage: string(errorJSON(core.KindUnknown, fmt.Errorf("zerobus: %w", readErr)))}, nil
		}
		if readErr != nil {
			return nil, errorOf(core.KindUnknown, "zerobus: %v", readErr)
		}
		if tail.Schema != nil {
			// its schema and no batch (a rotated file closed before its
			// first batch, an active one writing it): no rows, its columns
			return debugFileOf(tail, nil, tail.Schema)
		}
		if !tail.StillWriting && !emptyFile(path) {
			return nil, errorOf(core.KindUnknown, "zerobus: debug file %q holds no record batch", path)
		}
		b, err := writeIPC(arrow.NewSchema(nil, nil))
		if err != nil {
			return nil, err
		}
		return &DebugFile{IPC: b, StillWriting: tail.StillWriting, Tail: tail.String()}, nil
	}
	return debugFileOf(tail, readErr, recs[0].Schema(), recs...) // one IPC stream: one schema
}

// debugFileOf is the DebugFile of recs read from a file that ends as tail,
// with Damage naming readErr (the damage after them) when it is not nil.
func debugFileOf(tail core.DebugTail, readErr error, schema *arrow.Schema, recs ...arrow.RecordBatch) (*DebugFile, error) {
	b, err := writeIPC(schema, recs...)
	if err != nil {
		return nil, err
	}
	out := &DebugFile{IPC: b, StillWriting: tail.StillWriting, Tail: tail.String()}
	if readErr != nil {
		out.Damage = string(errorJSON(core.KindUnknown, fmt.Errorf("zerobus: %w", readErr)))
	}
	return out, nil
}

// emptyFile reports whether path is a file of no byte: a debug file a
// crash left right after a rotation, which holds no rows (not an error).
func emptyFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Size() == 0
}

// readDebugProto reads a protobuf debug file into one batch and says how it
// ends (one read of the file: the tail describes the rows returned). A file
// damaged or cut short at a record gives the complete records before it,
// with Damage naming the record and its byte offset.
func readDebugProto(path string) (*DebugFile, error) {
	rec, tail, readErr := core.ReadDebugProtoFileArrowTail(path, memory.DefaultAllocator)
	if rec == nil {
		return nil, errorOf(core.KindUnknown, "zerobus: %v", readErr)
	}
	defer rec.Release()
	return debugFileOf(tail, readErr, rec.Schema(), rec)
}

// debugDrops is ReadDebugDrops' JSON.
type debugDrops struct {
	// Gaps are core.ReadDebugDrops' (null when nothing was dropped from
	// the file): also those of the good lines of a damaged sidecar.
	Gaps []core.DebugGap `json:"gaps"`
	// Damaged are the sidecar's damaged lines (null when none).
	Damaged []damagedDropsLine `json:"damaged"`
}

type damagedDropsLine struct {
	Sidecar string `json:"sidecar"`
	Line    int    `json:"line"`    // 1-based
	Message string `json:"message"` // Go's: "<sidecar>" line N is damaged: ...
}

// ReadDebugDrops returns core.ReadDebugDrops(path) as a JSON object
// {"gaps": [...], "damaged": [...]}: the gaps read and, for a sidecar with
// damaged lines (cut short by a full disk, or garbage), each of those lines
// (the gaps of the other lines are read all the same, as core returns them
// with its error). Another failure (the sidecar unreadable) is an error.
func ReadDebugDrops(path string) (string, error) {
	gaps, err := core.ReadDebugDrops(path)
	out := debugDrops{Gaps: gaps}
	var damaged interface {
		Sidecar() string
		LineNumbers() []int
		DamagedLines() []string
	}
	if errors.As(err, &damaged) {
		msgs := damaged.DamagedLines()
		for i, n := range damaged.LineNumbers() {
			out.Damaged = append(out.Damaged, damagedDropsLine{Sidecar: damaged.Sidecar(), Line: n, Message: msgs[i]})
		}
	} else if err != nil {
		return "", errorOf(core.KindUnknown, "zerobus: %v", err)
	}
	b, err := json.Marshal(out)
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

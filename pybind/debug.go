package pybind

import (
	"encoding/json"
	"errors"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

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

package pybind

import "encoding/json"

// DebugStats returns the debug file counters (core.DebugStats) as JSON:
// {"arrow": {...}, "protobuf": {...}}, zeros when debug output is off.
func (w *Wrapper) DebugStats() string {
	b, _ := json.Marshal(w.w.DebugStats()) // plain integers: cannot fail
	return string(b)
}

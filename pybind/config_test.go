package pybind

import "testing"

// DebugKinds crosses core.Config.DebugKinds for settings given by key.
func TestDebugKinds(t *testing.T) {
	for in, want := range map[string]string{
		`{}`:                      `[]`,
		`{"debug_enabled": true}`: `["arrow","protobuf"]`,
		`{"debug_enabled": true, "debug_protobuf_enabled": true}`: `["protobuf"]`,
		`{"debug_arrow_enabled": true}`:                           `["arrow"]`,
	} {
		got, err := DebugKinds(in)
		if err != nil || got != want {
			t.Errorf("DebugKinds(%s) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := DebugKinds(`{"debug_enabled": "maybe"}`); err == nil {
		t.Error("a bad value: no error")
	}
}

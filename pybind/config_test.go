package pybind

import "testing"

// DebugKinds crosses core.Config.DebugKinds for settings given by key.
func TestDebugKinds(t *testing.T) {
	for in, want := range map[string]string{
		`{}`:                      `[]`,
		`{"debug_enabled": true}`: `["arrow","protobuf"]`,
		`{"debug_enabled": true, "debug_protobuf_enabled": true}`: `["protobuf"]`,
		`{"debug_arrow_enabled": true}`:                           `["arrow"]`,
		// an explicit false decides too (Python passes it; None is left out)
		`{"debug_enabled": true, "debug_protobuf_enabled": false}`: `[]`,
		`{"debug_enabled": true, "debug_arrow_enabled": null}`:     `["arrow","protobuf"]`,
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

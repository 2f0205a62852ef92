package pybind

import (
	"strings"
	"testing"
)

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

// ValidateConfigKeys reports the problems of the keys asked for only: the
// construction of a Python WrapperConfiguration checks debug_output_dir
// alone, whatever else is missing (s14 review-config 2).
func TestValidateConfigKeys(t *testing.T) {
	dir := `["debug_output_dir"]`
	err := ValidateConfigKeys(`{"debug_enabled": true}`, dir)
	if err == nil || !strings.Contains(err.Error(), "debug_output_dir") || strings.Contains(err.Error(), "table_name") {
		t.Errorf("debug without a directory, no table: %v; want debug_output_dir's problem alone", err)
	}
	// a bad value of another key leaves the check of debug_output_dir standing
	err = ValidateConfigKeys(`{"debug_enabled": true, "retry_max_attempts": "x"}`, dir)
	if err == nil || !strings.Contains(err.Error(), "debug_output_dir") || strings.Contains(err.Error(), "retry_max_attempts") {
		t.Errorf("with a bad retry_max_attempts: %v; want debug_output_dir's problem alone", err)
	}
	for _, in := range []string{`{}`, `{"debug_enabled": true, "debug_output_dir": "d"}`, `{"table_name": "a.b.c.d.e"}`} {
		if err := ValidateConfigKeys(in, dir); err != nil {
			t.Errorf("ValidateConfigKeys(%s) = %v, want nil", in, err)
		}
	}
	if err := ValidateConfigKeys(`{}`, `"x"`); err == nil {
		t.Error("keys not a list: no error")
	}
}

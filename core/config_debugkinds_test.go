package core_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// The effective debug kinds of a Config built in Go (a struct literal cannot
// say "given as false"): a per-kind switch that is on says exactly which
// kinds are written; debug_enabled alone turns on both.
func TestConfigDebugKinds(t *testing.T) {
	for _, c := range []struct {
		legacy, arrow, proto bool
		want                 string
	}{
		{false, false, false, "[]"},
		{true, false, false, "[arrow protobuf]"},
		{true, true, false, "[arrow]"},
		{true, false, true, "[protobuf]"},
		{true, true, true, "[arrow protobuf]"},
		{false, true, false, "[arrow]"},
		{false, false, true, "[protobuf]"},
		{false, true, true, "[arrow protobuf]"},
	} {
		// DebugKindsExplicit (what the loaders set for a key given as false)
		// lets the per-kind switches decide even when both are off
		explicit := core.Config{DebugEnabled: c.legacy, DebugArrowEnabled: c.arrow, DebugProtobufEnabled: c.proto, DebugKindsExplicit: true}
		want := fmt.Sprint(core.Config{DebugArrowEnabled: c.arrow, DebugProtobufEnabled: c.proto}.DebugKinds())
		if got := fmt.Sprint(explicit.DebugKinds()); got != want {
			t.Errorf("explicit, debug_enabled=%v arrow=%v protobuf=%v: DebugKinds %s, want %s", c.legacy, c.arrow, c.proto, got, want)
		}
		cfg := core.Config{DebugEnabled: c.legacy, DebugArrowEnabled: c.arrow, DebugProtobufEnabled: c.proto}
		if got := fmt.Sprint(cfg.DebugKinds()); got != c.want {
			t.Errorf("debug_enabled=%v arrow=%v protobuf=%v: DebugKinds %s, want %s", c.legacy, c.arrow, c.proto, got, c.want)
		}
	}
}

// A per-kind switch given explicitly as false (here through the settings
// map; tests_go/debug_kinds_test.go has every loader and combination)
// decides over debug_enabled, which then writes nothing but still needs
// debug_output_dir, as in the original; Settings shows the per-kind
// switches with no default (unset, like Python's None).
func TestExplicitFalseDebugKind(t *testing.T) {
	cfg, err := core.ConfigFromSettings(map[string]any{"table_name": "a.b.c", "debug_enabled": true, "debug_protobuf_enabled": false})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(cfg.DebugKinds()); got != "[]" {
		t.Errorf("debug_enabled with debug_protobuf_enabled=false: DebugKinds %s, want []", got)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "DebugOutputDir") {
		t.Errorf("Validate without debug_output_dir = %v, want DebugOutputDir required", err)
	}
	m := core.SettingsOf(cfg)
	if v, ok := m["debug_protobuf_enabled"]; !ok || v != false {
		t.Errorf("SettingsOf: debug_protobuf_enabled = %v (%v), want an explicit false", v, ok)
	}
	if v, ok := m["debug_arrow_enabled"]; !ok || v != false {
		t.Errorf("SettingsOf: debug_arrow_enabled = %v (%v), want false (the per-kind switches decide)", v, ok)
	}
	if _, ok := core.SettingsOf(core.DefaultConfig())["debug_arrow_enabled"]; ok {
		t.Error("SettingsOf(DefaultConfig) gives debug_arrow_enabled")
	}
	for _, s := range core.Settings() {
		if (s.Key == "debug_arrow_enabled" || s.Key == "debug_protobuf_enabled") && s.Default != nil {
			t.Errorf("%s default = %#v, want nil (not given)", s.Key, s.Default)
		}
	}
}

// The loaders return only the keys actually set, also one set to its
// default value; a null YAML value sets nothing.
func TestSettingsOnlyTheKeysSet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	yml := fmt.Sprintf("table_name: ${TBL}\nretry_max_attempts: %d\nendpoint: ~\ndebug_enabled: true\n", core.DefaultRetryMaxAttempts)
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TBL": "a.b.c", "RETRY_MAX_ATTEMPTS": fmt.Sprint(core.DefaultRetryMaxAttempts), "ZEROBUS_ENDPOINT": ""}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got, err := core.LoadConfigYAMLSettings(path, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"table_name": "a.b.c", "retry_max_attempts": int64(core.DefaultRetryMaxAttempts), "debug_enabled": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("LoadConfigYAMLSettings = %v, want %v", got, want)
	}
	got, err = core.EnvSettings(lookup)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]any{"retry_max_attempts": int64(core.DefaultRetryMaxAttempts)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("EnvSettings = %v, want %v", got, want)
	}
	if _, err := core.EnvSettings(func(k string) (string, bool) { return "x", k == "RETRY_MAX_ATTEMPTS" }); err == nil || !strings.Contains(err.Error(), "RETRY_MAX_ATTEMPTS") {
		t.Errorf("a bad variable: %v", err)
	}
	if _, err := core.LoadConfigYAMLSettings(filepath.Join(t.TempDir(), "none.yaml"), lookup); err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("a missing file: %v", err)
	}
}

// Config.String (the "wrapper created" log line) says which kinds are
// written: debug_enabled alone and debug_enabled with explicit false
// switches print the same switches but write both kinds and none.
func TestConfigStringShowsTheDebugKinds(t *testing.T) {
	both := core.Config{DebugEnabled: true}
	none := core.Config{DebugEnabled: true, DebugKindsExplicit: true}
	for _, tc := range []struct {
		c    core.Config
		want string
	}{{both, "debug_kinds: [arrow protobuf]"}, {none, "debug_kinds: []"}} {
		if s := tc.c.String(); !strings.Contains(s, tc.want) {
			t.Errorf("%s: no %q", s, tc.want)
		}
	}
}

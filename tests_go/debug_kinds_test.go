package tests_go

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestDebugKindSwitches: which debug files a Wrapper writes for each
// combination of the switches. DebugEnabled (the legacy switch) alone turns
// on both kinds; a per-kind switch that is on says exactly which kinds are
// written, also next to DebugEnabled, as in the original Python API (its
// explicit debug_arrow_enabled / debug_protobuf_enabled take precedence over
// debug_enabled), so `debug_enabled=True, debug_arrow_enabled=True` writes
// Arrow files only.
func TestDebugKindSwitches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := eventBatch(mem, 0, 10)
	defer rec.Release()
	for _, tc := range []struct {
		name                    string
		legacy, arrow, proto    bool
		wantArrow, wantProtobuf bool
	}{
		{"debug_enabled", true, false, false, true, true},
		{"arrow", false, true, false, true, false},
		{"protobuf", false, false, true, false, true},
		{"arrow+protobuf", false, true, true, true, true},
		{"debug_enabled+arrow", true, true, false, true, false},
		{"debug_enabled+protobuf", true, false, true, false, true},
		{"all three", true, true, true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			const table = "main.default.kinds"
			w := newWrapper(t, core.Config{
				TableName: table, WriterDisabled: true, DebugOutputDir: dir,
				DebugEnabled: tc.legacy, DebugArrowEnabled: tc.arrow, DebugProtobufEnabled: tc.proto,
			})
			if _, err := w.SendBatch(testCtx(t), rec); err != nil {
				t.Fatalf("SendBatch: %v", err)
			}
			if err := w.Close(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			for _, k := range []struct {
				path string
				want bool
			}{
				{filepath.Join(dir, "zerobus", "arrow", table+".arrow"), tc.wantArrow},
				{filepath.Join(dir, "zerobus", "proto", table+".proto"), tc.wantProtobuf},
			} {
				st, err := os.Stat(k.path)
				if got := err == nil && st.Size() > 0; got != k.want {
					t.Errorf("%s written = %v, want %v (stat: %v)", filepath.Base(k.path), got, k.want, err)
				}
			}
		})
	}
}

// switchValue is a per-kind debug switch as the original Python API takes
// it: not given (None), or given as false or true.
type switchValue int

const (
	notGiven switchValue = iota
	givenFalse
	givenTrue
)

func (v switchValue) String() string { return [...]string{"None", "False", "True"}[v] }

// originalKinds is the original wrapper's rule (0.8.1 bindings.rs and
// config/loader.rs): when debug_arrow_enabled or debug_protobuf_enabled is
// given (also as false) those decide and one not given is false;
// otherwise debug_enabled turns on both. requested (any switch on,
// debug_enabled included) is what needs debug_output_dir and satisfies
// zerobus_writer_disabled there.
func originalKinds(debug bool, arrow, proto switchValue) (wantArrow, wantProto, requested bool) {
	if arrow != notGiven || proto != notGiven {
		wantArrow, wantProto = arrow == givenTrue, proto == givenTrue
	} else {
		wantArrow, wantProto = debug, debug
	}
	return wantArrow, wantProto, debug || wantArrow || wantProto
}

// TestDebugKindsFollowTheOriginalPrecedence: every combination of
// debug_enabled x debug_arrow_enabled x debug_protobuf_enabled (None, False,
// True), given through each loader that knows which keys were given (the
// settings map Python uses, a YAML file, the environment), writes the
// debug files the original wrapper writes, and DebugKinds says so. An
// explicit false counts: debug_enabled=True with debug_protobuf_enabled=False
// writes no debug file. With zerobus_writer_disabled, Validate rejects a
// combination with no switch on, as the original does; debug_enabled=True
// with both kinds off passes (and writes nothing), as there.
func TestDebugKindsFollowTheOriginalPrecedence(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := eventBatch(mem, 0, 10)
	defer rec.Release()
	const table = "main.default.kinds"
	loaders := []struct {
		name string
		load func(t *testing.T, given map[string]bool, dir string) core.Config
	}{
		{"settings", func(t *testing.T, given map[string]bool, dir string) core.Config {
			m := map[string]any{"table_name": table, "zerobus_writer_disabled": true, "debug_output_dir": dir}
			for k, v := range given {
				m[k] = v
			}
			cfg, err := core.ConfigFromSettings(m)
			if err != nil {
				t.Fatal(err)
			}
			// the settings map a Config gives back keeps an explicit false
			// (and a switch left out beside it is false: both decide); with no
			// per-kind switch given, neither is there
			back := core.SettingsOf(cfg)
			_, arrowGiven := given["debug_arrow_enabled"]
			_, protoGiven := given["debug_protobuf_enabled"]
			for _, k := range []string{"debug_arrow_enabled", "debug_protobuf_enabled"} {
				want := any(nil)
				if arrowGiven || protoGiven {
					want = given[k] // false when not given
				}
				if back[k] != want {
					t.Errorf("SettingsOf %s = %v, want %v", k, back[k], want)
				}
			}
			again, err := core.ConfigFromSettings(back)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(again.DebugKinds()) != fmt.Sprint(cfg.DebugKinds()) {
				t.Errorf("a settings map round trip changed the kinds: %v, then %v", cfg.DebugKinds(), again.DebugKinds())
			}
			return cfg
		}},
		{"yaml", func(t *testing.T, given map[string]bool, dir string) core.Config {
			text := fmt.Sprintf("table_name: %s\nzerobus_writer_disabled: true\ndebug_output_dir: %q\n", table, dir)
			for k, v := range given {
				text += fmt.Sprintf("%s: %v\n", k, v)
			}
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := core.LoadConfigYAML(path)
			if err != nil {
				t.Fatal(err)
			}
			return cfg
		}},
		{"env", func(t *testing.T, given map[string]bool, dir string) core.Config {
			env := map[string]string{"ZEROBUS_TABLE_NAME": table, "ZEROBUS_WRITER_DISABLED": "true", "DEBUG_OUTPUT_DIR": dir}
			for k, v := range given {
				env[strings.ToUpper(k)] = fmt.Sprint(v)
			}
			cfg := core.DefaultConfig()
			if err := cfg.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
				t.Fatal(err)
			}
			return cfg
		}},
	}
	for _, debug := range []bool{false, true} {
		for _, arrow := range []switchValue{notGiven, givenFalse, givenTrue} {
			for _, proto := range []switchValue{notGiven, givenFalse, givenTrue} {
				wantArrow, wantProto, requested := originalKinds(debug, arrow, proto)
				given := map[string]bool{}
				if debug {
					given["debug_enabled"] = true
				}
				if arrow != notGiven {
					given["debug_arrow_enabled"] = arrow == givenTrue
				}
				if proto != notGiven {
					given["debug_protobuf_enabled"] = proto == givenTrue
				}
				for _, l := range loaders {
					name := fmt.Sprintf("%s/debug=%v,arrow=%v,proto=%v", l.name, debug, arrow, proto)
					t.Run(name, func(t *testing.T) {
						dir := t.TempDir()
						cfg := l.load(t, given, dir)
						var wantKinds []string
						if wantArrow {
							wantKinds = append(wantKinds, "arrow")
						}
						if wantProto {
							wantKinds = append(wantKinds, "protobuf")
						}
						if got := cfg.DebugKinds(); fmt.Sprint(got) != fmt.Sprint(wantKinds) {
							t.Errorf("DebugKinds = %v, want %v", got, wantKinds)
						}
						err := cfg.Validate()
						writes := wantArrow || wantProto
						if writes && err != nil {
							t.Errorf("Validate: %v", err)
						}
						// requested but writing no kind: nothing sent or written (s14 review-config 5)
						if requested && !writes && (err == nil || !strings.Contains(err.Error(), "WriterDisabled (yaml zerobus_writer_disabled, env ZEROBUS_WRITER_DISABLED when loading from the environment): is true and debug_enabled writes no file")) {
							t.Errorf("Validate = %v, want the writer-disabled-writing-nothing error", err)
						}
						if !requested && (err == nil || !strings.Contains(err.Error(), "WriterDisabled (yaml zerobus_writer_disabled, env ZEROBUS_WRITER_DISABLED when loading from the environment): is true but no debug output")) {
							t.Errorf("Validate = %v, want the writer-disabled-without-debug-output error", err)
						}
						w, err := core.New(testCtx(t), cfg) // New accepts both (conversion-only checks)
						if err != nil {
							t.Fatalf("core.New: %v", err)
						}
						if _, err := w.SendBatch(testCtx(t), rec); err != nil {
							t.Fatalf("SendBatch: %v", err)
						}
						if err := w.Close(testCtx(t)); err != nil {
							t.Fatal(err)
						}
						for _, k := range []struct {
							path string
							want bool
						}{
							{filepath.Join(dir, "zerobus", "arrow", table+".arrow"), wantArrow},
							{filepath.Join(dir, "zerobus", "proto", table+".proto"), wantProto},
						} {
							st, err := os.Stat(k.path)
							if got := err == nil && st.Size() > 0; got != k.want {
								t.Errorf("%s written = %v, want %v (stat: %v)", filepath.Base(k.path), got, k.want, err)
							}
						}
					})
				}
			}
		}
	}
}

package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// On transport arrow_flight no protobuf record is encoded, so no protobuf
// debug file is written: debug_enabled (or both per-kind switches) means
// the Arrow files only, and every display says so: DebugKinds (which the
// Python reprs show), the logged config (protobuf not applicable), and a
// warning for an explicit debug_protobuf_enabled. They said "arrow protobuf".
func TestFlightDebugKindsTellTheTruth(t *testing.T) {
	for _, c := range []struct {
		name     string
		set      func(*core.Config)
		explicit bool // debug_protobuf_enabled given as true: warned
	}{
		{"debug_enabled", func(c *core.Config) { c.DebugEnabled = true }, false},
		{"both kinds", func(c *core.Config) { c.DebugArrowEnabled, c.DebugProtobufEnabled = true, true }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := core.DefaultConfig()
			cfg.TableName, cfg.WriterDisabled, cfg.DebugOutputDir = "main.default.t", true, dir
			c.set(&cfg)
			cfg.Transport = core.TransportProtobuf
			if got := fmt.Sprint(cfg.DebugKinds()); got != "[arrow protobuf]" {
				t.Fatalf("protobuf: DebugKinds %s, want [arrow protobuf]", got)
			}
			cfg.Transport = core.TransportArrowFlight
			if got := fmt.Sprint(cfg.DebugKinds()); got != "[arrow]" {
				t.Errorf("arrow_flight: DebugKinds %s, want [arrow]", got)
			}
			var shown map[string]any
			b, _ := json.Marshal(cfg)
			if err := json.Unmarshal(b, &shown); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(shown["debug_kinds"]) != "[arrow]" || fmt.Sprint(shown["debug_kinds_not_applicable"]) != "[protobuf]" {
				t.Errorf("shown config: debug_kinds %v, not applicable %v; want [arrow], [protobuf]", shown["debug_kinds"], shown["debug_kinds_not_applicable"])
			}
			if s := cfg.String(); !strings.Contains(s, "debug_kinds: [arrow],") || !strings.Contains(s, "debug_kinds_not_applicable: [protobuf]") {
				t.Errorf("String: %s", s)
			}

			var logs bytes.Buffer
			w, err := core.New(context.Background(), cfg, core.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			if err != nil {
				t.Fatal(err)
			}
			if st := w.DebugStats(); st.Protobuf != (core.DebugFileStats{}) {
				t.Errorf("DebugStats.Protobuf = %+v, want zero", st.Protobuf)
			}
			_ = w.Close(context.Background())
			warned := strings.Contains(logs.String(), "debug_protobuf_enabled is true, but transport arrow_flight")
			if warned != c.explicit {
				t.Errorf("warning for debug_protobuf_enabled: %v, want %v; logs:\n%s", warned, c.explicit, logs.String())
			}
			var files []string
			_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					files = append(files, p)
				}
				return nil
			})
			for _, f := range files {
				if strings.Contains(f, "proto") {
					t.Errorf("protobuf debug file written on arrow_flight: %s", f)
				}
			}
		})
	}
	if got := fmt.Sprint(core.DefaultConfig().LogValue()); !strings.Contains(got, "debug_kinds_not_applicable=[]") {
		t.Errorf("default LogValue: %s, want debug_kinds_not_applicable=[]", got)
	}
}

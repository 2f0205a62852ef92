package tests_go

import (
	"os"
	"path/filepath"
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

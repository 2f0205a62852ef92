package core_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// Transport arrow_flight writes no protobuf debug file: debug_enabled
// there leaves nothing under zerobus/proto (no lock file a kill -9 would
// leave behind), while the Arrow writer holds its name.
func TestFlightDebugTakesNoProtoLock(t *testing.T) {
	dir := t.TempDir()
	w, err := core.New(context.Background(), core.Config{TableName: "main.default.t", WriterDisabled: true,
		Transport: core.TransportArrowFlight, DebugEnabled: true, DebugOutputDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	if _, err := os.Stat(filepath.Join(dir, "zerobus", "arrow", "main.default.t.arrow.lock")); err != nil {
		t.Errorf("the Arrow writer holds no lock: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "zerobus", "proto"))
	for _, e := range entries {
		t.Errorf("zerobus/proto holds %s with transport arrow_flight", e.Name())
	}
}

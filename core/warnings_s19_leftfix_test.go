package core_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// New's warning about rotation settings with no file to rotate agrees in
// number with what it names, as the export warning does
// (TestS18ExportWarningGrammar): the verb is now chosen by one helper
// instead of two map[bool]string literals. A refactor: this pins the text,
// it passed before too.
func TestRotationWarningGrammar(t *testing.T) {
	for _, c := range []struct {
		backups int
		want    string
	}{
		{0, "so observability_max_file_mb rotates nothing:"},
		{3, "so observability_max_file_mb and observability_max_backups rotate nothing:"},
	} {
		cfg := core.DefaultConfig()
		cfg.TableName, cfg.WriterDisabled, cfg.DebugArrowEnabled, cfg.DebugOutputDir = "main.default.t", true, true, t.TempDir()
		cfg.TelemetryMaxFileMB, cfg.TelemetryMaxBackups = 7, c.backups
		var logs strings.Builder
		w, err := core.New(context.Background(), cfg, core.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err != nil {
			t.Fatal(err)
		}
		_ = w.Close(context.Background())
		if !strings.Contains(logs.String(), c.want) {
			t.Errorf("logs lack %q:\n%s", c.want, logs.String())
		}
	}
}

package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestSendJSONErrorShape: with -json, an input that cannot be opened prints
// the same one summary object with "error" as an input whose reading fails
// later (a corrupt row group); the exit codes are those without -json.
func TestSendJSONErrorShape(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.csv")
	corrupt := filepath.Join(dir, "corrupt.parquet")
	writeSnappyParquet(t, corrupt, 300, 100)
	corruptColumnChunk(t, corrupt, 1, 1)
	for _, path := range []string{missing, corrupt} {
		args := []string{"send", "-dry-run", "-progress", "never", "-table", "main.default.t", path}
		plainCode, _, _ := runCLI(t, args...)
		code, out, errOut := runCLI(t, append(args[:len(args)-1:len(args)-1], "-json", path)...)
		if code != plainCode || code == ExitOK {
			t.Errorf("%s: exit %d with -json, %d without; want the same, not 0", path, code, plainCode)
		}
		if strings.Count(out, "\n") != 1 {
			t.Errorf("%s: stdout is not one line:\n%s", path, out)
		}
		var sum map[string]any
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatalf("%s: stdout %q: %v (stderr %s)", path, out, err, errOut)
		}
		msg, _ := sum["error"].(string)
		if !strings.Contains(msg, filepath.Base(path)) || sum["success"] != false || sum["table"] != "main.default.t" {
			t.Errorf("%s: summary %v, want error naming the file, success false, the table", path, sum)
		}
		if _, ok := sum["rows_read"]; !ok {
			t.Errorf("%s: summary %v lacks the counts", path, sum)
		}
		if !strings.Contains(errOut, filepath.Base(path)) {
			t.Errorf("%s: stderr %q does not name the file", path, errOut)
		}
	}
}

package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestSendRowsTotal: a send stopped before the end (here an interrupt
// before the first batch) says how many rows the files hold and how many
// were not read, in text ("0 of 40 (40 not read)", not "0 of 0") and in
// -json (rows_total), so a script knows where to resume.
func TestSendRowsTotal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.parquet")
	writeParquet(t, path, mixedSchema, 10, func(yield func(arrow.RecordBatch) bool) {
		yield(mixedBatch(memory.DefaultAllocator, 0, 40))
	})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	code, out, errOut, _ := runCLIOrdered(cancelled, "send", "-dry-run", path)
	if code != ExitInterrupted || !strings.Contains(out, "  converted:    0 of 40 (40 not read)\n") {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, out, _, _ = runCLIOrdered(cancelled, "send", "-dry-run", "-json", path)
	var sum struct {
		RowsRead  int64  `json:"rows_read"`
		RowsTotal *int64 `json:"rows_total"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("-json %q: %v", out, err)
	}
	if code != ExitInterrupted || sum.RowsRead != 0 || sum.RowsTotal == nil || *sum.RowsTotal != 40 {
		t.Errorf("exit %d, -json rows_read %d rows_total %v", code, sum.RowsRead, sum.RowsTotal)
	}

	// all read: as before; a CSV has no count before reading, but once read
	// to its end its total is the rows read (s20: as for a pipe)
	code, out, _, _ = runCLIOrdered(context.Background(), "send", "-dry-run", path)
	if code != ExitOK || !strings.Contains(out, "  converted:    40 of 40\n") {
		t.Errorf("exit %d, stdout:\n%s", code, out)
	}
	csv := filepath.Join(t.TempDir(), "d.csv")
	writeFile(t, csv, "id\n1\n2\n")
	_, out, _, _ = runCLIOrdered(context.Background(), "send", "-dry-run", "-json", csv)
	if !strings.Contains(out, `"rows_read":2,"rows_total":2,`) {
		t.Errorf("-json of a CSV: %s", out)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

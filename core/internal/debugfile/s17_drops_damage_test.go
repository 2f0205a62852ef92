package debugfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// s17 L2: ReadDrops stopped at the first damaged line; it now reads on,
// keeps a gap appended after half a line, and names the damaged lines.
func TestS17ReadDropsSkipsDamagedLines(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "t.arrow")
	lines := []string{
		`{"before_write":1,"before_row":2,"dropped_writes":1,"dropped_rows":3,"dropped_bytes":10,"reason":"queue full"}`,
		`{"before_write":2,"before_ro{"before_write":2,"before_row":4,"dropped_writes":1,"dropped_rows":5,"dropped_bytes":10,"reason":"file failed"}`,
		`garbage`,
		`{"before_write":3,"before_row":6,"dropped_writes":1,"dropped_rows":7,"dropped_bytes":10,"reason":"queue full"}`,
	}
	if err := os.WriteFile(DropsPath(data), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gaps, err := ReadDrops(data)
	var d *DamagedDropsError
	if !errors.As(err, &d) {
		t.Fatalf("err %v, want a *DamagedDropsError", err)
	}
	if len(d.Lines) != 2 || d.Lines[0].Line != 2 || d.Lines[1].Line != 3 || d.Path != DropsPath(data) {
		t.Errorf("damaged %+v, want lines 2 and 3 of %s", d, DropsPath(data))
	}
	var rows []int64
	for _, g := range gaps {
		rows = append(rows, g.DroppedRows)
	}
	if len(rows) != 3 || rows[0] != 3 || rows[1] != 5 || rows[2] != 7 {
		t.Errorf("dropped rows of the gaps read %v, want [3 5 7]", rows)
	}
	if !strings.Contains(err.Error(), `drops.jsonl" line 2 is damaged: `) {
		t.Errorf("message %q", err)
	}
}

package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// `debug read -format arrow` of a protobuf file cut short writes the
// complete records before the cut, then fails naming the record, as the
// json format (and an Arrow file) does.
func TestDebugReadProtoAsArrowCutShort(t *testing.T) {
	dir := t.TempDir()
	p := writeProtoFixture(t, dir, 5)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data[:len(data)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(dir, "intact.arrow")
	_, err = runDebugCmd(t, "read", p, "-format", "arrow", "-o", outFile)
	if err == nil || !strings.Contains(err.Error(), "record 4 at byte offset") || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("err = %v; want the cut named at record 4", err)
	}
	recs := readArrowOut(t, outFile)
	if len(recs) != 1 || recs[0].NumRows() != 4 {
		t.Fatalf("got %d batches, want one of the 4 intact records", len(recs))
	}
	ids := recs[0].Column(0).(*array.Int64)
	names := recs[0].Column(1).(*array.String)
	for i := 0; i < 4; i++ {
		if ids.Value(i) != int64(i) {
			t.Errorf("id[%d] = %d, want %d", i, ids.Value(i), i)
		}
	}
	if !names.IsNull(1) || names.Value(3) != "rowyyy" {
		t.Errorf("names = %v, want [row null rowyy rowyyy]", names)
	}
}

// A 0-byte Arrow debug file (a crash right after a rotation) holds no rows:
// `debug read` prints none and succeeds.
func TestDebugReadZeroByteArrow(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"t.arrow", "t-20260102T030405.000Z-0000.arrow"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"json", "table"} {
			out, err := runDebugCmd(t, "read", p, "-format", format)
			if err != nil || strings.TrimSpace(out) != "" {
				t.Errorf("%s -format %s: output %q, err %v; want no rows, no error", name, format, out, err)
			}
		}
	}
}

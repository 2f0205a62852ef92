package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// s17 L6: -format table wrote column names unescaped: a tab in a name
// split the header into two columns, misaligned with the cells.
func TestS17DebugReadTableHeaderEscaped(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "wéird col\t\"x\"\nz", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(1)
	b.Field(1).(*array.StringBuilder).Append("a\nb")
	rec := b.NewRecordBatch()
	defer rec.Release()
	p := filepath.Join(t.TempDir(), "h.arrow")
	writeArrow(t, p, true, schema, []arrow.RecordBatch{rec})
	out, err := runDebugCmd(t, "read", "-format", "table", p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := []string{`id  wéird col\t"x"\nz`, `1   a\nb`}
	if len(lines) != 2 || strings.TrimRight(lines[0], " ") != want[0] || strings.TrimRight(lines[1], " ") != want[1] {
		t.Errorf("table:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
}

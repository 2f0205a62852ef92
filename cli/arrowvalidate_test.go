package cli

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// An Arrow IPC file or stream whose second batch has a string offset that
// falls (arrow-go reads it without complaint) is an error naming the file,
// the batch, the column and the row, in both forms, and nothing panics.
func TestArrowInputDamagedBody(t *testing.T) {
	good := mixedBatch(memory.DefaultAllocator, 0, 10)
	defer good.Release()
	rec := mixedBatch(memory.DefaultAllocator, 10, 10) // names "name-10" ...: offsets [0 7 14 21 ...]
	defer rec.Release()
	names := rec.Column(1).Data()
	offs := bytes.Clone(names.Buffers()[1].Bytes())
	binary.LittleEndian.PutUint32(offs[8:], 25) // offset 2: row 2 ends (21) before it starts
	bad := array.MakeFromData(array.NewData(names.DataType(), names.Len(),
		[]*memory.Buffer{names.Buffers()[0], memory.NewBufferBytes(offs), names.Buffers()[2]}, nil, names.NullN(), 0))
	defer bad.Release()
	cols := append([]arrow.Array(nil), rec.Columns()...)
	cols[1] = bad
	damaged := array.NewRecordBatch(mixedSchema, cols, 10)
	defer damaged.Release()
	for _, c := range []struct {
		ext    string
		stream bool
	}{{".arrow", false}, {".arrows", true}} {
		path := filepath.Join(t.TempDir(), "damaged"+c.ext)
		writeArrow(t, path, c.stream, mixedSchema, []arrow.RecordBatch{good, damaged})
		err := readWholeInput(path)
		want := "record batch 1 (from row 10): corrupt Arrow data: column name, row 2: offset 3 is 21, below the offset 25 before it; the file is damaged"
		if !errors.Is(err, core.ErrArrowData) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v\nwant %q", c.ext, err, want)
		}
	}
}

// A debug file whose timestamp column names a time zone this machine does
// not know (a damaged file; a zone missing from the tz database) is an
// error naming the column and the zone in json and table output (arrow-go
// panicked formatting it, which crashed an in-process Python); -format
// arrow still writes it.
func TestDebugReadUnknownTimeZone(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "ev", Type: arrow.StructOf(arrow.Field{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "Not/A_Zone"}})},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
	sb := b.Field(1).(*array.StructBuilder)
	sb.AppendValues([]bool{true, true})
	sb.FieldBuilder(0).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1, 2}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "t.arrow")
	writeArrow(t, path, true, schema, []arrow.RecordBatch{rec})
	for _, format := range []string{"json", "table"} {
		_, err := runDebugCmd(t, "read", "-format", format, path)
		if err == nil || !strings.Contains(err.Error(), `column "ev.at": the time zone "Not/A_Zone" of its timestamps does not load here`) {
			t.Errorf("-format %s: %v", format, err)
		}
	}
	if _, err := runDebugCmd(t, "read", "-format", "arrow", "-o", filepath.Join(t.TempDir(), "out.arrow"), path); err != nil {
		t.Errorf("-format arrow: %v", err)
	}
}

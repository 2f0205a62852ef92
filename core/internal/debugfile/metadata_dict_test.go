package debugfile

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A batch with field metadata (as Parquet field ids or an extension type
// give) and two dictionary columns (as two pandas categoricals give) is
// written and read back equal. arrow-go writes its schema with a vtable
// shared between a KeyValue and the second DictionaryEncoding, whose
// declared table size the reader's verifier used to take as a bound: it
// refused the file as "corrupt Arrow IPC metadata".
func TestArrowFileWithFieldMetadataAndDictionaries(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Metadata: arrow.NewMetadata([]string{"PARQUET:field_id"}, []string{"1"})},
		{Name: "uid", Type: extensions.NewUUIDType(), Nullable: true},
		{Name: "country", Type: dict, Nullable: true},
		{Name: "event", Type: dict, Nullable: true},
	}, nil)
	cols := []string{`[1, 2, 3]`, `["00010203-0405-0607-0809-0a0b0c0d0e0f", null, null]`, `["NO", "JP", null]`, `["view", "view", "buy"]`}
	arrs := make([]arrow.Array, len(cols))
	for k, js := range cols {
		a, _, err := array.FromJSON(mem, schema.Field(k).Type, strings.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		defer a.Release()
		arrs[k] = a
	}
	rec := array.NewRecordBatch(schema, arrs, 3)
	defer rec.Release()

	w, err := New(table, Config{OutputDir: t.TempDir(), Arrow: true})
	if err != nil {
		t.Fatal(err)
	}
	w.WriteArrow(rec)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p, _ := w.Paths()
	recs, err := ReadArrowFile(p, mem)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	if err != nil {
		t.Fatalf("ReadArrowFile: %v", err)
	}
	if len(recs) != 1 || !array.RecordEqual(rec, recs[0]) {
		t.Fatalf("read back %d batches, want the one written", len(recs))
	}
}

//go:build cgo

package pybind

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// driftReader declares testSchema but yields whatever batches it holds, as
// pyarrow's RecordBatchReader.from_batches does with a generator whose
// batches change schema.
type driftReader struct {
	recs []arrow.RecordBatch
	i    int
	refs atomic.Int64
}

func (r *driftReader) Schema() *arrow.Schema { return testSchema }
func (r *driftReader) Next() bool {
	if r.i >= len(r.recs) {
		return false
	}
	r.i++
	return true
}
func (r *driftReader) RecordBatch() arrow.RecordBatch { return r.recs[r.i-1] }
func (r *driftReader) Record() arrow.RecordBatch      { return r.recs[r.i-1] } //nolint:staticcheck
func (r *driftReader) Err() error                     { return nil }
func (r *driftReader) Retain()                        { r.refs.Add(1) }
func (r *driftReader) Release()                       { r.refs.Add(-1) }

// A producer whose second batch has a column more than its stream's schema:
// the first batch is stored and the send ends with an error naming the
// column counts (arrow-go's import panicked: index out of range).
func TestSendStreamBatchWithAnotherSchemaIsAnError(t *testing.T) {
	s := startLocal(t)
	const table = "main.pybind.drift"
	w, err := NewWrapper(localConfig(s, table))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(0) }()
	mem := memory.DefaultAllocator
	b1 := testBatch(mem, 0, 10)
	defer b1.Release()
	b2 := testBatch(mem, 10, 5)
	defer b2.Release()
	extra := array.NewInt64Builder(mem)
	extra.AppendValues([]int64{1, 2, 3, 4, 5}, nil)
	col := extra.NewArray()
	extra.Release()
	defer col.Release()
	wider := arrow.NewSchema(append(testSchema.Fields(), arrow.Field{Name: "extra", Type: arrow.PrimitiveTypes.Int64}), nil)
	b3 := array.NewRecordBatch(wider, append(b2.Columns(), col), 5)
	defer b3.Release()

	src := &driftReader{recs: []arrow.RecordBatch{b1, b3}}
	src.refs.Store(1)
	cs := new(cdata.CArrowArrayStream)
	cdata.ExportRecordReader(src, cs)
	src.Release()
	p, err := w.SendStream(int64(uintptr(unsafe.Pointer(cs))), -1, false, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(cs)
	res, _ := waitAll(t, p)
	if res.Success || res.SuccessfulCount != 10 || res.ErrorKind != "conversion" {
		t.Errorf("result = %+v, want 10 rows stored and a conversion error", res)
	}
	for _, want := range []string{"after row 10", "it has 4 columns where the stream's schema has 3 (id, name, tags)"} {
		if !strings.Contains(res.ErrorMessage, want) {
			t.Errorf("error message %q does not say %q", res.ErrorMessage, want)
		}
	}
	if n := s.RecordCount(table); n != 10 {
		t.Errorf("stored %d rows, want 10", n)
	}
	if got := src.refs.Load(); got != 0 {
		t.Errorf("producer holds %d references after the send, want 0 (released)", got)
	}
}

// A producer whose second batch has the stream's columns but "tags"
// (list<double> in the stream's schema) of another shape, at the top and
// nested: arrow-go's import panicked after it had taken the batch over, so
// the producer's batch was never released (448 bytes left here). The batch
// is checked before the import: the send ends with an error naming the
// column and what to do, and every byte the producer allocated is released
// (also on the column-count path).
func TestSendStreamBatchOfAnotherShapeIsReleased(t *testing.T) {
	s := startLocal(t)
	for k, c := range []struct {
		name string
		col  func(memory.Allocator) arrow.Array // 5 rows
		want string
	}{
		{"int64", func(mem memory.Allocator) arrow.Array {
			b := array.NewInt64Builder(mem)
			defer b.Release()
			b.AppendValues([]int64{1, 2, 3, 4, 5}, nil)
			return b.NewArray()
		}, `column "tags" (list<item: float64, nullable> in the stream's schema) has 0 child arrays where its type has 1`},
		{"list of struct", func(mem memory.Allocator) arrow.Array {
			b := array.NewListBuilder(mem, arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64}))
			defer b.Release()
			sb := b.ValueBuilder().(*array.StructBuilder)
			for i := range 5 {
				b.Append(true)
				sb.Append(true)
				sb.FieldBuilder(0).(*array.Int64Builder).Append(int64(i))
			}
			return b.NewArray()
		}, `column "tags.item" (float64 in the stream's schema) has 1 child arrays where its type has 0`},
		{"extra column", nil, "it has 4 columns where the stream's schema has 3 (id, name, tags)"},
	} {
		table := fmt.Sprintf("main.pybind.shape%d", k)
		w, err := NewWrapper(localConfig(s, table))
		if err != nil {
			t.Fatal(err)
		}
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		b1 := testBatch(mem, 0, 10)
		b2 := testBatch(mem, 10, 5)
		var b3 arrow.RecordBatch
		if c.col == nil {
			col := array.NewNull(5)
			wider := arrow.NewSchema(append(testSchema.Fields(), arrow.Field{Name: "extra", Type: arrow.Null}), nil)
			b3 = array.NewRecordBatch(wider, append(b2.Columns(), col), 5)
			col.Release()
		} else {
			col := c.col(mem)
			other := arrow.NewSchema([]arrow.Field{testSchema.Field(0), testSchema.Field(1), {Name: "tags", Type: col.DataType()}}, nil)
			b3 = array.NewRecordBatch(other, []arrow.Array{b2.Column(0), b2.Column(1), col}, 5)
			col.Release()
		}
		b2.Release()
		src := &driftReader{recs: []arrow.RecordBatch{b1, b3}}
		src.refs.Store(1)
		cs := new(cdata.CArrowArrayStream)
		cdata.ExportRecordReader(src, cs)
		src.Release()
		p, err := w.SendStream(int64(uintptr(unsafe.Pointer(cs))), -1, false, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		runtime.KeepAlive(cs)
		res, _ := waitAll(t, p)
		_ = w.Close(0)
		if res.Success || res.SuccessfulCount != 10 || res.ErrorKind != "conversion" || !strings.Contains(res.ErrorMessage, c.want) {
			t.Errorf("%s: result = %+v, want 10 rows stored and a conversion error saying %q", c.name, res, c.want)
		}
		if c.col != nil && !strings.Contains(res.ErrorMessage, "send batches of another schema in a call of their own") {
			t.Errorf("%s: error %q does not say what to do", c.name, res.ErrorMessage)
		}
		if n := s.RecordCount(table); n != 10 {
			t.Errorf("%s: stored %d rows, want 10", c.name, n)
		}
		b1.Release()
		b3.Release()
		for range 3 {
			runtime.GC()
		}
		if n := mem.CurrentAlloc(); n != 0 {
			t.Errorf("%s: %d bytes of the producer's batches never released", c.name, n)
		}
	}
}

// checkBatchShape accepts the batches arrow-go exports of every kind of
// column the import handles (no false refusal of a well-formed producer).
func TestCheckBatchShapeAcceptsEveryLayout(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	types := []arrow.DataType{
		arrow.Null, arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Float64,
		arrow.BinaryTypes.String, arrow.BinaryTypes.LargeBinary, arrow.BinaryTypes.StringView, arrow.BinaryTypes.BinaryView,
		&arrow.Decimal128Type{Precision: 10, Scale: 2}, &arrow.FixedSizeBinaryType{ByteWidth: 3},
		arrow.FixedWidthTypes.Date32, arrow.FixedWidthTypes.Timestamp_us, arrow.FixedWidthTypes.MonthDayNanoInterval,
		arrow.ListOf(arrow.BinaryTypes.String), arrow.LargeListOf(arrow.PrimitiveTypes.Int32),
		arrow.ListViewOf(arrow.PrimitiveTypes.Int32), arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int16),
		arrow.MapOf(arrow.BinaryTypes.String, arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true})),
		arrow.StructOf(arrow.Field{Name: "a", Type: arrow.BinaryTypes.String, Nullable: true}, arrow.Field{Name: "b", Type: arrow.ListOf(arrow.PrimitiveTypes.Int8), Nullable: true}),
		&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String},
		arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String),
		arrow.SparseUnionOf([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true}}, []arrow.UnionTypeCode{0}),
		arrow.DenseUnionOf([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, []arrow.UnionTypeCode{0}),
	}
	fields := make([]arrow.Field, len(types))
	for i, dt := range types {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: dt, Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, fb := range b.Fields() {
		fb.AppendEmptyValue()
		fb.AppendNull()
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var ca cdata.CArrowArray
	cdata.ExportArrowRecordBatch(rec, &ca, nil)
	defer cdata.ReleaseCArrowArray(&ca)
	if err := checkBatchShape(unsafe.Pointer(&ca), schema); err != nil {
		t.Fatal(err)
	}
}

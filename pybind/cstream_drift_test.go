//go:build cgo

package pybind

import (
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

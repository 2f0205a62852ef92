package protoarrow_test

import (
	"bytes"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// BenchmarkValidateArrow: the cost of validating the reference batch
// (convert.ReferenceBatch, 16384 rows) read back from an IPC stream, beside
// what reading it from the stream costs and what the validator's UTF-8
// checks alone cost, each in ns/row. Each iteration reads, validates and
// checks UTF-8 in turn, so the three share the machine's load and their
// ratio holds on a busy machine:
//
//	go test -run '^$' -bench ValidateArrow -count 5 ./core/internal/protoarrow/
func BenchmarkValidateArrow(b *testing.B) {
	const rows = 16384
	src := convert.ReferenceBatch(memory.DefaultAllocator, rows)
	defer src.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(src.Schema()))
	if err := w.Write(src); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	stream := buf.Bytes()
	var read, validate, utf time.Duration
	for b.Loop() {
		t0 := time.Now()
		r, err := ipc.NewReader(bytes.NewReader(stream))
		if err != nil || !r.Next() {
			b.Fatal(err, r.Err())
		}
		rec := r.RecordBatch()
		t1 := time.Now()
		if err := protoarrow.ValidateArrowRecord(rec); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		name := rec.Column(2).(*array.String)
		label := rec.Column(9).(*array.Struct).Field(0).(*array.String)
		if !utf8.Valid(name.ValueBytes()) || !utf8.Valid(label.ValueBytes()) {
			b.Fatal("not UTF-8")
		}
		t3 := time.Now()
		r.Release()
		read += t1.Sub(t0)
		validate += t2.Sub(t1)
		utf += t3.Sub(t2)
	}
	perRow := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) / rows }
	b.ReportMetric(perRow(validate), "validate-ns/row")
	b.ReportMetric(perRow(read), "ipc-read-ns/row")
	b.ReportMetric(perRow(utf), "utf8-ns/row")
	b.ReportMetric(float64(validate)/float64(read), "validate/read")
}

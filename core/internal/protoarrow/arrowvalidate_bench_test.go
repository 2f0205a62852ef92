package protoarrow_test

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// BenchmarkValidateArrow: the cost of validating the reference batch
// (convert.ReferenceBatch) read back from an IPC stream, beside what
// reading it from IPC costs and what the UTF-8 checks alone cost; each
// reports ns/row. Interleaved, so one run compares them:
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
	read := func() arrow.RecordBatch {
		r, err := ipc.NewReader(bytes.NewReader(stream))
		if err != nil {
			b.Fatal(err)
		}
		defer r.Release()
		if !r.Next() {
			b.Fatal(r.Err())
		}
		rec := r.RecordBatch()
		rec.Retain()
		return rec
	}
	rec := read()
	defer rec.Release()
	perRow := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
	}
	b.Run("validate", func(b *testing.B) {
		for b.Loop() {
			if err := protoarrow.ValidateArrowRecord(rec); err != nil {
				b.Fatal(err)
			}
		}
		perRow(b)
	})
	b.Run("ipc-read", func(b *testing.B) {
		for b.Loop() {
			read().Release()
		}
		perRow(b)
	})
	b.Run("utf8-only", func(b *testing.B) {
		name := rec.Column(2).(*array.String)
		label := rec.Column(9).(*array.Struct).Field(0).(*array.String)
		for b.Loop() {
			if !utf8.Valid(name.ValueBytes()) || !utf8.Valid(label.ValueBytes()) {
				b.Fatal("not UTF-8")
			}
		}
		perRow(b)
	})
}

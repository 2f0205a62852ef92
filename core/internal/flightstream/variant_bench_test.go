package flightstream

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/variant"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// BenchmarkApplyReferenceVariant is BenchmarkApplyReference with one more
// column: a VARIANT given already encoded (struct{metadata, value}), each
// value a small object as events carry, so the cost of checking every value
// before it is sent shows against the rest of the cast.
func BenchmarkApplyReferenceVariant(b *testing.B) {
	const rows = 100_000
	rec := convert.ReferenceBatch(memory.DefaultAllocator, rows)
	defer rec.Release()
	vt := arrow.StructOf(arrow.Field{Name: "metadata", Type: arrow.BinaryTypes.LargeBinary},
		arrow.Field{Name: "value", Type: arrow.BinaryTypes.LargeBinary})
	vb := array.NewStructBuilder(memory.DefaultAllocator, vt)
	defer vb.Release()
	for i := range rows {
		v, err := variant.ParseJSON(fmt.Sprintf(`{"user":%d,"kind":"click","tags":["a","bc"],"score":%d.5,"ok":true}`, i, i%100), false)
		if err != nil {
			b.Fatal(err)
		}
		vb.Append(true)
		vb.FieldBuilder(0).(*array.BinaryBuilder).Append(v.Metadata().Bytes())
		vb.FieldBuilder(1).(*array.BinaryBuilder).Append(v.Bytes())
	}
	doc := vb.NewArray()
	defer doc.Release()
	fields := append(rec.Schema().Fields(), arrow.Field{Name: "doc", Type: vt, Nullable: true})
	cols := append(rec.Columns(), doc)
	withDoc := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rows)
	defer withDoc.Release()
	target, err := CanonicalSchema(withDoc.Schema())
	if err != nil {
		b.Fatal(err)
	}
	c, err := PlanCast("t", withDoc.Schema(), target)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		out, nulls, _, err := c.Apply(context.Background(), withDoc)
		if err != nil || len(nulls) > 0 {
			b.Fatal(err, nulls)
		}
		out.Release()
	}
}

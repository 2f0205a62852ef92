package convert

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ReferenceSchema is the schema of ReferenceBatch: 12 columns typical of an
// event table.
var ReferenceSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "y", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "z", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "count", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "samples", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64), Nullable: true},
	{Name: "info", Type: arrow.StructOf(
		arrow.Field{Name: "label", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	), Nullable: true},
	{Name: "payload", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
}, nil)

// ReferenceBatch builds the reference batch used by the conversion, core and
// Python benchmarks: ReferenceSchema with rows deterministic rows: int64 id,
// microsecond timestamp, a ~24-byte string, three doubles (z null every 97th
// row), bool, int32, a list of 4 doubles, struct{label string, n int64}, 16
// bytes of binary and a date32. Every row encodes successfully. The caller
// owns the result and must Release it.
func ReferenceBatch(mem memory.Allocator, rows int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, ReferenceSchema)
	defer b.Release()
	b.Reserve(rows)
	id := b.Field(0).(*array.Int64Builder)
	ts := b.Field(1).(*array.TimestampBuilder)
	name := b.Field(2).(*array.StringBuilder)
	x := b.Field(3).(*array.Float64Builder)
	y := b.Field(4).(*array.Float64Builder)
	z := b.Field(5).(*array.Float64Builder)
	ok := b.Field(6).(*array.BooleanBuilder)
	count := b.Field(7).(*array.Int32Builder)
	samples := b.Field(8).(*array.ListBuilder)
	sv := samples.ValueBuilder().(*array.Float64Builder)
	info := b.Field(9).(*array.StructBuilder)
	label := info.FieldBuilder(0).(*array.StringBuilder)
	n := info.FieldBuilder(1).(*array.Int64Builder)
	payload := b.Field(10).(*array.BinaryBuilder)
	day := b.Field(11).(*array.Date32Builder)
	name.ReserveData(rows * 24)
	payload.ReserveData(rows * 16)
	var pl [16]byte
	const t0 = 1_700_000_000_000_000 // 2023-11-14 in microseconds
	for i := range rows {
		id.Append(int64(i))
		ts.Append(arrow.Timestamp(t0 + int64(i)*1_000))
		name.Append(fmt.Sprintf("user-%08d@example.com", i%100_000_000)[:24])
		x.Append(float64(i) * 0.5)
		y.Append(-float64(i) / 3)
		if i%97 == 0 {
			z.AppendNull()
		} else {
			z.Append(float64(i%1000) * 1.25)
		}
		ok.Append(i%3 == 0)
		count.Append(int32(i % 1_000_000))
		samples.Append(true)
		for k := range 4 {
			sv.Append(float64(i+k) * 0.1)
		}
		info.Append(true)
		label.Append("label")
		n.Append(int64(i) * 7)
		for k := range pl {
			pl[k] = byte(i + k)
		}
		payload.Append(pl[:])
		day.Append(arrow.Date32(19_000 + i%3650))
	}
	return b.NewRecordBatch()
}

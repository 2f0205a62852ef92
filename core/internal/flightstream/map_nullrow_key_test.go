package flightstream

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A null MAP row whose offsets still cover an entry (valid Arrow: what
// pyarrow's MapArray.from_arrays(..., mask=) builds) holding a key the
// table's key type cannot take (1.5, 1<<40 into INT) is a null row: the
// batch is sent, the row null. The cast made that key null, which a map
// cannot hold, and failed the whole batch ("map array child array should
// have no nulls"; review2 F-med-0). So did any cast map (int8 keys
// widened) with a null row over entries: those entries were made null.
func TestNullMapRowOverABadKeyIsNull(t *testing.T) {
	for _, keys := range []arrow.DataType{arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int8} {
		t.Run(keys.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			kb := array.NewBuilder(mem, keys)
			switch b := kb.(type) {
			case *array.Float64Builder:
				b.AppendValues([]float64{1, 1.5}, nil)
			case *array.Int64Builder:
				b.AppendValues([]int64{1, 1 << 40}, nil)
			case *array.Int8Builder:
				b.AppendValues([]int8{1, 2}, nil) // a key that fits, widened
			}
			k := kb.NewArray()
			kb.Release()
			defer k.Release()
			vb := array.NewInt64Builder(mem)
			vb.AppendValues([]int64{10, 20}, nil)
			v := vb.NewArray()
			vb.Release()
			defer v.Release()
			mt := arrow.MapOf(keys, arrow.PrimitiveTypes.Int64)
			ents := array.NewData(mt.Elem(), 2, []*memory.Buffer{nil}, []arrow.ArrayData{k.Data(), v.Data()}, 0, 0)
			defer ents.Release()
			// row 0 {1: 10}, row 1 null over {bad: 20}
			md := array.NewData(mt, 2, []*memory.Buffer{memory.NewBufferBytes([]byte{1}), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes([]int32{0, 1, 2}))}, []arrow.ArrayData{ents}, 1, 0)
			defer md.Release()
			m := array.MakeFromData(md)
			defer m.Release()
			rec := batchOf(t, []arrow.Field{{Name: "m", Type: mt, Nullable: true}}, m)
			defer rec.Release()
			to := arrow.NewSchema([]arrow.Field{{Name: "m", Type: arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64), Nullable: true}}, nil)
			c, err := PlanCast("t", rec.Schema(), to)
			if err != nil {
				t.Fatal(err)
			}
			out, nulls, _, err := c.ApplyWith(context.Background(), mem, rec)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Release()
			if len(nulls) != 0 || out.NumRows() != 2 {
				t.Fatalf("rows left out: %v (%d rows sent)", nulls, out.NumRows())
			}
			if got := out.Column(0).String(); got != `[{[1] [10]} (null)]` {
				t.Fatalf("m sent as %s", got)
			}
		})
	}
}

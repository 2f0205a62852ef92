package tests_go

import (
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Float MAP keys that come dictionary- or run-end encoded go into the
// table's integer key as plain ones do, on both transports: whole numbers
// stored, 2.5 failing its row alone. Protobuf refused the whole batch
// ("protobuf map keys must be integers…"): the catalog was read again only
// for keys whose own type is a float (review2 F-med-1).
func TestEncodedFloatMapKeysIntoAnIntegerKey(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	fb := array.NewFloat64Builder(mem)
	fb.AppendValues([]float64{1, 3, 2.5}, nil)
	vals := fb.NewArray()
	fb.Release()
	defer vals.Release()
	xb := array.NewInt8Builder(mem)
	xb.AppendValues([]int8{0, 1, 2}, nil)
	idx := xb.NewArray()
	xb.Release()
	defer idx.Release()
	dict := array.NewDictionaryArray(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.PrimitiveTypes.Float64}, idx, vals)
	defer dict.Release()
	rb := array.NewInt32Builder(mem)
	rb.AppendValues([]int32{1, 2, 3}, nil)
	ends := rb.NewArray()
	rb.Release()
	defer ends.Release()
	ree := array.NewRunEndEncodedArray(ends, vals, 3, 0)
	defer ree.Release()
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{10, 30, 20}, nil)
	items := ib.NewArray()
	ib.Release()
	defer items.Release()
	for name, keys := range map[string]arrow.Array{"dictionary": dict, "run_end": ree} {
		t.Run(name, func(t *testing.T) {
			mt := arrow.MapOfFields(arrow.Field{Name: "key", Type: keys.DataType()}, arrow.Field{Name: "value", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
			ents := array.NewData(mt.Elem(), 3, []*memory.Buffer{nil}, []arrow.ArrayData{keys.Data(), items.Data()}, 0, 0)
			defer ents.Release()
			// row 0 {1: 10, 3: 30}, row 1 {2.5: 20}
			md := array.NewData(mt, 2, []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes([]int32{0, 2, 3}))}, []arrow.ArrayData{ents}, 0, 0)
			defer md.Release()
			m := array.MakeFromData(md)
			defer m.Release()
			ids := array.NewInt64Builder(mem)
			ids.AppendValues([]int64{0, 1}, nil)
			id := ids.NewArray()
			ids.Release()
			defer id.Release()
			rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "m", Type: mt, Nullable: true}}, nil), []arrow.Array{id, m}, 2)
			defer rec.Release()
			cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, m MAP<INT, BIGINT>")
			if err != nil {
				t.Fatal(err)
			}
			stored, results := sendBoth(t, srv, "fmk_"+name, cols, rec)
			want := []map[string]any{{"id": int64(0), "m": map[string]any{"1": int64(10), "3": int64(30)}}}
			for transport, res := range results {
				checkFailedRows(t, transport, res, map[int]string{1: `column "m[0].key"`})
				if !reflect.DeepEqual(stored[transport], want) {
					t.Errorf("%s stored %#v, want %#v", transport, stored[transport], want)
				}
			}
		})
	}
}

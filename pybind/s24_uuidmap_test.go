//go:build cgo

package pybind

import (
	"fmt"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/cext"
)

// s24 uuidmap: arrow-go's C import dropped the arrow.uuid metadata of MAP
// keys and values and had no place for it on dictionary and run-end
// encoded values, so such UUIDs from Python arrived as plain
// fixed_size_binary[16]. The stream here is exported by arrow-go from
// registered arrow.uuid types, which writes the same C schema as pyarrow.
func TestS24ImportKeepsUUIDsBelowMapsAndDictionaries(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	u := extensions.NewUUIDType()
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: u}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "mu", Type: arrow.MapOf(u, u), Nullable: true},
		{Name: "ms", Type: arrow.MapOf(arrow.BinaryTypes.String, u), Nullable: true},
		{Name: "d", Type: dict, Nullable: true},
		{Name: "lm", Type: arrow.ListOf(arrow.MapOf(arrow.BinaryTypes.String, u)), Nullable: true},
		{Name: "sd", Type: arrow.StructOf(arrow.Field{Name: "x", Type: dict, Nullable: true}), Nullable: true},
		{Name: "r", Type: arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, u), Nullable: true},
		{Name: "top", Type: u, Nullable: true},
	}, nil)
	id := func(i int) []byte {
		b := make([]byte, 16)
		for j := range b {
			b[j] = byte(i*16 + j)
		}
		return b
	}
	uuids := func(n int, null int, base int) arrow.Array { // n UUIDs, null at null
		b := extensions.NewUUIDBuilder(mem)
		defer b.Release()
		for i := range n {
			if i == null {
				b.AppendNull()
			} else {
				b.AppendBytes([16]byte(id(base + i)))
			}
		}
		return b.NewArray()
	}
	build := func(dt arrow.DataType, fill func(array.Builder)) arrow.Array {
		b := array.NewBuilder(mem, dt)
		defer b.Release()
		fill(b)
		return b.NewArray()
	}
	const rows = 3
	cols := []arrow.Array{
		build(schema.Field(0).Type, func(b array.Builder) {
			mu := b.(*array.MapBuilder)
			for r := range rows {
				mu.Append(true)
				mu.KeyBuilder().(*extensions.UUIDBuilder).AppendBytes([16]byte(id(r)))
				mu.ItemBuilder().(*extensions.UUIDBuilder).AppendBytes([16]byte(id(r + 10)))
			}
		}),
		build(schema.Field(1).Type, func(b array.Builder) {
			ms := b.(*array.MapBuilder)
			for r := range rows {
				ms.Append(true)
				ms.KeyBuilder().(*array.StringBuilder).Append(fmt.Sprint("k", r))
				if r == 1 {
					ms.ItemBuilder().AppendNull()
				} else {
					ms.ItemBuilder().(*extensions.UUIDBuilder).AppendBytes([16]byte(id(r + 20)))
				}
			}
		}),
		nil, // d
		build(schema.Field(3).Type, func(b array.Builder) {
			lm := b.(*array.ListBuilder)
			for r := range rows {
				lm.Append(true)
				m := lm.ValueBuilder().(*array.MapBuilder)
				m.Append(true)
				m.KeyBuilder().(*array.StringBuilder).Append("a")
				m.ItemBuilder().(*extensions.UUIDBuilder).AppendBytes([16]byte(id(r + 30)))
			}
		}),
		nil, // sd
		nil, // r
		uuids(rows, -1, 40),
	}
	indices := func(vals ...int16) arrow.Array {
		b := array.NewInt16Builder(mem)
		defer b.Release()
		for _, v := range vals {
			if v < 0 {
				b.AppendNull()
			} else {
				b.Append(v)
			}
		}
		return b.NewArray()
	}
	dv, di := uuids(2, 1, 50), indices(1, 0, -1)
	cols[2] = array.NewDictionaryArray(dict, di, dv)
	dv2, di2 := uuids(2, -1, 60), indices(0, 1, 1)
	sdx := array.NewDictionaryArray(dict, di2, dv2)
	var err error
	if cols[4], err = array.NewStructArrayWithFields([]arrow.Array{sdx}, []arrow.Field{schema.Field(4).Type.(*arrow.StructType).Field(0)}); err != nil {
		t.Fatal(err)
	}
	ends := array.NewInt32Builder(mem)
	ends.AppendValues([]int32{2, 3}, nil)
	re := ends.NewArray()
	ends.Release()
	rv := uuids(2, -1, 70)
	cols[5] = array.NewRunEndEncodedArray(re, rv, rows, 0)
	for _, a := range []arrow.Array{dv, di, dv2, di2, sdx, re, rv} {
		a.Release()
	}
	rec := array.NewRecordBatch(schema, cols, rows)
	for _, c := range cols {
		c.Release()
	}
	defer rec.Release()
	rdr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	cs := new(cdata.CArrowArrayStream)
	cdata.ExportRecordReader(rdr, cs)
	s, err := importStream(int64(uintptr(unsafe.Pointer(cs))))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	got := s.Schema()
	t.Logf("imported schema:\n%s", got)
	isUUIDField := func(f arrow.Field) bool {
		v, _ := f.Metadata.GetValue("ARROW:extension:name")
		return v == "arrow.uuid" && arrow.TypeEqual(f.Type, &arrow.FixedSizeBinaryType{ByteWidth: 16})
	}
	isUUIDType := func(dt arrow.DataType) bool {
		et, ok := dt.(arrow.ExtensionType)
		return ok && et.ExtensionName() == "arrow.uuid"
	}
	mu := got.Field(0).Type.(*arrow.MapType)
	if !isUUIDField(mu.KeyField()) || !isUUIDField(mu.ItemField()) {
		t.Errorf("mu = %s, want a map of UUID-named fields", mu)
	}
	if ms := got.Field(1).Type.(*arrow.MapType); !isUUIDField(ms.ItemField()) || ms.KeyField().Metadata.Len() != 0 {
		t.Errorf("ms = %s, want string keys and UUID-named values", ms)
	}
	if d := got.Field(2).Type.(*arrow.DictionaryType); !isUUIDType(d.ValueType) {
		t.Errorf("d = %s, want a dictionary of arrow.uuid", d)
	}
	if lm := got.Field(3).Type.(*arrow.ListType).Elem().(*arrow.MapType); !isUUIDField(lm.ItemField()) {
		t.Errorf("lm = %s, want a list of maps of UUID-named values", lm)
	}
	if sd := got.Field(4).Type.(*arrow.StructType).Field(0).Type.(*arrow.DictionaryType); !isUUIDType(sd.ValueType) {
		t.Errorf("sd.x = %s, want a dictionary of arrow.uuid", sd)
	}
	if r := got.Field(5).Type.(*arrow.RunEndEncodedType); !isUUIDType(r.Encoded()) {
		t.Errorf("r = %s, want run-end encoded arrow.uuid", r)
	}
	if !isUUIDField(got.Field(6)) {
		t.Errorf("top = %s (%s), want a UUID-named field", got.Field(6).Type, got.Field(6).Metadata)
	}
	if !s.Next() {
		t.Fatalf("no batch: %v", s.Err())
	}
	b := s.RecordBatch()
	if !b.Schema().Equal(got) {
		t.Errorf("batch schema\n%s\nwant\n%s", b.Schema(), got)
	}
	// The values: both batches as the storage types the import read.
	wantPlain, err := cext.Retype(rec, s.imported)
	if err != nil {
		t.Fatal(err)
	}
	defer wantPlain.Release()
	gotPlain, err := cext.Retype(b, s.imported)
	if err != nil {
		t.Fatal(err)
	}
	defer gotPlain.Release()
	for i, col := range b.Columns() {
		if !arrow.TypeEqual(col.DataType(), got.Field(i).Type, arrow.CheckMetadata()) {
			t.Errorf("column %d is %s, want %s", i, col.DataType(), got.Field(i).Type)
		}
		if !array.Equal(gotPlain.Column(i), wantPlain.Column(i)) {
			t.Errorf("column %d = %s, want %s", i, gotPlain.Column(i), wantPlain.Column(i))
		}
	}
	if _, ok := b.Column(2).(*array.Dictionary).Dictionary().(*cext.UUIDArray); !ok {
		t.Errorf("d's dictionary is %T, want a cext.UUIDArray", b.Column(2).(*array.Dictionary).Dictionary())
	}
	if s.Next() {
		t.Error("a second batch")
	}
}

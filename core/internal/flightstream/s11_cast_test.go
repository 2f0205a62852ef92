package flightstream

import (
	"context"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// TestFloat16SubnormalsWidenExactly: float16 to FLOAT and DOUBLE columns,
// top level and in a struct, keeps subnormals (2^-24 was 2^-136 through
// arrow-go's cast kernel), ±0, normals, ±Inf and NaN.
func TestFloat16SubnormalsWidenExactly(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	bits := []uint16{0x0001, 0x8001, 0x03ff, 0x0200, 0x0400, 0x0000, 0x8000, 0x3c00, 0x7bff, 0x7c00, 0xfc00, 0x7e00}
	want := []float64{math.Ldexp(1, -24), -math.Ldexp(1, -24), math.Ldexp(1023, -24), math.Ldexp(1, -15), math.Ldexp(1, -14), 0, math.Copysign(0, -1), 1, 65504, math.Inf(1), math.Inf(-1), math.NaN()}
	mk := func() arrow.Array {
		b := array.NewFloat16Builder(mem)
		defer b.Release()
		for i, h := range bits {
			if i == 5 {
				b.AppendNull()
			}
			b.Append(float16.FromBits(h))
		}
		return b.NewArray()
	}
	// want with the null inserted at 5
	wantAt := func(i int) (float64, bool) {
		switch {
		case i < 5:
			return want[i], true
		case i == 5:
			return 0, false
		}
		return want[i-1], true
	}
	check := func(name string, got func(i int) float64, isNull func(i int) bool, n int) {
		t.Helper()
		if n != len(bits)+1 {
			t.Fatalf("%s: %d values", name, n)
		}
		for i := range n {
			w, ok := wantAt(i)
			if !ok {
				if !isNull(i) {
					t.Fatalf("%s[%d]: not null", name, i)
				}
				continue
			}
			g := got(i)
			if math.IsNaN(w) && math.IsNaN(g) {
				continue
			}
			if g != w || math.Signbit(g) != math.Signbit(w) {
				t.Fatalf("%s[%d]: got %g, want %g", name, i, g, w)
			}
		}
	}
	s := arrow.StructOf(arrow.Field{Name: "h", Type: arrow.FixedWidthTypes.Float16, Nullable: true})
	hv := mk()
	sd := array.NewData(s, len(bits)+1, []*memory.Buffer{nil}, []arrow.ArrayData{hv.Data()}, 0, 0)
	hv.Release()
	sa := array.MakeFromData(sd)
	sd.Release()
	rec := batchOf(t, []arrow.Field{
		{Name: "f", Type: arrow.FixedWidthTypes.Float16, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Float16, Nullable: true},
		{Name: "s", Type: s, Nullable: true},
	}, mk(), mk(), sa)
	defer rec.Release()
	target := arrow.NewSchema([]arrow.Field{
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "h", Type: arrow.PrimitiveTypes.Float32, Nullable: true}), Nullable: true},
	}, nil)
	c, err := PlanCast("t", rec.Schema(), target)
	if err != nil {
		t.Fatal(err)
	}
	out, nulls, _, err := c.ApplyWith(context.Background(), mem, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if len(nulls) != 0 {
		t.Fatalf("rows left out: %v", nulls)
	}
	f := out.Column(0).(*array.Float32)
	check("f", func(i int) float64 { return float64(f.Value(i)) }, f.IsNull, f.Len())
	d := out.Column(1).(*array.Float64)
	check("d", func(i int) float64 { return d.Value(i) }, d.IsNull, d.Len())
	h := out.Column(2).(*array.Struct).Field(0).(*array.Float32)
	check("s.h", func(i int) float64 { return float64(h.Value(i)) }, h.IsNull, h.Len())
}

// nullStructOverDict builds what pyarrow builds for
// oneValueDict is dictionary<int32, string> data over the one value "x"
// with the given indices and validity (nil: all valid; nulls its count),
// where an index under a null parent may point past the dictionary.
func oneValueDict(mem memory.Allocator, valid []byte, nulls int, idx []int32) arrow.ArrayData {
	db := array.NewStringBuilder(mem)
	defer db.Release()
	db.Append("x")
	dict := db.NewArray()
	defer dict.Release()
	var vb *memory.Buffer
	if valid != nil {
		vb = memory.NewBufferBytes(valid)
	}
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	return array.NewDataWithDictionary(dt, len(idx), []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(idx))}, nulls, 0, dict.Data().(*array.Data))
}

// pa.array([None, {"f": None}, {"f": "x"}], struct<f: dictionary<int32, string>>)
// with the struct's first row null and, under it, index 1 of a one-value
// dictionary (undefined in Arrow: not to be decoded), and the same nested
// one level deeper (struct<s: struct<f: …>>, the outer struct null).
func nullStructOverDict(mem memory.Allocator) (flat, deep arrow.Array) {
	dd := oneValueDict(mem, []byte{0b101}, 1, []int32{1, 0, 0})
	defer dd.Release()
	dt := dd.DataType()
	st := arrow.StructOf(arrow.Field{Name: "f", Type: dt, Nullable: true})
	sd := array.NewData(st, 3, []*memory.Buffer{memory.NewBufferBytes([]byte{0b110})}, []arrow.ArrayData{dd}, 1, 0)
	defer sd.Release()
	// deep: the outer struct null at row 0, the inner valid everywhere.
	inner := array.NewData(st, 3, []*memory.Buffer{nil}, []arrow.ArrayData{dd}, 0, 0)
	defer inner.Release()
	ot := arrow.StructOf(arrow.Field{Name: "s", Type: st, Nullable: true})
	od := array.NewData(ot, 3, []*memory.Buffer{memory.NewBufferBytes([]byte{0b110})}, []arrow.ArrayData{inner}, 1, 0)
	defer od.Release()
	return array.MakeFromData(sd), array.MakeFromData(od)
}

// TestNullStructOverDictionaryIsCast (G6): a dictionary field's index under
// a null struct is not decoded (it pointed past the dictionary and failed
// the whole batch: "index error: 1 out of bounds").
func TestNullStructOverDictionaryIsCast(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	flat, deep := nullStructOverDict(mem)
	rec := batchOf(t, []arrow.Field{{Name: "s", Type: flat.DataType(), Nullable: true}, {Name: "o", Type: deep.DataType(), Nullable: true}}, flat, deep)
	defer rec.Release()
	st := arrow.StructOf(arrow.Field{Name: "f", Type: arrow.BinaryTypes.LargeString, Nullable: true})
	target := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: st, Nullable: true},
		{Name: "o", Type: arrow.StructOf(arrow.Field{Name: "s", Type: st, Nullable: true}), Nullable: true},
	}, nil)
	c, err := PlanCast("t", rec.Schema(), target)
	if err != nil {
		t.Fatal(err)
	}
	out, nulls, _, err := c.ApplyWith(context.Background(), mem, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if len(nulls) != 0 || out.NumRows() != 3 {
		t.Fatalf("rows left out: %v (%d rows)", nulls, out.NumRows())
	}
	want := `[{<nil>} {<nil>} {"x"}]`
	s := out.Column(0).(*array.Struct)
	if s.IsValid(0) || !s.IsValid(1) || s.Field(0).String() != `[(null) (null) "x"]` {
		t.Fatalf("s: %v (want null, {null}, {x}: %s)", s, want)
	}
	o := out.Column(1).(*array.Struct)
	in := o.Field(0).(*array.Struct)
	if o.IsValid(0) || !in.IsValid(1) || in.Field(0).(*array.LargeString).Value(2) != "x" || !in.Field(0).IsNull(1) {
		t.Fatalf("o: %v", o)
	}
}

// The DECIMAL(p,s) metadata of the catalog read (convert.DecimalMeta) is
// checked against but not sent: the Caster's target has none.
func TestDecimalMetaNotInTarget(t *testing.T) {
	dec := arrow.Field{Name: "d", Type: arrow.BinaryTypes.LargeString, Nullable: true, Metadata: convert.DecimalMeta(10, 2)}
	to := arrow.NewSchema([]arrow.Field{
		dec,
		{Name: "s", Type: arrow.StructOf(dec), Nullable: true},
		{Name: "l", Type: arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.BinaryTypes.LargeString, Nullable: true, Metadata: convert.DecimalMeta(3, 1)}), Nullable: true},
		{Name: "m", Type: arrow.MapOfFields(
			arrow.Field{Name: "key", Type: arrow.BinaryTypes.LargeString, Metadata: convert.DecimalMeta(5, 1)},
			arrow.Field{Name: "value", Type: arrow.StructOf(dec), Nullable: true, Metadata: convert.DecimalMeta(5, 1)}), Nullable: true},
	}, nil)
	dt := &arrow.Decimal128Type{Precision: 20, Scale: 3}
	from := arrow.NewSchema([]arrow.Field{
		{Name: "d", Type: dt, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "d", Type: dt, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(dt), Nullable: true},
	}, nil)
	c, err := PlanCast("t", from, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.decimal) != 3 {
		t.Fatalf("decimal columns %v", c.decimal)
	}
	// arrow-go prints field metadata only at the top level: walk every
	// field, list element, struct field and map key and value.
	var walk func(f arrow.Field, path string)
	walk = func(f arrow.Field, path string) {
		if _, ok := f.Metadata.GetValue(convert.DecimalMetaKey); ok {
			t.Errorf("%s of the target carries %s metadata", path, convert.DecimalMetaKey)
		}
		switch t := f.Type.(type) {
		case *arrow.StructType:
			for _, g := range t.Fields() {
				walk(g, path+"."+g.Name)
			}
		case *arrow.MapType:
			walk(t.KeyField(), path+".key")
			walk(t.ItemField(), path+".value")
		case arrow.ListLikeType:
			walk(t.ElemField(), path+"[]")
		}
	}
	for _, f := range c.Target().Fields() {
		walk(f, f.Name)
	}
}

// TestNullListOverDictionaryIsCast: the elements in the range of a null
// list row are not decoded (an index there past the dictionary failed the
// batch), for a list of dictionaries and a list of structs of them.
func TestNullListOverDictionaryIsCast(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	// elements: 0 (row 0), 7 (row 1, null: out of range), 0 (row 2)
	dd := oneValueDict(mem, nil, 0, []int32{0, 7, 0})
	defer dd.Release()
	dt := dd.DataType()
	offs := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes([]int32{0, 1, 2, 3}))
	rowsValid := memory.NewBufferBytes([]byte{0b101})
	ld := array.NewData(arrow.ListOf(dt), 3, []*memory.Buffer{rowsValid, offs}, []arrow.ArrayData{dd}, 1, 0)
	defer ld.Release()
	st := arrow.StructOf(arrow.Field{Name: "f", Type: dt, Nullable: true})
	sd := array.NewData(st, 3, []*memory.Buffer{nil}, []arrow.ArrayData{dd}, 0, 0)
	defer sd.Release()
	lsd := array.NewData(arrow.ListOf(st), 3, []*memory.Buffer{rowsValid, offs}, []arrow.ArrayData{sd}, 1, 0)
	defer lsd.Release()
	rec := batchOf(t, []arrow.Field{{Name: "l", Type: arrow.ListOf(dt), Nullable: true}, {Name: "ls", Type: arrow.ListOf(st), Nullable: true}},
		array.MakeFromData(ld), array.MakeFromData(lsd))
	defer rec.Release()
	tst := arrow.StructOf(arrow.Field{Name: "f", Type: arrow.BinaryTypes.LargeString, Nullable: true})
	target := arrow.NewSchema([]arrow.Field{
		{Name: "l", Type: arrow.ListOf(arrow.BinaryTypes.LargeString), Nullable: true},
		{Name: "ls", Type: arrow.ListOf(tst), Nullable: true},
	}, nil)
	c, err := PlanCast("t", rec.Schema(), target)
	if err != nil {
		t.Fatal(err)
	}
	out, nulls, _, err := c.ApplyWith(context.Background(), mem, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if len(nulls) != 0 || out.NumRows() != 3 {
		t.Fatalf("rows left out: %v (%d rows)", nulls, out.NumRows())
	}
	if got := out.Column(0).String(); got != `[["x"] (null) ["x"]]` {
		t.Fatalf("l: %s", got)
	}
	l := out.Column(1).(*array.List)
	if l.IsValid(1) || !l.IsValid(2) || l.ListValues().(*array.Struct).Field(0).(*array.LargeString).Value(2) != "x" {
		t.Fatalf("ls: %v", l)
	}
}

// TestDecimalCheckSkippedWhenEveryValueFits: checkDecimals does not look at
// the values of a decimal type every value of which fits the table's
// DECIMAL(p,s) (convert.DecimalAlwaysFits); it checks a type that may not.
func TestDecimalCheckSkippedWhenEveryValueFits(t *testing.T) {
	b := array.NewLargeStringBuilder(memory.DefaultAllocator)
	b.Append("123456789012345.9999") // not a decimal(14,4) value: shows whether it was looked at
	out := b.NewArray()
	b.Release()
	defer out.Release()
	to := arrow.Field{Name: "d", Type: arrow.BinaryTypes.LargeString, Metadata: convert.DecimalMeta(14, 4)}
	if bad := checkDecimals(out, &arrow.Decimal128Type{Precision: 14, Scale: 4}, to); len(bad) != 0 {
		t.Errorf("decimal(14,4) into DECIMAL(14,4) was checked: %v", bad)
	}
	if bad := checkDecimals(out, &arrow.Decimal128Type{Precision: 19, Scale: 4}, to); len(bad) != 1 {
		t.Errorf("decimal(19,4) into DECIMAL(14,4): %v, want the value refused", bad)
	}
}

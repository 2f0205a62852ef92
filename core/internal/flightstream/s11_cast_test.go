package flightstream

import (
	"context"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
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

package flightstream

import (
	"context"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// List views, dictionaries and run-end encoded arrays of types arrow-go's
// take kernel has no kernel for (decimal32/64, string views, and a struct
// holding a view, for which the struct kernel panicked in its own
// goroutine) are decoded by concatenating slices. Found by
// TestRoundTripRandom (seeds 1, 53, 113): the batch failed with "function
// 'array_take' has no kernel", or the process crashed.
func TestCastGathersTypesWithoutTakeKernel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	d64 := &arrow.Decimal64Type{Precision: 11, Scale: 3}
	svs := arrow.StructOf(arrow.Field{Name: "s", Type: arrow.BinaryTypes.StringView, Nullable: true})

	lv := array.NewListViewBuilder(mem, d64)
	db := lv.ValueBuilder().(*array.Decimal64Builder)
	lv.AppendWithSize(true, 2)
	db.Append(decimal.Decimal64(12345))
	db.Append(decimal.Decimal64(-5))
	lv.AppendNull()
	lv.AppendWithSize(true, 0)
	lv.AppendWithSize(true, 1)
	db.Append(decimal.Decimal64(7))
	lva := lv.NewArray()
	lv.Release()

	ls := array.NewLargeListViewBuilder(mem, svs)
	sb := ls.ValueBuilder().(*array.StructBuilder)
	vb := sb.FieldBuilder(0).(*array.StringViewBuilder)
	ls.AppendWithSize(true, 1)
	sb.Append(true)
	vb.Append("a string view longer than twelve bytes")
	ls.AppendWithSize(true, 1)
	sb.Append(true)
	vb.AppendNull()
	ls.AppendNull()
	ls.AppendWithSize(true, 1)
	sb.Append(true)
	vb.Append("é")
	lsa := ls.NewArray()
	ls.Release()

	ree := array.NewRunEndEncodedBuilder(mem, arrow.PrimitiveTypes.Int32, d64)
	rv := ree.ValueBuilder().(*array.Decimal64Builder)
	ree.Append(2)
	rv.Append(decimal.Decimal64(1))
	ree.AppendNull()
	ree.Append(1)
	rv.Append(decimal.Decimal64(-100000))
	reea := ree.NewArray()
	ree.Release()

	fields := []arrow.Field{{Name: "lv", Type: lva.DataType(), Nullable: true}, {Name: "ls", Type: lsa.DataType(), Nullable: true},
		{Name: "ree", Type: reea.DataType(), Nullable: true}}
	rec := batchOf(t, fields, lva, lsa, reea)
	defer rec.Release()
	_, _, out := castCanonical(t, rec)
	defer out.Release()
	for i, want := range []string{
		`[["12.345" "-0.005"] (null) [] ["0.007"]]`,
		`[{["a string view longer than twelve bytes"]} {[(null)]} (null) {["é"]}]`,
		`["0.001" "0.001" (null) "-100.000"]`,
	} {
		if got := out.Column(i).String(); got != want {
			t.Errorf("column %s: %s, want %s", fields[i].Name, got, want)
		}
	}
}

// A map key whose cast fails (a duration in seconds that overflows
// microseconds) leaves its row out, named "m[1].key" as on the protobuf
// path; the other rows are cast. Found by TestRoundTripRandom (seed 195):
// the null key made arrow-go refuse the map ("keys array should have no
// nulls") and the whole batch failed.
func TestMapKeyOutOfRangeLeavesItsRowOut(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	mt := arrow.MapOf(arrow.FixedWidthTypes.Duration_s, arrow.FixedWidthTypes.Boolean)
	m := fromJSON(t, mem, mt, `[[{"key": 1, "value": true}], [{"key": 2, "value": false}, {"key": 9223372036854775807, "value": true}], null, [{"key": -3, "value": null}]]`)
	rec := batchOf(t, []arrow.Field{{Name: "m", Type: mt, Nullable: true}}, m)
	defer rec.Release()
	c, _ := planCanonical(t, rec.Schema())
	out, nulls, keep, err := c.ApplyWith(context.Background(), mem, rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if len(nulls) != 2 || nulls[0].Row != 1 || nulls[0].Column != "m[1].key" || nulls[1].Row != 3 || nulls[1].Column != "m[0].value" {
		t.Fatalf("rows left out: %+v", nulls)
	}
	if got := out.Column(0).String(); got != `[{[1000000] [true]} (null)]` || !reflect.DeepEqual(keep, []int{0, 2}) {
		t.Fatalf("cast: %s, rows kept %v", got, keep)
	}
}

// A fixed-size binary column without a validity bitmap (no nulls, as IPC
// and Parquet readers and array.Concatenate give it), whole or sliced,
// goes to a BINARY column. Found by TestRoundTripRandom (a long run): arrow-go's
// cast kernel dereferenced the missing bitmap in its own goroutine and
// the process crashed.
func TestFixedSizeBinaryWithoutValidityBitmap(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	ft := &arrow.FixedSizeBinaryType{ByteWidth: 2}
	vals := memory.NewBufferBytes([]byte("aabbccdd"))
	d := array.NewData(ft, 4, []*memory.Buffer{nil, vals}, nil, 0, 0)
	defer d.Release()
	whole := array.MakeFromData(d)
	part := array.NewSlice(whole, 1, 3)
	withNull := fromJSON(t, mem, ft, `["7v8=", null]`) // base64 of ee ff
	defer withNull.Release()
	for _, c := range []struct {
		a    arrow.Array
		want string
	}{{whole, `["aa" "bb" "cc" "dd"]`}, {part, `["bb" "cc"]`}, {withNull, `["\xee\xff" (null)]`}} {
		rec := batchOf(t, []arrow.Field{{Name: "b", Type: ft, Nullable: true}}, c.a)
		_, _, out := castCanonical(t, rec)
		if got := out.Column(0).String(); got != c.want {
			t.Errorf("cast %s: %s, want %s", c.want, got, c.want)
		}
		out.Release()
		rec.Release()
	}
}

// A list view of run-end encoded values, its rows laid out in reverse and
// sliced, is cast to the values its offsets and runs say. Found by
// TestRoundTripRandom (a long run): the slices of the run-end encoded
// elements were joined with arrow-go's Concatenate, which gets slices of
// run-end encoded arrays wrong, and rows were stored with other rows'
// values.
func TestListViewOfRunEndEncodedSliced(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rb := array.NewRunEndEncodedBuilder(mem, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int8)
	vb := rb.ValueBuilder().(*array.Int8Builder)
	for k, run := range []uint64{1, 3, 2, 3, 2} { // runs across the rows' ranges
		rb.Append(run)
		vb.Append(int8(10 * (k + 1)))
	}
	child := rb.NewArray()
	rb.Release()
	defer child.Release()
	offs, sizes := []int32{8, 5, 1, 0, 0}, []int32{3, 3, 4, 1, 0} // rows in reverse
	d := array.NewData(arrow.ListViewOf(child.DataType()), 5, []*memory.Buffer{nil,
		memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs)), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(sizes))},
		[]arrow.ArrayData{child.Data()}, 0, 0)
	whole := array.MakeFromData(d)
	d.Release()
	lv := array.NewSlice(whole, 1, 5).(*array.ListView)
	whole.Release()
	var want [][]int8 // read with the offsets and the runs, element by element
	ree := lv.ListValues().(*array.RunEndEncoded)
	for i := range lv.Len() {
		s, e := lv.ValueOffsets(i)
		row := []int8{}
		for j := s; j < e; j++ {
			row = append(row, ree.Values().(*array.Int8).Value(ree.GetPhysicalIndex(int(j))))
		}
		want = append(want, row)
	}
	rec := batchOf(t, []arrow.Field{{Name: "l", Type: lv.DataType(), Nullable: true}}, lv)
	defer rec.Release()
	_, _, out := castCanonical(t, rec)
	defer out.Release()
	got := out.Column(0).(*array.List)
	for i, w := range want {
		s, e := got.ValueOffsets(i)
		row := []int8{}
		for j := s; j < e; j++ {
			row = append(row, int8(got.ListValues().(*array.Int8).Value(int(j))))
		}
		if !reflect.DeepEqual(row, w) {
			t.Errorf("row %d: %v, want %v (all: %v)", i, row, w, got)
		}
	}
}

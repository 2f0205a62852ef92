package flightstream

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A float column into a table integer type and an integer column into
// FLOAT or DOUBLE: each value is converted by convert's rule, one it does
// not take (a fraction, NaN, ±Inf, out of range; an integer the float would
// round) is left out with its reason, the others are sent as they are
// (-0.0 as 0); what a null slot holds is not a value.
func TestFloatIntCastsCheckEachValue(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	negZero := math.Copysign(0, -1)
	f64b := array.NewFloat64Builder(mem)
	f64b.AppendValues([]float64{2147483647, -2147483648, negZero, 2147483648, 1.5, math.NaN(), math.Inf(1), math.NaN(), 7}, []bool{true, true, true, true, true, true, true, false, true})
	f32b := array.NewFloat32Builder(mem)
	f32b.AppendValues([]float32{-32768, 32767, 32768, 0.25}, nil)
	f16b := array.NewFloat16Builder(mem)
	f16b.AppendValues([]float16.Num{float16.New(-128), float16.New(127), float16.New(128), float16.New(0.5)}, nil)
	i64b := array.NewInt64Builder(mem)
	i64b.AppendValues([]int64{1 << 53, -1 << 53, 1<<53 + 1, math.MaxInt64, math.MinInt64, 1<<53 + 2, 1 << 62}, nil)
	u64b := array.NewUint64Builder(mem)
	u64b.AppendValues([]uint64{1 << 63, math.MaxUint64, 1<<53 + 1, 0}, []bool{true, true, true, false})
	i32b := array.NewInt32Builder(mem)
	i32b.AppendValues([]int32{1 << 24, 1<<24 + 1, -1<<24 - 1, 1 << 30, math.MaxInt32}, nil)
	i8b := array.NewInt8Builder(mem)
	i8b.AppendValues([]int8{-128, 127}, nil)
	var arrs []arrow.Array
	for _, b := range []array.Builder{f64b, f32b, f16b, i64b, u64b, i32b, i8b} {
		arrs = append(arrs, b.NewArray())
		b.Release()
	}
	defer func() {
		for _, a := range arrs {
			a.Release()
		}
	}()
	f64, f32, f16, i64, u64, i32, i8 := arrs[0], arrs[1], arrs[2], arrs[3], arrs[4], arrs[5], arrs[6]
	s := array.NewSlice(f64, 2, 6)
	defer s.Release()
	for _, tc := range []struct {
		col  arrow.Array
		to   arrow.DataType
		bad  map[int]string
		sent string
	}{
		{f64, arrow.PrimitiveTypes.Int32, map[int]string{
			3: "float64 value 2147483648 is over the INT maximum 2147483647",
			4: "float64 value 1.5 is not a whole number (the table's column is INT, and the value is not rounded)",
			5: "float64 value NaN is not a number (the table's column is INT)",
			6: "float64 value +Inf is over the INT maximum",
		}, "[2147483647 -2147483648 0 (null) (null) (null) (null) (null) 7]"},
		{s, arrow.PrimitiveTypes.Int64, map[int]string{2: "float64 value 1.5 is not a whole number", 3: "float64 value NaN"}, "[0 2147483648 (null) (null)]"},
		{f32, arrow.PrimitiveTypes.Int16, map[int]string{2: "float32 value 32768 is over the SMALLINT maximum 32767", 3: "float32 value 0.25 is not a whole number"}, "[-32768 32767 (null) (null)]"},
		{f16, arrow.PrimitiveTypes.Int8, map[int]string{2: "float16 value 128 is over the TINYINT maximum 127", 3: "float16 value 0.5 is not a whole number"}, "[-128 127 (null) (null)]"},
		{i64, arrow.PrimitiveTypes.Float64, map[int]string{
			2: "int64 value 9007199254740993 is not exact as a DOUBLE (the nearest is 9007199254740992,",
			3: "int64 value 9223372036854775807 is not exact as a DOUBLE (the nearest is 9223372036854775808,",
		}, "[9.007199254740992e+15 -9.007199254740992e+15 (null) (null) -9.223372036854776e+18 9.007199254740994e+15 4.611686018427388e+18]"},
		{u64, arrow.PrimitiveTypes.Float64, map[int]string{1: "uint64 value 18446744073709551615 is not exact as a DOUBLE", 2: "uint64 value 9007199254740993"}, "[9.223372036854776e+18 (null) (null) (null)]"},
		{i32, arrow.PrimitiveTypes.Float32, map[int]string{1: "int32 value 16777217 is not exact as a FLOAT (the nearest is 16777216,", 2: "int32 value -16777217", 4: "int32 value 2147483647 is not exact as a FLOAT (the nearest is 2147483648,"}, "[1.6777216e+07 (null) (null) 1.0737418e+09 (null)]"},
		{i32, arrow.PrimitiveTypes.Float64, nil, "[1.6777216e+07 1.6777217e+07 -1.6777217e+07 1.073741824e+09 2.147483647e+09]"},
		{i8, arrow.PrimitiveTypes.Float32, nil, "[-128 127]"},
	} {
		got, bv, err := castTo(context.Background(), mem, tc.col, tc.to)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != tc.sent || len(bv) != len(tc.bad) {
			t.Errorf("%s → %s: sent %s, bad %v", tc.col.DataType(), tc.to, got, bv)
		}
		for _, v := range bv {
			if !strings.HasPrefix(v.reason, tc.bad[v.i]) {
				t.Errorf("%s → %s: element %d: %q, want %q", tc.col.DataType(), tc.to, v.i, v.reason, tc.bad[v.i])
			}
		}
		got.Release()
	}

	// A dictionary of float64 (pandas' category of floats) into BIGINT.
	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.PrimitiveTypes.Float64}).(*array.Float64DictionaryBuilder)
	for _, v := range []float64{5, 0.5, 5, -1} {
		if err := db.Append(v); err != nil {
			t.Fatal(err)
		}
	}
	d := db.NewArray()
	db.Release()
	defer d.Release()
	got, bv, err := castTo(context.Background(), mem, d, arrow.PrimitiveTypes.Int64)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != "[5 (null) 5 -1]" || len(bv) != 1 || bv[0].i != 1 || !strings.HasPrefix(bv[0].reason, "float64 value 0.5 is not a whole number (the table's column is BIGINT") {
		t.Errorf("dictionary: sent %s, bad %v", got, bv)
	}
	got.Release()

	// The plan takes them (they were "no safe cast"); a string into an INT is still refused.
	table := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "c", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	}, nil)
	batch := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.FixedWidthTypes.Float16, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "c", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	if _, err := PlanCast("t", batch, table); err != nil {
		t.Errorf("plan: %v", err)
	}
	if why := castable(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32); why != "no safe cast" {
		t.Errorf("string into INT: %q", why)
	}
}

package flightstream

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// A float column into a table integer type (pandas' integer column holding
// a missing value is float64) and an integer column into a table FLOAT or
// DOUBLE: each value converted by convert's rule (convert.FloatToInt,
// convert.IntToFloat), the one the protobuf path converts by. A value the
// rule does not take (a fraction, NaN, ±Inf, out of range; an integer the
// float would round) is a bad element (null in out, its row left out, with
// convert's reason); the others are sent.

// floatsToInts casts the float16, float32 or float64 array a into the
// table integer type to; ok is false for other casts.
func floatsToInts(mem memory.Allocator, a arrow.Array, to arrow.DataType) (out arrow.Array, bad []badValue, ok bool) {
	t, ok := convert.TableIntOf(to)
	if !ok {
		return nil, nil, false
	}
	switch f := a.(type) {
	case *array.Float64:
		return floatsToIntsAs(mem, a, f.Float64Values(), to, t)
	case *array.Float32:
		return floatsToIntsAs(mem, a, f.Float32Values(), to, t)
	case *array.Float16:
		vals := make([]float32, len(f.Values()))
		for i, v := range f.Values() {
			vals[i] = convert.HalfToFloat32(v.Uint16()) // exact
		}
		return floatsToIntsAs(mem, a, vals, to, t)
	}
	return nil, nil, false
}

func floatsToIntsAs[F float32 | float64](mem memory.Allocator, a arrow.Array, vals []F, to arrow.DataType, t convert.TableInt) (arrow.Array, []badValue, bool) {
	switch to.ID() {
	case arrow.INT8:
		return floatsInto[F, int8](mem, a, vals, to, t)
	case arrow.INT16:
		return floatsInto[F, int16](mem, a, vals, to, t)
	case arrow.INT32:
		return floatsInto[F, int32](mem, a, vals, to, t)
	default:
		return floatsInto[F, int64](mem, a, vals, to, t)
	}
}

// floatsInto writes vals (a's values) as D into a new array of type to; a
// value convert.FloatToInt does not take is a bad element.
func floatsInto[F float32 | float64, D tableIntVal](mem memory.Allocator, a arrow.Array, vals []F, to arrow.DataType, t convert.TableInt) (arrow.Array, []badValue, bool) {
	if len(vals) != a.Len() {
		panic(fmt.Sprintf("the %s array has %d values for %d elements", a.DataType(), len(vals), a.Len())) // castTo's error
	}
	buf, out := newValues[D](mem, len(vals))
	defer buf.Release()
	nulls := a.NullN()
	var bad []badValue
	for i, v := range vals {
		if n, ok := convert.FloatToInt(float64(v), t); ok {
			out[i] = D(n)
			continue
		}
		out[i] = 0
		if nulls > 0 && a.IsNull(i) {
			continue // what a null slot holds is not a value
		}
		bad = append(bad, badValue{i: i, reason: convert.FloatToIntReason(a.DataType(), float64(v), t)})
	}
	return finishNarrow(mem, a, to, buf, nulls, bad), bad, true
}

// intsToFloats casts the integer array a into the table's FLOAT or DOUBLE;
// ok is false for other casts.
func intsToFloats(mem memory.Allocator, a arrow.Array, to arrow.DataType) (out arrow.Array, bad []badValue, ok bool) {
	if !convert.IsInteger(a.DataType()) {
		return nil, nil, false
	}
	switch to.ID() {
	case arrow.FLOAT32:
		return intsToFloatsAs[float32](mem, a, to, false)
	case arrow.FLOAT64:
		return intsToFloatsAs[float64](mem, a, to, true)
	}
	return nil, nil, false
}

func intsToFloatsAs[D float32 | float64](mem memory.Allocator, a arrow.Array, to arrow.DataType, double bool) (arrow.Array, []badValue, bool) {
	switch a.DataType().ID() {
	case arrow.INT8:
		return intsInto[int8, D](mem, a, arrow.GetValues[int8](a.Data(), 1), to, double)
	case arrow.INT16:
		return intsInto[int16, D](mem, a, arrow.GetValues[int16](a.Data(), 1), to, double)
	case arrow.INT32:
		return intsInto[int32, D](mem, a, arrow.GetValues[int32](a.Data(), 1), to, double)
	case arrow.INT64:
		return intsInto[int64, D](mem, a, arrow.GetValues[int64](a.Data(), 1), to, double)
	case arrow.UINT8:
		return intsInto[uint8, D](mem, a, arrow.GetValues[uint8](a.Data(), 1), to, double)
	case arrow.UINT16:
		return intsInto[uint16, D](mem, a, arrow.GetValues[uint16](a.Data(), 1), to, double)
	case arrow.UINT32:
		return intsInto[uint32, D](mem, a, arrow.GetValues[uint32](a.Data(), 1), to, double)
	case arrow.UINT64:
		return intsInto[uint64, D](mem, a, arrow.GetValues[uint64](a.Data(), 1), to, double)
	}
	return nil, nil, false
}

// intsInto writes vals (a's values) as D into a new array of type to; a
// value convert.IntToFloat does not hold exactly is a bad element.
func intsInto[T anyInt, D float32 | float64](mem memory.Allocator, a arrow.Array, vals []T, to arrow.DataType, double bool) (arrow.Array, []badValue, bool) {
	if len(vals) != a.Len() {
		panic(fmt.Sprintf("the %s array has %d values for %d elements", a.DataType(), len(vals), a.Len())) // castTo's error
	}
	buf, out := newValues[D](mem, len(vals))
	defer buf.Release()
	nulls := a.NullN()
	var bad []badValue
	lim := convert.ExactIntBelow(double)
	for i, v := range vals {
		if f := float64(v); f > -lim && f < lim {
			out[i] = D(v) // exact (convert.IntToFloat's fast case)
			continue
		}
		if f, ok := convert.IntToFloat(v, double); ok {
			out[i] = D(f)
			continue
		}
		out[i] = 0
		if nulls > 0 && a.IsNull(i) {
			continue
		}
		bad = append(bad, badValue{i: i, reason: convert.IntToFloatReason(a.DataType(), v, double)})
	}
	return finishNarrow(mem, a, to, buf, nulls, bad), bad, true
}

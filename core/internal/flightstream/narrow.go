package flightstream

import (
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// Narrowing casts: an Arrow integer into a table integer type that cannot
// hold all of its values (int64 into INT, uint32 into INT, int32 into
// TINYINT, uint64 into BIGINT), and float64 into FLOAT. Each value is
// checked by convert's rule (convert.IntFits, convert.ToFloat), the one the
// protobuf path checks by: a value that does not fit is a bad element (null
// in out, its row left out, with convert's reason), the others are sent.

type anyInt interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

type tableIntVal interface{ int8 | int16 | int32 | int64 }

// narrowInts casts integer array a into the table integer type to when
// some of a's values may not fit it; ok is false otherwise (a widening
// cast, left to the kernel).
func narrowInts(mem memory.Allocator, a arrow.Array, to arrow.DataType) (out arrow.Array, bad []badValue, ok bool) {
	t, ok := convert.TableIntOf(to)
	if !ok || !convert.IsInteger(a.DataType()) || t.HoldsAll(a.DataType()) {
		return nil, nil, false
	}
	switch to.ID() {
	case arrow.INT8:
		return narrowIntsTo[int8](mem, a, to, t)
	case arrow.INT16:
		return narrowIntsTo[int16](mem, a, to, t)
	case arrow.INT32:
		return narrowIntsTo[int32](mem, a, to, t)
	default:
		return narrowIntsTo[int64](mem, a, to, t)
	}
}

func narrowIntsTo[D tableIntVal](mem memory.Allocator, a arrow.Array, to arrow.DataType, t convert.TableInt) (arrow.Array, []badValue, bool) {
	switch a.DataType().ID() {
	case arrow.INT8:
		return narrowInto[int8, D](mem, a, arrow.GetValues[int8](a.Data(), 1), to, t)
	case arrow.INT16:
		return narrowInto[int16, D](mem, a, arrow.GetValues[int16](a.Data(), 1), to, t)
	case arrow.INT32:
		return narrowInto[int32, D](mem, a, arrow.GetValues[int32](a.Data(), 1), to, t)
	case arrow.INT64:
		return narrowInto[int64, D](mem, a, arrow.GetValues[int64](a.Data(), 1), to, t)
	case arrow.UINT8:
		return narrowInto[uint8, D](mem, a, arrow.GetValues[uint8](a.Data(), 1), to, t)
	case arrow.UINT16:
		return narrowInto[uint16, D](mem, a, arrow.GetValues[uint16](a.Data(), 1), to, t)
	case arrow.UINT32:
		return narrowInto[uint32, D](mem, a, arrow.GetValues[uint32](a.Data(), 1), to, t)
	case arrow.UINT64:
		return narrowInto[uint64, D](mem, a, arrow.GetValues[uint64](a.Data(), 1), to, t)
	}
	return nil, nil, false
}

// narrowInto writes vals (a's values) as D into a new array of type to;
// a value that does not fit t is a bad element.
func narrowInto[T anyInt, D tableIntVal](mem memory.Allocator, a arrow.Array, vals []T, to arrow.DataType, t convert.TableInt) (arrow.Array, []badValue, bool) {
	if len(vals) != a.Len() {
		panic(fmt.Sprintf("the %s array has %d values for %d elements", a.DataType(), len(vals), a.Len())) // castTo's error
	}
	buf, out := newValues[D](mem, len(vals))
	defer buf.Release()
	nulls := a.NullN()
	var bad []badValue
	lo, hi := convert.IntBounds[T](t) // convert.IntFits, per value
	for i, v := range vals {
		if lo <= v && v <= hi {
			out[i] = D(v)
			continue
		}
		out[i] = 0
		if nulls > 0 && a.IsNull(i) {
			continue // what a null slot holds is not a value
		}
		bad = append(bad, badValue{i: i, reason: convert.IntFitReason(a.DataType(), v, t)})
	}
	return finishNarrow(mem, a, to, buf, nulls, bad), bad, true
}

// narrowFloats casts a float64 array a into the table's FLOAT (float32);
// ok is false for other casts.
func narrowFloats(mem memory.Allocator, a arrow.Array, to arrow.DataType) (out arrow.Array, bad []badValue, ok bool) {
	f, isF64 := a.(*array.Float64)
	if !isF64 || to.ID() != arrow.FLOAT32 {
		return nil, nil, false
	}
	vals := f.Float64Values()
	if len(vals) != a.Len() {
		panic(fmt.Sprintf("the float64 array has %d values for %d elements", len(vals), a.Len())) // castTo's error
	}
	buf, outv := newValues[float32](mem, len(vals))
	defer buf.Release()
	nulls := a.NullN()
	for i, v := range vals {
		outv[i] = float32(v)
		if v >= -math.MaxFloat32 && v <= math.MaxFloat32 {
			continue // fits (convert.ToFloat's fast case)
		}
		if _, fits := convert.ToFloat(v); !fits && (nulls == 0 || a.IsValid(i)) {
			outv[i] = 0
			bad = append(bad, badValue{i: i, reason: convert.FloatFitReason(v)})
		}
	}
	return finishNarrow(mem, a, to, buf, nulls, bad), bad, true
}

// newValues returns a buffer of n values of type D from mem (the caller
// releases it) and its values.
func newValues[D tableIntVal | float32 | float64](mem memory.Allocator, n int) (*memory.Buffer, []D) {
	buf := memory.NewResizableBuffer(mem)
	var zero D
	buf.Resize(n * int(unsafe.Sizeof(zero)))
	if n == 0 {
		return buf, nil
	}
	return buf, arrow.GetData[D](buf.Bytes())[:n]
}

// finishNarrow makes the array of type to over the values in buf: a's
// validity (from offset 0) with the bad elements made null.
func finishNarrow(mem memory.Allocator, a arrow.Array, to arrow.DataType, buf *memory.Buffer, nulls int, bad []badValue) arrow.Array {
	n := a.Len()
	bits, ok := validityFrom0(mem, a.Data(), nulls)
	if !ok {
		nulls = 0 // a null count without a bitmap: Arrow reads every element as valid
	}
	if bits == nil && len(bad) > 0 {
		bits = memory.NewResizableBuffer(mem)
		bits.Resize(int(bitutil.BytesForBits(int64(n))))
		bitutil.SetBitsTo(bits.Bytes(), 0, int64(n), true)
	}
	if bits != nil {
		defer bits.Release()
		for _, b := range bad {
			bitutil.ClearBit(bits.Bytes(), b.i)
		}
	}
	d := array.NewData(to, n, []*memory.Buffer{bits, buf}, nil, nulls+len(bad), 0)
	defer d.Release()
	return array.MakeFromData(d)
}

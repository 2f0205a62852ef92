package convert

import (
	"fmt"
	"math"
	"strconv"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Narrowing: pandas' and polars' default dtypes are int64 and float64, and a
// table's column may be INT, SMALLINT, TINYINT or FLOAT. Such a column is
// sent as the table's type on both transports (Flight casts it, protobuf
// derives the table's int32 or float field), each value checked by the one
// rule below: a value that does not fit fails its row alone, with the same
// reason on both transports; the others are sent.

// TableInt is a table's integer type: its name and range.
type TableInt struct {
	Name     string // TINYINT, SMALLINT, INT, BIGINT
	Min, Max int64
}

// Table integer types by the Arrow type a table schema gives them (the
// official clients' mapping: TINYINT int8, SMALLINT int16, INT int32,
// BIGINT int64).
var (
	Tinyint  = TableInt{"TINYINT", math.MinInt8, math.MaxInt8}
	Smallint = TableInt{"SMALLINT", math.MinInt16, math.MaxInt16}
	Int      = TableInt{"INT", math.MinInt32, math.MaxInt32}
	Bigint   = TableInt{"BIGINT", math.MinInt64, math.MaxInt64}
)

// TableIntOf returns the table integer type of the Arrow type t of a table
// schema (int8, int16, int32, int64); false for others.
func TableIntOf(t arrow.DataType) (TableInt, bool) {
	switch t.ID() {
	case arrow.INT8:
		return Tinyint, true
	case arrow.INT16:
		return Smallint, true
	case arrow.INT32:
		return Int, true
	case arrow.INT64:
		return Bigint, true
	}
	return TableInt{}, false
}

// HoldsAll reports whether every value of the Arrow integer type from fits
// t, so that no value needs checking; false for types that are not
// integers.
func (t TableInt) HoldsAll(from arrow.DataType) bool {
	var lo int64
	var hi uint64
	switch from.ID() {
	case arrow.INT8:
		lo, hi = math.MinInt8, math.MaxInt8
	case arrow.INT16:
		lo, hi = math.MinInt16, math.MaxInt16
	case arrow.INT32:
		lo, hi = math.MinInt32, math.MaxInt32
	case arrow.INT64:
		lo, hi = math.MinInt64, math.MaxInt64
	case arrow.UINT8:
		hi = math.MaxUint8
	case arrow.UINT16:
		hi = math.MaxUint16
	case arrow.UINT32:
		hi = math.MaxUint32
	case arrow.UINT64:
		hi = math.MaxUint64
	default:
		return false
	}
	return lo >= t.Min && hi <= uint64(t.Max)
}

// IsInteger reports whether t is one of Arrow's eight integer types.
func IsInteger(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

// IntFits reports whether v fits the table's integer type t.
func IntFits[T integer](t TableInt, v T) bool {
	if v < 0 {
		return int64(v) >= t.Min
	}
	return uint64(v) <= uint64(t.Max)
}

// IntBounds returns the bounds of t in T's own values: a value v of type T
// fits t (IntFits) exactly when lo <= v && v <= hi. A loop over many values
// compares with them instead of calling IntFits for each.
func IntBounds[T integer](t TableInt) (lo, hi T) {
	bits := uint(unsafe.Sizeof(lo)) * 8
	minT, maxT := int64(0), uint64(1)<<bits-1 // unsigned (for 64 bits, 0 - 1: MaxUint64)
	if signed := ^T(0) < 0; signed {
		minT, maxT = -1<<(bits-1), 1<<(bits-1)-1
	}
	return T(max(t.Min, minT)), T(min(uint64(t.Max), maxT))
}

// IntFitReason is the reason a row fails for the value v of an Arrow
// integer column of type from (int64, uint32, …) that does not fit the
// table's integer type t (IntFits is false), on either transport.
func IntFitReason[T integer](from arrow.DataType, v T, t TableInt) string {
	if v < 0 {
		return fmt.Sprintf("%s value %d is under the %s minimum %d; filter or correct the row, %s", from, v, t.Name, t.Min, widerAdvice(t))
	}
	return fmt.Sprintf("%s value %d is over the %s maximum %d; filter or correct the row, %s", from, v, t.Name, t.Max, widerAdvice(t))
}

// widerAdvice says which table type holds an integer t cannot.
func widerAdvice(t TableInt) string {
	if t.Name == "BIGINT" {
		return "or give the table's column a DECIMAL(38,0) type (BIGINT is the widest integer type)"
	}
	return "or give the table's column a wider type"
}

// nanAdvice is what to do with a NaN a table column cannot hold.
const nanAdvice = "filter the row, or send null where the column is nullable"

// ToFloat returns v as a table FLOAT (float32): rounded to the nearest
// float32, as Spark casts a DOUBLE to FLOAT; NaN and ±Inf as they are. ok
// is false for a finite v whose magnitude rounds beyond float32's largest
// (about 3.4028235e38): it does not fit, and its row fails
// (FloatFitReason). Values too small for a float32 round to zero or a
// subnormal, as Spark's cast does.
func ToFloat(v float64) (f float32, ok bool) {
	f = float32(v)
	if math.IsInf(float64(f), 0) && !math.IsInf(v, 0) {
		return f, false
	}
	return f, true
}

// FloatFitReason is the reason a row fails for the value v of a float64
// column that does not fit the table's FLOAT (ToFloat is not ok), on
// either transport.
func FloatFitReason(v float64) string {
	return fmt.Sprintf("float64 value %g is outside the FLOAT range (magnitude at most %g); filter or correct the row, or declare the table's column DOUBLE", v, math.MaxFloat32)
}

// narrowTo gives the leaf n the protobuf type of the table's type tt at its
// path (Options.TableType) when both are integers (int32 for TINYINT,
// SMALLINT and INT, int64 for BIGINT: what the service expects) or both
// floats (float for FLOAT, double for DOUBLE), or one a float and the other
// an integer (the table's type; FloatToInt, IntToFloat), and sets the check
// of each value when some of n's type may not fit tt. Other leaves are left as the
// batch's type makes them.
func (n *node) narrowTo(tt arrow.DataType) {
	if t, ok := TableIntOf(tt); ok && IsInteger(n.dt) {
		n.ptype = descriptorpb.FieldDescriptorProto_TYPE_INT32
		if t == Bigint {
			n.ptype = descriptorpb.FieldDescriptorProto_TYPE_INT64
		}
		if !t.HoldsAll(n.dt) {
			n.fitInt = &t
		}
		return
	}
	if t, ok := TableIntOf(tt); ok && (t == Tinyint || t == Smallint) && (n.dt.ID() == arrow.DATE32 || n.dt.ID() == arrow.DATE64) {
		// Days since the epoch (a protobuf int32), each checked against
		// the table's narrower type: the service refuses the whole request
		// for one out of range.
		n.dayFit = &t
		return
	}
	switch n.dt.ID() {
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		if t, ok := TableIntOf(tt); ok {
			// A whole number in t's range, each value checked (FloatToInt).
			n.ptype = descriptorpb.FieldDescriptorProto_TYPE_INT32
			if t == Bigint {
				n.ptype = descriptorpb.FieldDescriptorProto_TYPE_INT64
			}
			n.floatInt = &t
			return
		}
		switch tt.ID() {
		case arrow.FLOAT32:
			n.ptype = descriptorpb.FieldDescriptorProto_TYPE_FLOAT
			n.fitFloat = n.dt.ID() == arrow.FLOAT64
		case arrow.FLOAT64:
			n.ptype = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
		}
		return
	}
	if IsInteger(n.dt) && (tt.ID() == arrow.FLOAT32 || tt.ID() == arrow.FLOAT64) {
		// Exact as the table's float, each value checked (IntToFloat)
		// unless every value of n's type is.
		n.ptype = descriptorpb.FieldDescriptorProto_TYPE_FLOAT
		if tt.ID() == arrow.FLOAT64 {
			n.ptype = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
		}
		n.intFloat = true
	}
}

// fitIntEnc writes integers into the protobuf int32 or int64 field of a
// table integer column, each value checked against the table's type t
// (IntFits): one that does not fit fails its row with ErrOutOfRange.
type fitIntEnc[T integer] struct {
	base
	vals   []T
	t      TableInt
	lo, hi T // IntBounds(t)
	from   arrow.DataType
}

func (e *fitIntEnc[T]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	v := e.vals[i]
	if v < e.lo || v > e.hi {
		return b, &fail{path: e.name, reason: IntFitReason(e.from, v, e.t), err: ErrOutOfRange}
	}
	return appendVarint(appendVarint(b, e.tag), uint64(int64(v))), nil
}

func (e *fitIntEnc[T]) encRange(b []byte, s, t int) ([]byte, *fail, int) {
	for j := s; j < t; j++ {
		var f *fail
		if b, f = e.enc(b, j); f != nil {
			return b, f, j
		}
	}
	return b, nil, 0
}

// fitFloatEnc writes float64 values into the protobuf float field of a
// table FLOAT column, each rounded by ToFloat: a finite value beyond
// FLOAT's range fails its row with ErrOutOfRange.
type fitFloatEnc struct {
	base
	vals []float64
}

func (e *fitFloatEnc) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	f, ok := ToFloat(e.vals[i])
	if !ok {
		return b, &fail{path: e.name, reason: FloatFitReason(e.vals[i]), err: ErrOutOfRange}
	}
	return protowire.AppendFixed32(appendVarint(b, e.tag), math.Float32bits(f)), nil
}

func (e *fitFloatEnc) encRange(b []byte, s, t int) ([]byte, *fail, int) {
	for j := s; j < t; j++ {
		var f *fail
		if b, f = e.enc(b, j); f != nil {
			return b, f, j
		}
	}
	return b, nil, 0
}

// Floats into integer columns, integers into float columns: pandas makes an
// integer column holding a missing value float64 ([1, None, 3] is
// [1.0, NaN, 3.0], the NaN null in Arrow), and an integer column may be sent
// to a table's FLOAT or DOUBLE. Both casts store only a value the caller
// sent: a float goes into an integer column when it is a whole number in the
// type's range (-0.0 as 0), and an integer into a FLOAT or DOUBLE column when
// the float holds it exactly (every integer of magnitude up to 2^24 in a
// FLOAT, 2^53 in a DOUBLE; larger ones only where the float has them). Any
// other value fails its row alone (a fraction, NaN, ±Inf, a value out of
// range, an integer the float would round: unlike Spark's cast, which
// rounds, as rounding would store a number the caller did not send), with
// the reasons below, on both transports; nulls stay null.

// FloatToInt returns the float v as the table's integer type t; ok is false
// when v is not a whole number within t's range (a fraction, NaN, ±Inf,
// beyond t's minimum or maximum): its row fails (FloatToIntReason).
func FloatToInt(v float64, t TableInt) (i int64, ok bool) {
	// t.Min is -2^(k-1), exact as a float64; t.Max+1 is -t.Min.
	if v != math.Trunc(v) || v < float64(t.Min) || v >= -float64(t.Min) {
		return 0, false // NaN != NaN; ±Inf is out of range
	}
	return int64(v), true
}

// FloatToIntReason is the reason a row fails for the value v of a float
// column of type from (float64, float32, float16) that FloatToInt does not
// take into the table's integer type t, on either transport.
func FloatToIntReason(from arrow.DataType, v float64, t TableInt) string {
	switch {
	case math.IsNaN(v):
		return fmt.Sprintf("%s value NaN is not a number (the table's column is %s); %s", from, t.Name, nanAdvice)
	case v < float64(t.Min):
		return fmt.Sprintf("%s value %s is under the %s minimum %d; filter or correct the row, %s", from, formatFloat(v), t.Name, t.Min, widerAdvice(t))
	case v >= -float64(t.Min):
		return fmt.Sprintf("%s value %s is over the %s maximum %d; filter or correct the row, %s", from, formatFloat(v), t.Name, t.Max, widerAdvice(t))
	}
	return fmt.Sprintf("%s value %s is not a whole number (the table's column is %s, and the value is not rounded); round or filter the row, or declare the table's column DOUBLE", from, formatFloat(v), t.Name)
}

// formatFloat writes a whole number below 1e21 in full (2147483648, not
// 2.147483648e+09), other values in Go's shortest form (1.5, 1e+300, NaN,
// +Inf).
func formatFloat(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e21 {
		return strconv.FormatFloat(v, 'f', 0, 64) // exact: 9223372036854775808
	}
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// ExactIntBelow returns the magnitude below which every integer is exact
// in a table FLOAT (double false: 2^24) or DOUBLE (2^53): an integer whose
// float f has -lim < f < lim needs no further check (IntToFloat).
func ExactIntBelow(double bool) float64 {
	if double {
		return 1 << 53
	}
	return 1 << 24
}

// IntToFloat returns the integer v as a table DOUBLE (double) or FLOAT (the
// float32 value, widened); ok is false when the float does not hold v
// exactly (it would round): its row fails (IntToFloatReason).
func IntToFloat[T integer](v T, double bool) (f float64, ok bool) {
	f = float64(v)
	if !double {
		f = float64(float32(v)) // one rounding, to float32's precision
	}
	if v < 0 {
		return f, int64(f) == int64(v) // f >= -2^63: defined
	}
	return f, f < 1<<64 && uint64(f) == uint64(v)
}

// IntFloatHoldsAll reports whether every value of the Arrow integer type
// from is exact in a table DOUBLE (double) or FLOAT, so that no value needs
// checking: up to 32 bits into DOUBLE, 16 into FLOAT.
func IntFloatHoldsAll(from arrow.DataType, double bool) bool {
	w, ok := from.(arrow.FixedWidthDataType)
	if !ok || !IsInteger(from) {
		return false
	}
	if double {
		return w.BitWidth() <= 32
	}
	return w.BitWidth() <= 16
}

// IntToFloatReason is the reason a row fails for the value v of an Arrow
// integer column of type from that a table DOUBLE (double) or FLOAT does
// not hold exactly (IntToFloat is not ok), on either transport.
func IntToFloatReason[T integer](from arrow.DataType, v T, double bool) string {
	name, bits := "FLOAT", 24
	if double {
		name, bits = "DOUBLE", 53
	}
	f, _ := IntToFloat(v, double)
	holder := "BIGINT"
	if v > 0 && uint64(v) > math.MaxInt64 {
		holder = "DECIMAL(20,0)" // a uint64 over BIGINT's maximum
	}
	return fmt.Sprintf("%s value %d is not exact as a %s (the nearest is %s, and it is not rounded: a %s holds every integer up to 2^%d = %d, larger ones only in steps); filter or correct the row, or declare the table's column %s",
		from, v, name, formatFloat(f), name, bits, int64(1)<<bits, holder)
}

package convert

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/encoding/protowire"
)

// Encoders of a float leaf into a table integer column and of an integer
// leaf into a table FLOAT or DOUBLE column (narrowTo), each value converted
// by convert's rule (FloatToInt, IntToFloat in narrow.go): a value the rule
// does not take fails its row with ErrOutOfRange and the rule's reason.

// floatIntEnc writes float values into the protobuf int32 or int64 field
// of a table integer column.
type floatIntEnc[F float32 | float64] struct {
	base
	vals []F
	t    TableInt
	from arrow.DataType
}

// bindFloatInt binds the float values vals of the leaf n (n.floatInt set).
func bindFloatInt[F float32 | float64](n *node, b base, vals []F) encoder {
	return &floatIntEnc[F]{base: b, vals: vals, t: *n.floatInt, from: n.dt}
}

// halfValues returns a's values widened to float32 (exact).
func halfValues(a *array.Float16) []float32 {
	out := make([]float32, a.Len())
	for i, v := range a.Values() {
		out[i] = HalfToFloat32(v.Uint16())
	}
	return out
}

func (e *floatIntEnc[F]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	v, ok := FloatToInt(float64(e.vals[i]), e.t)
	if !ok {
		return b, &fail{path: e.name, reason: FloatToIntReason(e.from, float64(e.vals[i]), e.t), err: ErrOutOfRange}
	}
	return appendVarint(appendVarint(b, e.tag), uint64(v)), nil
}

func (e *floatIntEnc[F]) encRange(b []byte, s, t int) ([]byte, *fail, int) {
	for j := s; j < t; j++ {
		var f *fail
		if b, f = e.enc(b, j); f != nil {
			return b, f, j
		}
	}
	return b, nil, 0
}

// intFloatEnc writes integer values into the protobuf double (double) or
// float field of a table DOUBLE or FLOAT column; check: some values of the
// type may not be exact (IntFloatHoldsAll is false).
type intFloatEnc[T integer] struct {
	base
	vals   []T
	double bool
	check  bool
	from   arrow.DataType
}

func (e *intFloatEnc[T]) enc(b []byte, i int) ([]byte, *fail) {
	if e.isNull(i) {
		return e.onNull(b)
	}
	v := e.vals[i]
	f := float64(v)
	if e.check {
		var ok bool
		if f, ok = IntToFloat(v, e.double); !ok {
			return b, &fail{path: e.name, reason: IntToFloatReason(e.from, v, e.double), err: ErrOutOfRange}
		}
	}
	b = appendVarint(b, e.tag)
	if e.double {
		return protowire.AppendFixed64(b, math.Float64bits(f)), nil
	}
	return protowire.AppendFixed32(b, math.Float32bits(float32(f))), nil
}

func (e *intFloatEnc[T]) encRange(b []byte, s, t int) ([]byte, *fail, int) {
	for j := s; j < t; j++ {
		var f *fail
		if b, f = e.enc(b, j); f != nil {
			return b, f, j
		}
	}
	return b, nil, 0
}

// floatIntoTableInt reports whether a float leaf (class) goes into the
// table's integer type tt, as a MAP key may (a protobuf integer key).
func floatIntoTableInt(class valueClass, tt arrow.DataType) bool {
	if tt == nil || class != classFloat {
		return false
	}
	_, ok := TableIntOf(tt)
	return ok
}

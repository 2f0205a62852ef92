package convert

import (
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// refEncoder is an independent, deliberately simple Arrow -> protobuf
// converter built on dynamicpb and the arrays' Value methods. Tests and the
// fuzz target compare the fast encoder against it; the benchmarks use it as
// the baseline. It follows the package's documented mapping.
type refEncoder struct {
	md          protoreflect.MessageDescriptor
	allOptional bool
	maxBytes    int
}

// refRow is one row's outcome.
type refRow struct {
	msg   *dynamicpb.Message
	bytes []byte
	err   error
}

// encode converts every row of rec; marshal also serializes each message.
func (r *refEncoder) encode(rec arrow.RecordBatch, marshal bool) []refRow {
	out := make([]refRow, rec.NumRows())
	for i := range out {
		m := dynamicpb.NewMessage(r.md)
		var err error
		for c, f := range rec.Schema().Fields() {
			fd := r.md.Fields().ByName(protoreflect.Name(f.Name))
			required := !f.Nullable && !r.allOptional
			if err = r.setField(m, fd, rec.Column(c), i, required); err != nil {
				err = fmt.Errorf("column %s: %w", f.Name, err)
				break
			}
		}
		if err == nil && (marshal || r.maxBytes > 0) {
			b, merr := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
			if merr != nil {
				err = merr
			} else if r.maxBytes > 0 && len(b) > r.maxBytes {
				err = fmt.Errorf("record too large: %d", len(b))
			}
			out[i].bytes = b
		}
		out[i].msg, out[i].err = m, err
	}
	return out
}

// deref follows dictionary, run-end and extension layers to the array and
// index holding the value.
func deref(arr arrow.Array, i int) (arrow.Array, int) {
	for {
		switch a := arr.(type) {
		case *array.Dictionary:
			if a.IsNull(i) {
				return a, i
			}
			arr, i = a.Dictionary(), a.GetValueIndex(i)
		case *array.RunEndEncoded:
			arr, i = a.Values(), a.GetPhysicalIndex(i)
		case array.ExtensionArray:
			arr = a.Storage()
		default:
			return arr, i
		}
	}
}

// setField sets fd of m from arr[i]. required means a null fails.
func (r *refEncoder) setField(m *dynamicpb.Message, fd protoreflect.FieldDescriptor, arr arrow.Array, i int, required bool) error {
	arr, i = deref(arr, i)
	if arr.IsNull(i) {
		if required {
			return fmt.Errorf("null in required field")
		}
		return nil
	}
	switch a := arr.(type) {
	case *array.Map:
		entries := a.ListValues().(*array.Struct)
		s, e := a.ValueOffsets(i)
		mp := m.Mutable(fd).Map()
		for j := int(s); j < int(e); j++ {
			k, err := r.scalar(fd.MapKey(), entries.Field(0), j)
			if err != nil {
				return err
			}
			// A map gives each key once: a protobuf map would keep only
			// the last entry, so a key seen before fails the row.
			if mp.Has(k.MapKey()) {
				return fmt.Errorf("duplicate map key %v", k.Interface())
			}
			va, vj := deref(entries.Field(1), j)
			if va.IsNull(vj) {
				return fmt.Errorf("null map value")
			}
			var v protoreflect.Value
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				sub := mp.NewValue()
				if err := r.fillStruct(sub.Message().Interface().(*dynamicpb.Message), va.(*array.Struct), vj); err != nil {
					return err
				}
				v = sub
			} else if v, err = r.scalar(fd.MapValue(), va, vj); err != nil {
				return err
			}
			mp.Set(k.MapKey(), v)
		}
		return nil
	case array.ListLike:
		{
			s, e := a.ValueOffsets(i)
			l := m.Mutable(fd).List()
			for j := int(s); j < int(e); j++ {
				ea, ej := deref(a.ListValues(), j)
				if ea.IsNull(ej) {
					return fmt.Errorf("null element")
				}
				if fd.Kind() == protoreflect.MessageKind {
					sub := l.NewElement()
					if err := r.fillStruct(sub.Message().Interface().(*dynamicpb.Message), ea.(*array.Struct), ej); err != nil {
						return err
					}
					l.Append(sub)
					continue
				}
				v, err := r.scalar(fd, ea, ej)
				if err != nil {
					return err
				}
				l.Append(v)
			}
			return nil
		}
	}
	if st, ok := arr.(*array.Struct); ok {
		sub := dynamicpb.NewMessage(fd.Message())
		if err := r.fillStruct(sub, st, i); err != nil {
			return err
		}
		m.Set(fd, protoreflect.ValueOfMessage(sub))
		return nil
	}
	v, err := r.scalar(fd, arr, i)
	if err != nil {
		return err
	}
	m.Set(fd, v)
	return nil
}

func (r *refEncoder) fillStruct(m *dynamicpb.Message, st *array.Struct, i int) error {
	for k, f := range st.DataType().(*arrow.StructType).Fields() {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(f.Name))
		if err := r.setField(m, fd, st.Field(k), i, !f.Nullable && !r.allOptional); err != nil {
			return err
		}
	}
	return nil
}

// scalar converts a non-null leaf value.
func (r *refEncoder) scalar(fd protoreflect.FieldDescriptor, arr arrow.Array, i int) (protoreflect.Value, error) {
	arr, i = deref(arr, i)
	var iv *big.Int // integer-like result, range-checked below
	switch a := arr.(type) {
	case *array.Int8:
		iv = big.NewInt(int64(a.Value(i)))
	case *array.Int16:
		iv = big.NewInt(int64(a.Value(i)))
	case *array.Int32:
		iv = big.NewInt(int64(a.Value(i)))
	case *array.Int64:
		iv = big.NewInt(a.Value(i))
	case *array.Uint8:
		iv = new(big.Int).SetUint64(uint64(a.Value(i)))
	case *array.Uint16:
		iv = new(big.Int).SetUint64(uint64(a.Value(i)))
	case *array.Uint32:
		iv = new(big.Int).SetUint64(uint64(a.Value(i)))
	case *array.Uint64:
		iv = new(big.Int).SetUint64(a.Value(i))
	case *array.Date32:
		iv = big.NewInt(int64(a.Value(i)))
	case *array.Date64:
		iv = floorDiv(big.NewInt(int64(a.Value(i))), 86_400_000)
	case *array.Timestamp:
		iv = toMicrosBig(int64(a.Value(i)), a.DataType().(*arrow.TimestampType).Unit)
	case *array.Time32:
		iv = toMicrosBig(int64(a.Value(i)), a.DataType().(*arrow.Time32Type).Unit)
	case *array.Time64:
		iv = toMicrosBig(int64(a.Value(i)), a.DataType().(*arrow.Time64Type).Unit)
	case *array.Duration:
		iv = toMicrosBig(int64(a.Value(i)), a.DataType().(*arrow.DurationType).Unit)
	case *array.Float16:
		return floatValue(fd, float64(a.Value(i).Float32())), nil
	case *array.Float32:
		return floatValue(fd, float64(a.Value(i))), nil
	case *array.Float64:
		return floatValue(fd, a.Value(i)), nil
	case *array.Boolean:
		return protoreflect.ValueOfBool(a.Value(i)), nil
	case *array.String:
		return stringValue(fd, a.Value(i))
	case *array.LargeString:
		return stringValue(fd, a.Value(i))
	case *array.StringView:
		return stringValue(fd, a.Value(i))
	case *array.Binary:
		return textValue(fd, string(a.Value(i))), nil
	case *array.LargeBinary:
		return textValue(fd, string(a.Value(i))), nil
	case *array.BinaryView:
		return textValue(fd, string(a.Value(i))), nil
	case *array.FixedSizeBinary:
		if fd.Kind() == protoreflect.StringKind && a.DataType().(*arrow.FixedSizeBinaryType).ByteWidth == 16 {
			// UUIDs into a table STRING: their canonical text.
			return protoreflect.ValueOfString(uuidRefText(a.Value(i))), nil
		}
		return textValue(fd, string(a.Value(i))), nil
	case *array.Decimal32:
		return decimalText(big.NewInt(int64(a.Value(i))), a.DataType().(arrow.DecimalType).GetScale()), nil
	case *array.Decimal64:
		return decimalText(big.NewInt(int64(a.Value(i))), a.DataType().(arrow.DecimalType).GetScale()), nil
	case *array.Decimal128:
		return decimalText(a.Value(i).BigInt(), a.DataType().(arrow.DecimalType).GetScale()), nil
	case *array.Decimal256:
		return decimalText(a.Value(i).BigInt(), a.DataType().(arrow.DecimalType).GetScale()), nil
	default:
		return protoreflect.Value{}, fmt.Errorf("reference encoder: unsupported array %T", arr)
	}
	lo, hi := kindRange(fd.Kind())
	if iv.Cmp(lo) < 0 || iv.Cmp(hi) > 0 {
		return protoreflect.Value{}, fmt.Errorf("value %s out of range", iv)
	}
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(iv.Int64())), nil
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(iv.Int64())), nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(iv.Uint64())), nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(iv.Uint64()), nil
	default:
		return protoreflect.ValueOfInt64(iv.Int64()), nil
	}
}

func kindRange(k protoreflect.Kind) (lo, hi *big.Int) {
	switch k {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind, protoreflect.EnumKind:
		return big.NewInt(math.MinInt32), big.NewInt(math.MaxInt32)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return big.NewInt(0), big.NewInt(math.MaxUint32)
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return big.NewInt(0), new(big.Int).SetUint64(math.MaxUint64)
	default:
		return big.NewInt(math.MinInt64), big.NewInt(math.MaxInt64)
	}
}

func floorDiv(v *big.Int, d int64) *big.Int {
	q, m := new(big.Int), new(big.Int)
	q.DivMod(v, big.NewInt(d), m) // Euclidean: floor for a positive divisor
	return q
}

func toMicrosBig(v int64, u arrow.TimeUnit) *big.Int {
	b := big.NewInt(v)
	switch u {
	case arrow.Second:
		return b.Mul(b, big.NewInt(1_000_000))
	case arrow.Millisecond:
		return b.Mul(b, big.NewInt(1_000))
	case arrow.Nanosecond:
		return floorDiv(b, 1_000)
	}
	return b
}

func floatValue(fd protoreflect.FieldDescriptor, f float64) protoreflect.Value {
	if fd.Kind() == protoreflect.FloatKind {
		return protoreflect.ValueOfFloat32(float32(f))
	}
	return protoreflect.ValueOfFloat64(f)
}

// stringValue is textValue for an Arrow string: a protobuf string field
// refuses invalid UTF-8.
func stringValue(fd protoreflect.FieldDescriptor, s string) (protoreflect.Value, error) {
	if fd.Kind() == protoreflect.StringKind && !utf8.ValidString(s) {
		return protoreflect.Value{}, fmt.Errorf("reference encoder: %q is not UTF-8", s)
	}
	return textValue(fd, s), nil
}

func textValue(fd protoreflect.FieldDescriptor, s string) protoreflect.Value {
	if fd.Kind() == protoreflect.BytesKind {
		return protoreflect.ValueOfBytes([]byte(s))
	}
	return protoreflect.ValueOfString(s)
}

// decimalText renders unscaled*10^-scale exactly with big.Rat.
func decimalText(unscaled *big.Int, scale int32) protoreflect.Value {
	if scale <= 0 {
		p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-scale)), nil)
		return protoreflect.ValueOfString(new(big.Int).Mul(unscaled, p).String())
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)
	return protoreflect.ValueOfString(new(big.Rat).SetFrac(unscaled, p).FloatString(int(scale)))
}

// uuidRefText is the canonical text of the UUID b, written independently of
// AppendUUID: lowercase hex, 8-4-4-4-12.
func uuidRefText(b []byte) string {
	h := fmt.Sprintf("%x", b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

package tests_go

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// msgToMap turns a stored message into plain Go values for comparison:
// integers as int64, floats as float64, lists as []any, maps as
// map[string]any (keys printed), nested messages as map[string]any; unset
// fields are absent.
func msgToMap(m protoreflect.Message) map[string]any {
	out := map[string]any{}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		out[string(fd.Name())] = valueToAny(fd, v)
		return true
	})
	return out
}

func valueToAny(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch {
	case fd.IsMap():
		mm := map[string]any{}
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			mm[fmt.Sprint(k.Interface())] = scalarToAny(fd.MapValue(), mv)
			return true
		})
		return mm
	case fd.IsList():
		l := v.List()
		out := make([]any, l.Len())
		for i := range out {
			out[i] = scalarToAny(fd, l.Get(i))
		}
		return out
	}
	return scalarToAny(fd, v)
}

func scalarToAny(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return msgToMap(v.Message())
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Sint32Kind, protoreflect.Sint64Kind,
		protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind:
		return v.Int()
	case protoreflect.Uint32Kind, protoreflect.Uint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind:
		return int64(v.Uint())
	case protoreflect.FloatKind, protoreflect.DoubleKind:
		return v.Float()
	case protoreflect.BoolKind:
		return v.Bool()
	case protoreflect.StringKind:
		return v.String()
	case protoreflect.BytesKind:
		return string(v.Bytes())
	case protoreflect.EnumKind:
		return int64(v.Enum())
	}
	return v.Interface()
}

// TestAllColumnTypes sends one column of every supported Arrow type and
// checks each stored value against the documented mapping.
func TestAllColumnTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.all_types"
	w := newWrapper(t, serverConfig(srv, table))

	tsType := &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}
	dec := &arrow.Decimal128Type{Precision: 10, Scale: 3}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
		{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
		{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "f16", Type: arrow.FixedWidthTypes.Float16, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "fsb", Type: &arrow.FixedSizeBinaryType{ByteWidth: 4}, Nullable: true},
		{Name: "d32", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "d64", Type: arrow.FixedWidthTypes.Date64, Nullable: true},
		{Name: "ts", Type: tsType, Nullable: true},
		{Name: "t64", Type: arrow.FixedWidthTypes.Time64us, Nullable: true},
		{Name: "dur", Type: arrow.FixedWidthTypes.Duration_ms, Nullable: true},
		{Name: "dec", Type: dec, Nullable: true},
		{Name: "dict", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "addr", Type: arrow.StructOf(
			arrow.Field{Name: "city", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "zip", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		), Nullable: true},
		{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
	}, nil)

	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const rows = 3 // row 2 is null in every nullable column
	day := time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)
	for i := 0; i < rows; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i == 2 {
			for c := 1; c < len(schema.Fields()); c++ {
				b.Field(c).AppendNull()
			}
			continue
		}
		sign := int64(1 - 2*i) // 1, -1
		b.Field(1).(*array.Int8Builder).Append(int8(-100 * sign))
		b.Field(2).(*array.Int16Builder).Append(int16(-30000 * sign))
		b.Field(3).(*array.Int32Builder).Append(int32(-2_000_000_000 * sign))
		b.Field(4).(*array.Uint8Builder).Append(uint8(200 + i))
		b.Field(5).(*array.Uint16Builder).Append(uint16(60000 + i))
		b.Field(6).(*array.Uint32Builder).Append(uint32(4_000_000_000) + uint32(i))
		b.Field(7).(*array.Uint64Builder).Append(uint64(9_000_000_000_000_000_000) + uint64(i))
		b.Field(8).(*array.Float16Builder).Append(float16.New(1.5 * float32(sign)))
		b.Field(9).(*array.Float32Builder).Append(0.25 * float32(sign))
		b.Field(10).(*array.Float64Builder).Append(1e300 * float64(sign))
		b.Field(11).(*array.BooleanBuilder).Append(i == 0)
		b.Field(12).(*array.StringBuilder).Append([]string{"héllo ✓", ""}[i])
		b.Field(13).(*array.LargeStringBuilder).Append(fmt.Sprintf("large-%d", i))
		b.Field(14).(*array.BinaryBuilder).Append([]byte{0, 1, byte(i), 255})
		b.Field(15).(*array.FixedSizeBinaryBuilder).Append([]byte{'a', 'b', 'c', byte('0' + i)})
		b.Field(16).(*array.Date32Builder).Append(arrow.Date32FromTime(day))
		b.Field(17).(*array.Date64Builder).Append(arrow.Date64FromTime(day.Add(5 * time.Hour)))
		b.Field(18).(*array.TimestampBuilder).Append(arrow.Timestamp(day.Add(1500*time.Millisecond+7*time.Microsecond).UnixNano() + 999))
		b.Field(19).(*array.Time64Builder).Append(arrow.Time64((3*time.Hour + 2*time.Second).Microseconds()))
		b.Field(20).(*array.DurationBuilder).Append(arrow.Duration(-1234 * sign))
		b.Field(21).(*array.Decimal128Builder).Append(decimal128.FromI64(-12340 * sign))
		b.Field(22).(*array.BinaryDictionaryBuilder).AppendString([]string{"red", "blue"}[i])
		lb := b.Field(23).(*array.ListBuilder)
		lb.Append(true)
		for k := 0; k < 3-2*i; k++ { // 3 elements, then 1
			lb.ValueBuilder().(*array.Int32Builder).Append(int32(k * 10))
		}
		sb := b.Field(24).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.StringBuilder).Append("Zürich")
		if i == 0 {
			sb.FieldBuilder(1).(*array.Int64Builder).Append(8001)
		} else {
			sb.FieldBuilder(1).(*array.Int64Builder).AppendNull()
		}
		mb := b.Field(25).(*array.MapBuilder)
		mb.Append(true)
		mb.KeyBuilder().(*array.StringBuilder).Append("k1")
		mb.ItemBuilder().(*array.Int64Builder).Append(int64(i + 1))
		if i == 0 {
			mb.KeyBuilder().(*array.StringBuilder).Append("k2")
			mb.ItemBuilder().(*array.Int64Builder).Append(42)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	res, err := w.SendBatch(testCtx(t), rec)
	if err != nil {
		t.Fatalf("SendBatch: %v (result %v)", err, res)
	}
	checkInvariant(t, res, rows)

	tsMicros := day.Add(1500*time.Millisecond + 7*time.Microsecond).UnixMicro()
	days := int64(day.Unix() / 86400)
	want := []map[string]any{
		{
			"id": int64(0), "i8": int64(-100), "i16": int64(-30000), "i32": int64(-2_000_000_000),
			"u8": int64(200), "u16": int64(60000), "u32": int64(4_000_000_000), "u64": int64(9_000_000_000_000_000_000),
			"f16": 1.5, "f32": 0.25, "f64": 1e300, "flag": true, "s": "héllo ✓", "ls": "large-0",
			"bin": "\x00\x01\x00\xff", "fsb": "abc0", "d32": days, "d64": days, "ts": tsMicros,
			"t64": (3*time.Hour + 2*time.Second).Microseconds(), "dur": int64(-1234_000), "dec": "-12.340",
			"dict": "red", "tags": []any{int64(0), int64(10), int64(20)},
			"addr":  map[string]any{"city": "Zürich", "zip": int64(8001)},
			"attrs": map[string]any{"k1": int64(1), "k2": int64(42)},
		},
		{
			"id": int64(1), "i8": int64(100), "i16": int64(30000), "i32": int64(2_000_000_000),
			"u8": int64(201), "u16": int64(60001), "u32": int64(4_000_000_001), "u64": int64(9_000_000_000_000_000_001),
			"f16": -1.5, "f32": -0.25, "f64": -1e300, "flag": false, "s": "", "ls": "large-1",
			"bin": "\x00\x01\x01\xff", "fsb": "abc1", "d32": days, "d64": days, "ts": tsMicros,
			"t64": (3*time.Hour + 2*time.Second).Microseconds(), "dur": int64(1234_000), "dec": "12.340",
			"dict": "blue", "tags": []any{int64(0)},
			"addr":  map[string]any{"city": "Zürich"},
			"attrs": map[string]any{"k1": int64(2)},
		},
		{"id": int64(2)}, // nulls are absent (a null list is an empty repeated field)
	}
	var got []map[string]any
	for _, r := range srv.Rows(table) {
		m := msgToMap(r.Message)
		if tags, ok := m["tags"].([]any); ok && len(tags) == 0 {
			delete(m, "tags")
		}
		if attrs, ok := m["attrs"].(map[string]any); ok && len(attrs) == 0 {
			delete(m, "attrs")
		}
		got = append(got, m)
	}
	sort.Slice(got, func(i, j int) bool { return got[i]["id"].(int64) < got[j]["id"].(int64) })
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("stored rows mismatch (-want +got):\n%s", d)
	}
}

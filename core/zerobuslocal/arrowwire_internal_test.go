package zerobuslocal

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// fillRandom appends one random value of b's type; nulls only where
// nullable allows, and never in list elements or map values.
func fillRandom(rng *rand.Rand, b array.Builder, nullable bool) {
	if nullable && rng.IntN(5) == 0 {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(int8(rng.Uint32()))
	case *array.Int16Builder:
		b.Append(int16(rng.Uint32()))
	case *array.Int32Builder:
		b.Append([]int32{0, -1, 1, int32(rng.Uint32())}[rng.IntN(4)])
	case *array.Int64Builder:
		b.Append([]int64{0, -1, 1, int64(rng.Uint64())}[rng.IntN(4)])
	case *array.Float32Builder:
		b.Append([]float32{0, rng.Float32() - 0.5}[rng.IntN(2)])
	case *array.Float64Builder:
		b.Append([]float64{0, rng.NormFloat64()}[rng.IntN(2)])
	case *array.BooleanBuilder:
		b.Append(rng.IntN(2) == 0)
	case *array.Date32Builder:
		b.Append(arrow.Date32(rng.Int32N(40000) - 20000))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(rng.Int64() >> 8))
	case *array.LargeStringBuilder:
		b.Append([]string{"", "a", "héllo ✓", fmt.Sprint(rng.Uint32())}[rng.IntN(4)])
	case *array.BinaryBuilder:
		v := make([]byte, rng.IntN(4))
		for i := range v {
			v[i] = byte(rng.Uint32())
		}
		b.Append(v)
	case *array.MapBuilder:
		b.Append(true)
		for k := range rng.IntN(3) {
			// Distinct keys: a map holds a key once.
			switch kb := b.KeyBuilder().(type) {
			case *array.LargeStringBuilder:
				kb.Append(fmt.Sprintf("k%d", k))
			case *array.Int32Builder:
				kb.Append(int32(k))
			default:
				fillRandom(rng, kb, false)
			}
			fillRandom(rng, b.ItemBuilder(), false)
		}
	case *array.ListBuilder:
		b.Append(true)
		for range rng.IntN(4) {
			fillRandom(rng, b.ValueBuilder(), false)
		}
	case *array.StructBuilder:
		b.Append(true)
		st := b.Type().(*arrow.StructType)
		for k := range b.NumField() {
			fillRandom(rng, b.FieldBuilder(k), st.Field(k).Nullable)
		}
	default:
		panic(fmt.Sprintf("fillRandom: %T", b))
	}
}

func randomBatch(t *testing.T, schema *arrow.Schema, rows int, seed uint64) arrow.RecordBatch {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for range rows {
		for c, f := range schema.Fields() {
			fillRandom(rng, b.Field(c), f.Nullable)
		}
	}
	return b.NewRecordBatch()
}

// checkAgainstOracle encodes rec with encodeArrowRows and checks every
// record validates and decodes to the message the dynamicpb conversion
// (arrowToMessages) builds, and that ArrowBatch's wire decoding agrees.
func checkAgainstOracle(t *testing.T, tb *table, rec arrow.RecordBatch) {
	t.Helper()
	want, err := arrowToMessages(rec, tb.md, tb.arrow)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	buf, spans, err := encodeArrowRows(rec, tb.md, tb.arrow, 0)
	if err != nil {
		t.Fatalf("encodeArrowRows: %v", err)
	}
	if len(spans) != len(want) {
		t.Fatalf("%d records, want %d", len(spans), len(want))
	}
	for i, sp := range spans {
		raw := buf[sp.start:sp.end]
		got, err := tb.validator.Decode(raw)
		if err != nil {
			t.Fatalf("row %d: stored record does not validate: %v", i, err)
		}
		if !proto.Equal(got, want[i]) {
			t.Fatalf("row %d: decoded %v, want %v", i, got, want[i])
		}
		// Same bytes as proto.Marshal up to field order: same size.
		if m, _ := (proto.MarshalOptions{Deterministic: true}).Marshal(want[i]); len(m) != len(raw) {
			t.Errorf("row %d: %d bytes, proto.Marshal gives %d", i, len(raw), len(m))
		}
	}
	// ArrowBatch reads stored records from the wire form.
	ab, err := protoarrow.NewBuilder(memory.DefaultAllocator, tb.md)
	if err != nil {
		t.Fatal(err)
	}
	defer ab.Release()
	for i, sp := range spans {
		if err := ab.AppendRecord(buf[sp.start:sp.end]); err != nil {
			t.Fatalf("row %d: AppendRecord: %v", i, err)
		}
	}
	fromWire := ab.NewRecordBatch()
	defer fromWire.Release()
	msgs := make([]protoreflect.Message, len(want))
	for i, m := range want {
		msgs[i] = m
	}
	fromMsgs, err := protoarrow.FromMessages(memory.DefaultAllocator, tb.md, msgs)
	if err != nil {
		t.Fatal(err)
	}
	defer fromMsgs.Release()
	if !array.RecordEqual(fromWire, fromMsgs) {
		t.Errorf("ArrowBatch of the stored records differs from the oracle's:\n%v\n%v", fromWire, fromMsgs)
	}
}

func TestEncodeArrowRowsMatchesOracle(t *testing.T) {
	const ddl = "id BIGINT NOT NULL, ti TINYINT, si SMALLINT, i INT NOT NULL, f FLOAT, d DOUBLE, ok BOOLEAN, " +
		"s STRING, bin BINARY, day DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, dec DECIMAL(10,2), " +
		"tags ARRAY<STRING>, nums ARRAY<BIGINT>, dbl ARRAY<DOUBLE>, " +
		"attrs MAP<STRING, INT>, byid MAP<INT, DOUBLE>, " +
		"pt STRUCT<x: DOUBLE NOT NULL, y: DOUBLE, inner: STRUCT<z: BIGINT, w: STRING NOT NULL>, l: ARRAY<STRING>>, " +
		"pts ARRAY<STRUCT<x: INT, m: MAP<STRING, STRING>>>"
	cols, err := ParseColumns(ddl)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := newTable("main.test.rich", cols, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(5) {
		rec := randomBatch(t, tb.arrow, 300, seed)
		checkAgainstOracle(t, tb, rec)
		// A slice (the partial-ack prefix path) encodes the same way.
		sl := rec.NewSlice(17, 123)
		checkAgainstOracle(t, tb, sl)
		sl.Release()
		rec.Release()
	}
}

// TestEncodeArrowRowsDescriptorKinds covers tables made from descriptors:
// proto3 implicit presence, sint/fixed/uint kinds, enums and unsigned
// 64-bit DECIMAL(20,0) text.
func TestEncodeArrowRowsDescriptorKinds(t *testing.T) {
	f := func(name string, num int32, typ descriptorpb.FieldDescriptorProto_Type, label descriptorpb.FieldDescriptorProto_Label) *descriptorpb.FieldDescriptorProto {
		return &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Type: typ.Enum(), Label: label.Enum()}
	}
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	fds := []*descriptorpb.FieldDescriptorProto{
		f("i32", 1, descriptorpb.FieldDescriptorProto_TYPE_INT32, opt),
		f("s32", 2, descriptorpb.FieldDescriptorProto_TYPE_SINT32, opt),
		f("s64", 3, descriptorpb.FieldDescriptorProto_TYPE_SINT64, opt),
		f("u32", 4, descriptorpb.FieldDescriptorProto_TYPE_UINT32, opt),
		f("fx32", 5, descriptorpb.FieldDescriptorProto_TYPE_FIXED32, opt),
		f("sfx32", 6, descriptorpb.FieldDescriptorProto_TYPE_SFIXED32, opt),
		f("sfx64", 7, descriptorpb.FieldDescriptorProto_TYPE_SFIXED64, opt),
		f("u64", 8, descriptorpb.FieldDescriptorProto_TYPE_UINT64, opt),
		f("fx64", 9, descriptorpb.FieldDescriptorProto_TYPE_FIXED64, opt),
		f("color", 10, descriptorpb.FieldDescriptorProto_TYPE_ENUM, opt),
		f("name", 11, descriptorpb.FieldDescriptorProto_TYPE_STRING, opt),
		f("packed", 12, descriptorpb.FieldDescriptorProto_TYPE_SINT32, rep),
		f("flt", 13, descriptorpb.FieldDescriptorProto_TYPE_FLOAT, opt),
	}
	fds[9].TypeName = proto.String(".p3.Color")
	file := &descriptorpb.FileDescriptorProto{
		Name: proto.String("p3.proto"), Package: proto.String("p3"), Syntax: proto.String("proto3"),
		EnumType: []*descriptorpb.EnumDescriptorProto{{Name: proto.String("Color"), Value: []*descriptorpb.EnumValueDescriptorProto{
			{Name: proto.String("RED"), Number: proto.Int32(0)}, {Name: proto.String("GREEN"), Number: proto.Int32(1)}, {Name: proto.String("BLUE"), Number: proto.Int32(-2)},
		}}},
		MessageType: []*descriptorpb.DescriptorProto{{Name: proto.String("Kinds"), Field: fds}},
	}
	md := fileMessage(t, file)
	tb, err := newTable("main.test.kinds", nil, nil, md)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, tb.arrow)
	defer b.Release()
	ints := []int64{0, -1, 1, -70000, 1 << 40, -(1 << 62)}
	u64 := []string{"0", "1", "18446744073709551615", "12345678901234"}
	colors := []string{"RED", "GREEN", "BLUE"}
	for i := range 24 {
		v := ints[i%len(ints)]
		for c := range 7 {
			switch fb := b.Field(c).(type) {
			case *array.Int32Builder:
				fb.Append(int32(v))
			case *array.Int64Builder:
				fb.Append(v)
			default:
				t.Fatalf("column %d: %T", c, fb)
			}
		}
		b.Field(7).(*array.LargeStringBuilder).Append(u64[i%len(u64)])
		b.Field(8).(*array.LargeStringBuilder).Append(u64[(i+1)%len(u64)])
		b.Field(9).(*array.LargeStringBuilder).Append(colors[i%3])
		b.Field(10).(*array.LargeStringBuilder).Append([]string{"", "x"}[i%2])
		lb := b.Field(11).(*array.ListBuilder)
		lb.Append(true)
		for k := range i % 4 {
			lb.ValueBuilder().(*array.Int32Builder).Append(int32(k) - 1)
		}
		b.Field(12).(*array.Float32Builder).Append([]float32{0, 1.5}[i%2])
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	checkAgainstOracle(t, tb, rec)

	// Bad enum names and unsigned texts fail as the oracle does.
	for _, tc := range []struct {
		col int
		val string
	}{{9, "PURPLE"}, {7, "-1"}, {8, "x"}} {
		bad := withString(t, rec, tc.col, 5, tc.val)
		_, wantErr := arrowToMessages(bad, tb.md, tb.arrow)
		_, _, gotErr := encodeArrowRows(bad, tb.md, tb.arrow, 0)
		if wantErr == nil || gotErr == nil || gotErr.Error() != wantErr.Error() {
			t.Errorf("column %d = %q: error %v, oracle %v", tc.col, tc.val, gotErr, wantErr)
		}
		bad.Release()
	}
}

// withString returns rec with row row of string column col replaced.
func withString(t *testing.T, rec arrow.RecordBatch, col, row int, val string) arrow.RecordBatch {
	t.Helper()
	sb := array.NewLargeStringBuilder(memory.DefaultAllocator)
	defer sb.Release()
	src := rec.Column(col).(*array.LargeString)
	for i := range src.Len() {
		if i == row {
			sb.Append(val)
		} else {
			sb.Append(src.Value(i))
		}
	}
	arr := sb.NewArray()
	defer arr.Release()
	cols := append([]arrow.Array(nil), rec.Columns()...)
	cols[col] = arr
	return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
}

func fileMessage(t *testing.T, file *descriptorpb.FileDescriptorProto) protoreflect.MessageDescriptor {
	t.Helper()
	fd, err := protodesc.NewFile(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fd.Messages().Get(0)
}

// TestEncodeArrowRowsRejects checks each invalid value fails the batch
// with the oracle's error, naming row and column.
func TestEncodeArrowRowsRejects(t *testing.T) {
	cols, err := ParseColumns("id BIGINT NOT NULL, s STRING, tags ARRAY<STRING>, m MAP<STRING, INT>, pt STRUCT<x: DOUBLE NOT NULL, w: STRING>")
	if err != nil {
		t.Fatal(err)
	}
	tb, err := newTable("main.test.bad", cols, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	build := func(mutate func(b *array.RecordBuilder)) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, tb.arrow)
		defer b.Release()
		for i := range 3 {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			b.Field(1).(*array.LargeStringBuilder).Append("ok")
			lb := b.Field(2).(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.LargeStringBuilder).Append("t")
			mb := b.Field(3).(*array.MapBuilder)
			mb.Append(true)
			mb.KeyBuilder().(*array.LargeStringBuilder).Append("k")
			mb.ItemBuilder().(*array.Int32Builder).Append(1)
			sb := b.Field(4).(*array.StructBuilder)
			sb.Append(true)
			sb.FieldBuilder(0).(*array.Float64Builder).Append(1)
			sb.FieldBuilder(1).(*array.LargeStringBuilder).Append("w")
		}
		mutate(b)
		return b.NewRecordBatch()
	}
	for name, tc := range map[string]struct {
		mutate func(b *array.RecordBuilder)
		want   string
	}{
		"null id": {func(b *array.RecordBuilder) {
			b.Field(0).AppendNull()
			fillRest(b, 0)
		}, `row 3, column "id": null in a NOT NULL column`},
		"bad utf8": {func(b *array.RecordBuilder) {
			b.Field(0).(*array.Int64Builder).Append(3)
			b.Field(1).(*array.LargeStringBuilder).Append("a\xffb")
			fillRest(b, 1)
		}, `row 3, column "s": string is not valid UTF-8`},
		"null element": {func(b *array.RecordBuilder) {
			b.Field(0).(*array.Int64Builder).Append(3)
			b.Field(1).AppendNull()
			lb := b.Field(2).(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.LargeStringBuilder).Append("x")
			lb.ValueBuilder().AppendNull()
			fillRest(b, 2)
		}, `row 3, column "tags": element 1 is null (an array element cannot be null)`},
		"bad utf8 element": {func(b *array.RecordBuilder) {
			b.Field(0).(*array.Int64Builder).Append(3)
			b.Field(1).AppendNull()
			lb := b.Field(2).(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.LargeStringBuilder).Append("\xc3")
			fillRest(b, 2)
		}, `row 3, column "tags": element 0: string is not valid UTF-8`},
		"null map value": {func(b *array.RecordBuilder) {
			b.Field(0).(*array.Int64Builder).Append(3)
			b.Field(1).AppendNull()
			b.Field(2).AppendNull()
			mb := b.Field(3).(*array.MapBuilder)
			mb.Append(true)
			mb.KeyBuilder().(*array.LargeStringBuilder).Append("key")
			mb.ItemBuilder().AppendNull()
			fillRest(b, 3)
		}, `row 3, column "m": value of key key is null (a map value cannot be null)`},
		"null struct field": {func(b *array.RecordBuilder) {
			b.Field(0).(*array.Int64Builder).Append(3)
			b.Field(1).AppendNull()
			b.Field(2).AppendNull()
			b.Field(3).AppendNull()
			sb := b.Field(4).(*array.StructBuilder)
			sb.Append(true)
			sb.FieldBuilder(0).AppendNull()
			sb.FieldBuilder(1).(*array.LargeStringBuilder).Append("w")
		}, `row 3, column "pt": field "x": null in a NOT NULL field`},
		"bad utf8 struct field": {func(b *array.RecordBuilder) {
			b.Field(0).(*array.Int64Builder).Append(3)
			b.Field(1).AppendNull()
			b.Field(2).AppendNull()
			b.Field(3).AppendNull()
			sb := b.Field(4).(*array.StructBuilder)
			sb.Append(true)
			sb.FieldBuilder(0).(*array.Float64Builder).Append(2)
			sb.FieldBuilder(1).(*array.LargeStringBuilder).Append("\xe2\x82")
		}, `row 3, column "pt": field "w": string is not valid UTF-8`},
	} {
		t.Run(name, func(t *testing.T) {
			rec := build(tc.mutate)
			defer rec.Release()
			_, wantErr := arrowToMessages(rec, tb.md, tb.arrow)
			_, _, err := encodeArrowRows(rec, tb.md, tb.arrow, 0)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %s", err, tc.want)
			}
			if wantErr == nil || !strings.Contains(wantErr.Error(), tc.want) {
				t.Errorf("oracle error %v, want %s", wantErr, tc.want)
			}
		})
	}
}

// fillRest appends nulls to the columns after col.
func fillRest(b *array.RecordBuilder, col int) {
	for c := col + 1; c < len(b.Fields()); c++ {
		b.Field(c).AppendNull()
	}
}

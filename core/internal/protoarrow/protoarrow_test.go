package protoarrow_test

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

type (
	fdp = descriptorpb.FieldDescriptorProto
)

var (
	optional = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	required = descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum()
	repeated = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
)

func field(name string, num int32, l *descriptorpb.FieldDescriptorProto_Label, t descriptorpb.FieldDescriptorProto_Type, typeName string) *fdp {
	f := &fdp{Name: proto.String(name), Number: proto.Int32(num), Label: l, Type: t.Enum()}
	if typeName != "" {
		f.TypeName = proto.String(typeName)
	}
	return f
}

// allTypes has one field per scalar kind plus list, map, struct and enum,
// with type names qualified by package pkg ("" for none).
func allTypes(pkg string) *descriptorpb.DescriptorProto {
	q := "."
	if pkg != "" {
		q = "." + pkg + "."
	}
	return &descriptorpb.DescriptorProto{
		Name: proto.String("All"),
		Field: []*fdp{
			field("i32", 1, required, descriptorpb.FieldDescriptorProto_TYPE_INT32, ""),
			field("s32", 2, optional, descriptorpb.FieldDescriptorProto_TYPE_SINT32, ""),
			field("sf32", 3, optional, descriptorpb.FieldDescriptorProto_TYPE_SFIXED32, ""),
			field("i64", 4, optional, descriptorpb.FieldDescriptorProto_TYPE_INT64, ""),
			field("s64", 5, optional, descriptorpb.FieldDescriptorProto_TYPE_SINT64, ""),
			field("sf64", 6, optional, descriptorpb.FieldDescriptorProto_TYPE_SFIXED64, ""),
			field("u32", 7, optional, descriptorpb.FieldDescriptorProto_TYPE_UINT32, ""),
			field("f32", 8, optional, descriptorpb.FieldDescriptorProto_TYPE_FIXED32, ""),
			field("u64", 9, optional, descriptorpb.FieldDescriptorProto_TYPE_UINT64, ""),
			field("f64", 10, optional, descriptorpb.FieldDescriptorProto_TYPE_FIXED64, ""),
			field("fl", 11, optional, descriptorpb.FieldDescriptorProto_TYPE_FLOAT, ""),
			field("db", 12, optional, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE, ""),
			field("b", 13, optional, descriptorpb.FieldDescriptorProto_TYPE_BOOL, ""),
			field("s", 14, optional, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
			field("by", 15, optional, descriptorpb.FieldDescriptorProto_TYPE_BYTES, ""),
			field("e", 16, optional, descriptorpb.FieldDescriptorProto_TYPE_ENUM, q+"All.Color"),
			field("tags", 17, repeated, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
			field("m", 18, repeated, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, q+"All.MEntry"),
			field("st", 19, optional, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, q+"All.Sub"),
			field("subs", 20, repeated, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, "Sub"), // relative name
		},
		NestedType: []*descriptorpb.DescriptorProto{
			{
				Name:    proto.String("MEntry"),
				Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
				Field: []*fdp{
					field("key", 1, optional, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
					field("value", 2, optional, descriptorpb.FieldDescriptorProto_TYPE_INT64, ""),
				},
			},
			{
				Name: proto.String("Sub"),
				Field: []*fdp{
					field("x", 1, optional, descriptorpb.FieldDescriptorProto_TYPE_INT32, ""),
					field("ys", 2, repeated, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE, ""),
				},
			},
		},
		EnumType: []*descriptorpb.EnumDescriptorProto{{
			Name: proto.String("Color"),
			Value: []*descriptorpb.EnumValueDescriptorProto{
				{Name: proto.String("RED"), Number: proto.Int32(0)},
				{Name: proto.String("BLUE"), Number: proto.Int32(7)},
			},
		}},
	}
}

func wantAllSchema() *arrow.Schema {
	sub := arrow.StructOf(
		arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "ys", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64)},
	)
	return arrow.NewSchema([]arrow.Field{
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32},
		{Name: "s32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "sf32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "sf64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "fl", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "db", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "by", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "e", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String)},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)},
		{Name: "st", Type: sub, Nullable: true},
		{Name: "subs", Type: arrow.ListOf(sub)},
	}, nil)
}

func TestSchemaFromDescriptor(t *testing.T) {
	for _, pkg := range []string{"", "acme.v1"} {
		t.Run("package="+pkg, func(t *testing.T) {
			got, err := protoarrow.SchemaFromDescriptor(allTypes(pkg))
			if err != nil {
				t.Fatalf("SchemaFromDescriptor: %v", err)
			}
			if want := wantAllSchema(); !got.Equal(want) {
				t.Errorf("schema:\ngot  %v\nwant %v", got, want)
			}
		})
	}
}

func TestSchemaFromDescriptorErrors(t *testing.T) {
	recursive := &descriptorpb.DescriptorProto{
		Name:  proto.String("Node"),
		Field: []*fdp{field("next", 1, optional, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".Node")},
	}
	tests := []struct {
		name string
		desc *descriptorpb.DescriptorProto
		want string
	}{
		{"nil", nil, "nil descriptor"},
		{"no name", &descriptorpb.DescriptorProto{}, "no message name"},
		{"unresolvable type", &descriptorpb.DescriptorProto{
			Name:  proto.String("M"),
			Field: []*fdp{field("ts", 1, optional, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".google.protobuf.Timestamp")},
		}, "google.protobuf.Timestamp"},
		{"duplicate field number", &descriptorpb.DescriptorProto{
			Name: proto.String("M"),
			Field: []*fdp{
				field("a", 1, optional, descriptorpb.FieldDescriptorProto_TYPE_INT32, ""),
				field("b", 1, optional, descriptorpb.FieldDescriptorProto_TYPE_INT32, ""),
			},
		}, "M"},
		{"recursive", recursive, "nests deeper"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := protoarrow.SchemaFromDescriptor(tc.desc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error: got %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	desc := allTypes("acme.v1")
	md, err := protoarrow.MessageDescriptor(desc)
	if err != nil {
		t.Fatal(err)
	}
	fd := func(name string) protoreflect.FieldDescriptor { return md.Fields().ByName(protoreflect.Name(name)) }

	full := dynamicpb.NewMessage(md)
	set := func(n string, v protoreflect.Value) { full.Set(fd(n), v) }
	set("i32", protoreflect.ValueOfInt32(-1))
	set("s32", protoreflect.ValueOfInt32(-2))
	set("sf32", protoreflect.ValueOfInt32(-3))
	set("i64", protoreflect.ValueOfInt64(-4))
	set("s64", protoreflect.ValueOfInt64(-5))
	set("sf64", protoreflect.ValueOfInt64(-6))
	set("u32", protoreflect.ValueOfUint32(7))
	set("f32", protoreflect.ValueOfUint32(8))
	set("u64", protoreflect.ValueOfUint64(9))
	set("f64", protoreflect.ValueOfUint64(10))
	set("fl", protoreflect.ValueOfFloat32(1.5))
	set("db", protoreflect.ValueOfFloat64(2.25))
	set("b", protoreflect.ValueOfBool(true))
	set("s", protoreflect.ValueOfString("héllo"))
	set("by", protoreflect.ValueOfBytes([]byte{0, 1, 2}))
	set("e", protoreflect.ValueOfEnum(7))
	tags := full.Mutable(fd("tags")).List()
	tags.Append(protoreflect.ValueOfString("a"))
	tags.Append(protoreflect.ValueOfString("b"))
	m := full.Mutable(fd("m")).Map()
	m.Set(protoreflect.ValueOfString("z").MapKey(), protoreflect.ValueOfInt64(26))
	m.Set(protoreflect.ValueOfString("a").MapKey(), protoreflect.ValueOfInt64(1))
	st := full.Mutable(fd("st")).Message()
	st.Set(st.Descriptor().Fields().ByName("x"), protoreflect.ValueOfInt32(42))
	subs := full.Mutable(fd("subs")).List()
	e := subs.NewElement()
	e.Message().Mutable(e.Message().Descriptor().Fields().ByName("ys")).List().Append(protoreflect.ValueOfFloat64(3.5))
	subs.Append(e)

	sparse := dynamicpb.NewMessage(md) // only the required field
	sparse.Set(fd("i32"), protoreflect.ValueOfInt32(5))

	var recs [][]byte
	for _, msg := range []*dynamicpb.Message{full, sparse} {
		b, err := proto.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, b)
	}
	rec, err := protoarrow.Decode(mem, desc, recs)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	defer rec.Release()
	if !rec.Schema().Equal(wantAllSchema()) {
		t.Fatalf("schema: got %v", rec.Schema())
	}
	if got := rec.NumRows(); got != 2 {
		t.Fatalf("rows: got %d, want 2", got)
	}
	col := func(name string) arrow.Array { return rec.Column(rec.Schema().FieldIndices(name)[0]) }

	// Row 0: every value; compare through each array's ValueStr.
	want0 := map[string]string{
		"i32": "-1", "s32": "-2", "sf32": "-3", "i64": "-4", "s64": "-5", "sf64": "-6",
		"u32": "7", "f32": "8", "u64": "9", "f64": "10", "fl": "1.5", "db": "2.25", "b": "true",
		"s": "héllo", "e": "7",
	}
	for name, want := range want0 {
		if got := col(name).ValueStr(0); got != want {
			t.Errorf("row 0 %s: got %q, want %q", name, got, want)
		}
	}
	if got := col("by").(*array.Binary).Value(0); string(got) != "\x00\x01\x02" {
		t.Errorf("row 0 by: got %q", got)
	}
	if got := col("tags").(*array.List).ListValues().(*array.String); got.Len() != 2 || got.Value(0) != "a" || got.Value(1) != "b" {
		t.Errorf("row 0 tags: got %v, want [a b]", got)
	}
	mp := col("m").(*array.Map)
	keys, items := mp.Keys().(*array.String), mp.Items().(*array.Int64)
	if keys.Len() != 2 || keys.Value(0) != "a" || keys.Value(1) != "z" || items.Value(0) != 1 || items.Value(1) != 26 {
		t.Errorf("row 0 m: got keys %v items %v, want sorted a:1 z:26", keys, items)
	}
	stc := col("st").(*array.Struct)
	if stc.IsNull(0) || stc.Field(0).(*array.Int32).Value(0) != 42 || !stc.Field(0).IsNull(1) {
		t.Errorf("st: got %v, want {x:42} then null", stc)
	}
	subsc := col("subs").(*array.List)
	if s, e := subsc.ValueOffsets(0); e-s != 1 {
		t.Errorf("row 0 subs: got %d elements, want 1", e-s)
	}

	// Row 1: optionals null, required set, repeated empty, struct null.
	for _, name := range []string{"s32", "i64", "u64", "fl", "b", "s", "by", "e", "st"} {
		if !col(name).IsNull(1) {
			t.Errorf("row 1 %s: got %s, want null", name, col(name).ValueStr(1))
		}
	}
	if got := col("i32").(*array.Int32).Value(1); got != 5 {
		t.Errorf("row 1 i32: got %d, want 5", got)
	}
	for _, name := range []string{"tags", "m", "subs"} {
		l := col(name).(array.ListLike)
		if s, e := l.ValueOffsets(1); col(name).IsNull(1) || e != s {
			t.Errorf("row 1 %s: got null=%v len=%d, want an empty list", name, col(name).IsNull(1), e-s)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	desc := allTypes("")
	good := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 3)
	unknown := protowire.AppendVarint(protowire.AppendTag(append([]byte(nil), good...), 99, protowire.VarintType), 1)
	tests := []struct {
		name string
		rec  []byte
		want string
	}{
		{"garbage", []byte{0xff, 0xff, 0xff}, "record 1: cannot decode"},
		{"missing required", protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.VarintType), 1), "record 1: cannot decode"},
		{"unknown field", unknown, "record 1: message All carries field numbers not in the descriptor"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rec, err := protoarrow.Decode(mem, desc, [][]byte{good, tc.rec})
			if err == nil {
				rec.Release()
				t.Fatal("Decode: got nil error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error: got %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestRoundTripThroughConvert: Arrow -> convert (our encoder) -> protobuf
// records -> Decode gives back the same Arrow data.
func TestRoundTripThroughConvert(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sub := arrow.StructOf(
		arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "y", Type: arrow.BinaryTypes.String, Nullable: true},
	)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "small", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "ratio", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "blob", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "sub", Type: sub, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const n = 50
	for i := 0; i < n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i) * 1_000_000_007)
		if i%5 == 0 {
			for j := 1; j < len(schema.Fields()); j++ {
				if j == 7 || j == 8 {
					b.Field(j).AppendEmptyValue() // empty list/map: protobuf has no null list
					continue
				}
				b.Field(j).AppendNull()
			}
			continue
		}
		b.Field(1).(*array.Int32Builder).Append(int32(-i))
		b.Field(2).(*array.Float64Builder).Append(float64(i) / 3)
		b.Field(3).(*array.Float32Builder).Append(float32(i) * 0.5)
		b.Field(4).(*array.BooleanBuilder).Append(i%2 == 0)
		b.Field(5).(*array.StringBuilder).Append(strings.Repeat("x", i%7))
		b.Field(6).(*array.BinaryBuilder).Append([]byte{byte(i), 0})
		lb := b.Field(7).(*array.ListBuilder)
		lb.Append(true)
		for k := 0; k < i%3; k++ {
			lb.ValueBuilder().(*array.StringBuilder).Append("t")
		}
		mb := b.Field(8).(*array.MapBuilder)
		mb.Append(true)
		for k := 0; k < i%3; k++ {
			mb.KeyBuilder().(*array.StringBuilder).Append(string(rune('a' + k)))
			mb.ItemBuilder().(*array.Int64Builder).Append(int64(k * i))
		}
		sb := b.Field(9).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Int32Builder).Append(int32(i))
		sb.FieldBuilder(1).AppendNull()
	}
	in := b.NewRecordBatch()
	defer in.Release()

	plan, err := convert.NewPlan(schema, convert.Options{})
	if err != nil {
		t.Fatalf("convert.NewPlan: %v", err)
	}
	enc, err := plan.Encode(in)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if len(enc.Errors) > 0 {
		t.Fatalf("Encode row errors: %v", enc.Errors[0])
	}
	out, err := protoarrow.Decode(mem, plan.Descriptor(), enc.Records)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	defer out.Release()
	// Repeated fields are never null in protobuf, so lists and maps come
	// back non-nullable; everything else keeps its nullability.
	wantFields := schema.Fields()
	wantFields[7].Nullable, wantFields[8].Nullable = false, false
	if want := arrow.NewSchema(wantFields, nil); !out.Schema().Equal(want) {
		t.Errorf("schema:\ngot  %v\nwant %v", out.Schema(), want)
	}
	for i := range schema.Fields() {
		name := schema.Field(i).Name
		got, want := out.Column(i), in.Column(i)
		if !array.Equal(got, want) {
			t.Errorf("column %s:\ngot  %v\nwant %v", name, got, want)
		}
	}
}

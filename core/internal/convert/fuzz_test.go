package convert

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// fuzzReader hands out values derived from the fuzz input, and zeros once
// it runs out, so every input builds some batch.
type fuzzReader struct{ b []byte }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *fuzzReader) intn(n int) int { return int(r.byte()) % n }

func (r *fuzzReader) u64() uint64 {
	var buf [8]byte
	// A short tag byte picks small or extreme values more often than raw bits.
	switch r.intn(4) {
	case 0:
		return uint64(r.byte())
	case 1:
		return -uint64(r.byte())
	case 2:
		return []uint64{0, 1, math.MaxInt64, math.MaxInt64 + 1, math.MaxUint64, math.MaxInt32, math.MaxInt32 + 1, math.MaxUint32}[r.intn(8)]
	}
	for i := range buf {
		buf[i] = r.byte()
	}
	return binary.LittleEndian.Uint64(buf[:])
}

func (r *fuzzReader) str() string {
	// "\xff" and the halves of "é" make some values invalid UTF-8 (a row
	// error for string fields, any bytes for binary ones).
	alphabet := []string{"a", "b", "_", "Z", "é", "日", "🎉", "\x00", "a", "b", "é", "\xff", "\xc3", "\xa9"}
	n := r.intn(20)
	if r.intn(8) == 0 {
		n = 200 // long enough for a two-byte length prefix in a nested message
	}
	var b bytes.Buffer
	for range n {
		b.WriteString(alphabet[r.intn(len(alphabet))])
	}
	return b.String()
}

var fuzzLeafTypes = []arrow.DataType{
	arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64,
	arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Uint64,
	arrow.FixedWidthTypes.Float16, arrow.PrimitiveTypes.Float32, arrow.PrimitiveTypes.Float64, arrow.FixedWidthTypes.Boolean,
	arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.StringView,
	arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeBinary, arrow.BinaryTypes.BinaryView, &arrow.FixedSizeBinaryType{ByteWidth: 3},
	arrow.FixedWidthTypes.Date32, arrow.FixedWidthTypes.Date64,
	arrow.FixedWidthTypes.Timestamp_s, arrow.FixedWidthTypes.Timestamp_ms, arrow.FixedWidthTypes.Timestamp_us, arrow.FixedWidthTypes.Timestamp_ns,
	arrow.FixedWidthTypes.Time32s, arrow.FixedWidthTypes.Time32ms, arrow.FixedWidthTypes.Time64us, arrow.FixedWidthTypes.Time64ns,
	arrow.FixedWidthTypes.Duration_s, arrow.FixedWidthTypes.Duration_ns,
	&arrow.Decimal128Type{Precision: 38, Scale: 4}, &arrow.Decimal256Type{Precision: 76, Scale: -2},
	&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String},
	arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64),
}

// fuzzUUIDMeta names arrow.uuid in a field's metadata, as the C stream
// import gives a UUID column (the extension not registered).
var fuzzUUIDMeta = arrow.NewMetadata([]string{extNameKey}, []string{UUIDExtension})

// fuzzLeaf is fuzzLeafTypes[k]; the fixed_size_binary leaf takes one more
// byte that may make it 16 bytes wide (a UUID: fuzzField names arrow.uuid
// in the field's metadata), a registered arrow.uuid, or a run-end encoded
// one.
func fuzzLeaf(r *fuzzReader, k int) arrow.DataType {
	t := fuzzLeafTypes[k]
	if _, ok := t.(*arrow.FixedSizeBinaryType); !ok {
		return t
	}
	switch r.intn(4) {
	case 1:
		return &arrow.FixedSizeBinaryType{ByteWidth: 16}
	case 2:
		return extensions.NewUUIDType()
	case 3:
		return arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, extensions.NewUUIDType())
	}
	return t
}

// fuzzField is a field of type t; a fixed_size_binary[16] is a UUID named
// in its metadata.
func fuzzField(name string, t arrow.DataType, nullable bool) arrow.Field {
	f := arrow.Field{Name: name, Type: t, Nullable: nullable}
	if fb, ok := t.(*arrow.FixedSizeBinaryType); ok && fb.ByteWidth == 16 {
		f.Metadata = fuzzUUIDMeta
	}
	return f
}

// fuzzType derives an Arrow type; depth bounds nesting.
func fuzzType(r *fuzzReader, depth int) arrow.DataType {
	k := r.intn(len(fuzzLeafTypes) + 6)
	if k < len(fuzzLeafTypes) || depth >= 2 {
		return fuzzLeaf(r, k%len(fuzzLeafTypes))
	}
	elem := func() arrow.DataType { // no list directly in a list
		if r.intn(3) == 0 {
			return fuzzStruct(r, depth+1)
		}
		return fuzzLeaf(r, r.intn(len(fuzzLeafTypes)))
	}
	switch k - len(fuzzLeafTypes) {
	case 0:
		return arrow.ListOfField(fuzzField("item", elem(), r.intn(2) == 0))
	case 1:
		return arrow.LargeListOfField(fuzzField("item", elem(), true))
	case 2:
		return arrow.FixedSizeListOfField(2, fuzzField("item", elem(), true))
	case 3:
		return arrow.ListViewOfField(fuzzField("item", elem(), true))
	case 4:
		key := []arrow.DataType{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32, arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Uint64}[r.intn(4)]
		v := fuzzField("value", elem(), true)
		return arrow.MapOfWithMetadata(key, arrow.Metadata{}, v.Type, v.Metadata)
	default:
		return fuzzStruct(r, depth+1)
	}
}

func fuzzStruct(r *fuzzReader, depth int) arrow.DataType {
	n := r.intn(3) + 1
	fs := make([]arrow.Field, n)
	for i := range fs {
		fs[i] = fuzzField(fmt.Sprintf("f%d", i), fuzzType(r, depth), r.intn(3) != 0)
	}
	return arrow.StructOf(fs...)
}

// appendValue appends one value (or a null when nullable and the input
// says so) to b.
func appendValue(r *fuzzReader, b array.Builder, nullable bool) {
	if nullable && r.intn(5) == 0 {
		b.AppendNull()
		return
	}
	switch b := b.(type) {
	case *array.Int8Builder:
		b.Append(int8(r.u64()))
	case *array.Int16Builder:
		b.Append(int16(r.u64()))
	case *array.Int32Builder:
		b.Append(int32(r.u64()))
	case *array.Int64Builder:
		b.Append(int64(r.u64()))
	case *array.Uint8Builder:
		b.Append(uint8(r.u64()))
	case *array.Uint16Builder:
		b.Append(uint16(r.u64()))
	case *array.Uint32Builder:
		b.Append(uint32(r.u64()))
	case *array.Uint64Builder:
		b.Append(r.u64())
	case *array.Float16Builder:
		b.Append(float16.New(float32(int16(r.u64())) / 8))
	case *array.Float32Builder:
		b.Append(math.Float32frombits(uint32(r.u64())))
	case *array.Float64Builder:
		b.Append(math.Float64frombits(r.u64()))
	case *array.BooleanBuilder:
		b.Append(r.intn(2) == 0)
	case *array.StringBuilder:
		b.Append(r.str())
	case *array.LargeStringBuilder:
		b.Append(r.str())
	case *array.StringViewBuilder:
		b.Append(r.str())
	case *array.BinaryBuilder:
		b.Append([]byte(r.str()))
	case *array.BinaryViewBuilder:
		b.Append([]byte(r.str()))
	case *array.FixedSizeBinaryBuilder:
		v := make([]byte, b.Type().(*arrow.FixedSizeBinaryType).ByteWidth)
		for i := range v {
			v[i] = r.byte()
		}
		b.Append(v)
	case *extensions.UUIDBuilder:
		var v [16]byte
		for i := range v {
			v[i] = r.byte()
		}
		b.AppendBytes(v)
	case *array.Date32Builder:
		b.Append(arrow.Date32(r.u64()))
	case *array.Date64Builder:
		b.Append(arrow.Date64(r.u64()))
	case *array.TimestampBuilder:
		b.Append(arrow.Timestamp(r.u64()))
	case *array.Time32Builder:
		b.Append(arrow.Time32(r.u64() % 86_400))
	case *array.Time64Builder:
		b.Append(arrow.Time64(r.u64() % 86_400_000_000))
	case *array.DurationBuilder:
		b.Append(arrow.Duration(r.u64()))
	case *array.Decimal128Builder:
		b.Append(decimal128.New(int64(r.u64())>>1, r.u64()))
	case *array.Decimal256Builder:
		b.Append(decimal256.New(r.u64(), r.u64(), r.u64(), r.u64()))
	case *array.BinaryDictionaryBuilder:
		_ = b.AppendString([]string{"x", "yy", "", "é"}[r.intn(4)])
	case *array.RunEndEncodedBuilder:
		if b.Len() > 0 && r.intn(2) == 0 {
			b.ContinueRun(1) // one more row of the previous run
			return
		}
		b.Append(1)
		appendValue(r, b.ValueBuilder(), true)
	case *array.FixedSizeListBuilder:
		b.Append(true)
		elemNullable := b.Type().(*arrow.FixedSizeListType).ElemField().Nullable
		for range 2 {
			appendValue(r, b.ValueBuilder(), elemNullable)
		}
	case *array.MapBuilder:
		b.Append(true)
		mt := b.Type().(*arrow.MapType)
		for range r.intn(3) {
			appendValue(r, b.KeyBuilder(), false)
			appendValue(r, b.ItemBuilder(), mt.ItemField().Nullable)
		}
	case array.VarLenListLikeBuilder:
		n := r.intn(4)
		b.AppendWithSize(true, n)
		elemNullable := b.Type().(arrow.ListLikeType).ElemField().Nullable
		for range n {
			appendValue(r, b.ValueBuilder(), elemNullable)
		}
	case *array.StructBuilder:
		b.Append(true)
		st := b.Type().(*arrow.StructType)
		for i := range st.NumFields() {
			appendValue(r, b.FieldBuilder(i), st.Field(i).Nullable)
		}
	default:
		panic(fmt.Sprintf("fuzz: no value generator for %T", b))
	}
}

// fuzzUUIDTable gives each UUID column, STRUCT field, ARRAY element and
// MAP value under f (path) a table type in tt, STRING or BINARY as r says,
// for Options.TableType.
func fuzzUUIDTable(r *fuzzReader, f arrow.Field, path string, tt map[string]arrow.DataType) {
	if IsUUIDField(f) || IsUUIDType(fuzzEncodedValues(f.Type)) {
		tt[path] = []arrow.DataType{arrow.BinaryTypes.LargeString, arrow.BinaryTypes.LargeBinary}[r.intn(2)]
		return
	}
	switch t := f.Type.(type) {
	case *arrow.StructType:
		for _, sf := range t.Fields() {
			fuzzUUIDTable(r, sf, joinPath(path, sf.Name), tt)
		}
	case *arrow.MapType:
		fuzzUUIDTable(r, t.ItemField(), valuePath(path), tt)
	case arrow.ListLikeType:
		fuzzUUIDTable(r, t.ElemField(), elemPath(path), tt)
	}
}

// fuzzEncodedValues is t's value type under run-end encoding.
func fuzzEncodedValues(t arrow.DataType) arrow.DataType {
	if re, ok := t.(*arrow.RunEndEncodedType); ok {
		return re.Encoded()
	}
	return t
}

// fuzzBatch derives a schema and a batch (possibly sliced) from data, and
// the table types of its UUIDs (fuzzUUIDTable).
func fuzzBatch(mem memory.Allocator, data []byte) (arrow.RecordBatch, bool, map[string]arrow.DataType) {
	r := &fuzzReader{b: data}
	ncols := r.intn(4) + 1
	fields := make([]arrow.Field, ncols)
	for i := range fields {
		fields[i] = fuzzField(fmt.Sprintf("c%d", i), fuzzType(r, 0), r.intn(3) != 0)
	}
	allOptional := r.intn(4) == 0
	tt := map[string]arrow.DataType{}
	for _, f := range fields {
		fuzzUUIDTable(r, f, f.Name, tt)
	}
	rows := r.intn(12)
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for range rows {
		for i, f := range fields {
			appendValue(r, b.Field(i), f.Nullable || r.intn(9) == 0)
		}
	}
	rec := b.NewRecordBatch()
	if lo := r.intn(3); int64(lo) <= rec.NumRows() {
		s := rec.NewSlice(int64(lo), rec.NumRows())
		rec.Release()
		rec = s
	}
	return rec, allOptional, tt
}

// FuzzEncode compares the encoder with the dynamicpb reference encoder on
// batches derived from the input: the same rows must fail, and the others
// must decode to the same message. Run with
//
//	go test -run '^$' -fuzz FuzzEncode ./core/internal/convert/
func FuzzEncode(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		{3, 40, 41, 42, 43, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20},
		[]byte("\x02\x25\x00\x01\x27\x01\x05\x00\x0bhello world, this seeds a few rows of nested data"),
		bytes.Repeat([]byte{0x26, 0x29, 0x01, 0x07, 0xff, 0x80}, 20),
		bytes.Repeat([]byte{0x2a, 0x03, 0x11, 0x05, 0x21}, 30),
		bytes.Repeat([]byte{0x01, 0x28, 0x02, 0x0c, 0x18, 0x33}, 25),
		bytes.Repeat([]byte{0x03, 0x2b, 0x00, 0x0a, 0x1e, 0x1f, 0x20, 0x22, 0x23}, 25),
		// UUIDs (fixed_size_binary[16] named in the metadata, registered,
		// run-end encoded; in a list) into STRING columns (fuzzUUIDTable)
		append([]byte{0x03, 0x12, 0x01, 0x01, 0x12, 0x02, 0x01, 0x12, 0x03, 0x01, 0x23, 0x01, 0x12, 0x02, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x0b},
			bytes.Repeat([]byte{0x00, 0xff, 0x30, 0x61, 0x07, 0xc3, 0xa9, 0x41}, 40)...),
		// ... into STRING and BINARY, in a STRUCT and a MAP's values
		append([]byte{0x01, 0x28, 0x01, 0x12, 0x01, 0x01, 0x12, 0x03, 0x01, 0x01, 0x27, 0x01, 0x01, 0x12, 0x02, 0x01, 0x01, 0x00, 0x01, 0x00, 0x0b},
			bytes.Repeat([]byte{0x01, 0x80, 0x31, 0x62, 0x00, 0x7f, 0xe6, 0x97, 0xa5, 0x02}, 40)...),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		rec, allOptional, tableType := fuzzBatch(mem, data)
		defer rec.Release()
		p, err := NewPlan(rec.Schema(), Options{AllOptional: allOptional, TableType: tableType})
		if err != nil {
			t.Fatalf("NewPlan(%s): %v", rec.Schema(), err)
		}
		for _, f := range rec.Schema().Fields() {
			// UUIDs into a STRING are a string field (their text), into a
			// BINARY a bytes field (their 16 bytes).
			kind := map[arrow.Type]protoreflect.Kind{arrow.LARGE_STRING: protoreflect.StringKind, arrow.LARGE_BINARY: protoreflect.BytesKind}
			if tt, ok := tableType[f.Name]; ok {
				if got := p.MessageDescriptor().Fields().ByName(protoreflect.Name(f.Name)).Kind(); got != kind[tt.ID()] {
					t.Fatalf("column %s (%s) into %s: a %v field", f.Name, FieldTypeName(f), tt, got)
				}
			}
		}
		b, err := p.Encode(rec)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		ref := (&refEncoder{md: p.MessageDescriptor(), allOptional: allOptional}).encode(rec, false)
		failed := map[int]*RowError{}
		for _, e := range b.Errors {
			failed[e.Row] = e
		}
		det := proto.MarshalOptions{Deterministic: true}
		for k, r := range b.Records {
			row := b.Rows[k]
			if ref[row].err != nil {
				t.Fatalf("row %d: reference failed (%v) but Encode succeeded\nschema: %s", row, ref[row].err, rec.Schema())
			}
			got, err := det.Marshal(decode(t, p.MessageDescriptor(), r))
			if err != nil {
				t.Fatal(err)
			}
			want, err := det.Marshal(ref[row].msg)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("row %d differs from the reference\nschema: %s\ngot:  %x\nwant: %x", row, rec.Schema(), got, want)
			}
		}
		for row := range ref {
			if (ref[row].err != nil) != (failed[row] != nil) {
				t.Fatalf("row %d: reference error %v, Encode error %v\nschema: %s", row, ref[row].err, failed[row], rec.Schema())
			}
		}
	})
}

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
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
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

// fuzzType derives an Arrow type; depth bounds nesting.
func fuzzType(r *fuzzReader, depth int) arrow.DataType {
	k := r.intn(len(fuzzLeafTypes) + 6)
	if k < len(fuzzLeafTypes) || depth >= 2 {
		return fuzzLeafTypes[k%len(fuzzLeafTypes)]
	}
	elem := func() arrow.DataType { // no list directly in a list
		if r.intn(3) == 0 {
			return fuzzStruct(r, depth+1)
		}
		return fuzzLeafTypes[r.intn(len(fuzzLeafTypes))]
	}
	switch k - len(fuzzLeafTypes) {
	case 0:
		return arrow.ListOfField(arrow.Field{Name: "item", Type: elem(), Nullable: r.intn(2) == 0})
	case 1:
		return arrow.LargeListOf(elem())
	case 2:
		return arrow.FixedSizeListOf(2, elem())
	case 3:
		return arrow.ListViewOf(elem())
	case 4:
		key := []arrow.DataType{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32, arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Uint64}[r.intn(4)]
		return arrow.MapOf(key, elem())
	default:
		return fuzzStruct(r, depth+1)
	}
}

func fuzzStruct(r *fuzzReader, depth int) arrow.DataType {
	n := r.intn(3) + 1
	fs := make([]arrow.Field, n)
	for i := range fs {
		fs[i] = arrow.Field{Name: fmt.Sprintf("f%d", i), Type: fuzzType(r, depth), Nullable: r.intn(3) != 0}
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
		b.Append([]byte{r.byte(), r.byte(), r.byte()})
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

// fuzzBatch derives a schema and a batch (possibly sliced) from data.
func fuzzBatch(mem memory.Allocator, data []byte) (arrow.RecordBatch, bool) {
	r := &fuzzReader{b: data}
	ncols := r.intn(4) + 1
	fields := make([]arrow.Field, ncols)
	for i := range fields {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: fuzzType(r, 0), Nullable: r.intn(3) != 0}
	}
	allOptional := r.intn(4) == 0
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
	return rec, allOptional
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
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		rec, allOptional := fuzzBatch(mem, data)
		defer rec.Release()
		p, err := NewPlan(rec.Schema(), Options{AllOptional: allOptional})
		if err != nil {
			t.Fatalf("NewPlan(%s): %v", rec.Schema(), err)
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

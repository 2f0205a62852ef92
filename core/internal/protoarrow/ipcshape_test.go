package protoarrow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// shapeColumns are columns of every layout arrow-go writes to IPC, with the
// number of buffers each reads, so the verifier's count of what a batch
// must carry is checked against arrow-go's reader on real streams.
var shapeColumns = []struct {
	dt   arrow.DataType
	json string
}{
	{arrow.Null, `[null, null]`},
	{arrow.PrimitiveTypes.Int32, `[1, null]`},
	{arrow.FixedWidthTypes.Boolean, `[true, null]`},
	{&arrow.Decimal128Type{Precision: 10, Scale: 2}, `["1.25", null]`},
	{arrow.FixedWidthTypes.MonthDayNanoInterval, `[{"months": 1, "days": 2, "nanoseconds": 3}, null]`},
	{arrow.BinaryTypes.String, `["a", null]`},
	{arrow.BinaryTypes.LargeBinary, `["YQ==", null]`},
	{arrow.BinaryTypes.StringView, `["short", "a string longer than twelve bytes"]`},
	{arrow.BinaryTypes.BinaryView, `["YQ==", null]`},
	{&arrow.FixedSizeBinaryType{ByteWidth: 2}, `["YWI=", null]`},
	{arrow.ListOf(arrow.BinaryTypes.StringView), `[["x", "a string longer than twelve bytes"], null]`},
	{arrow.LargeListOf(arrow.PrimitiveTypes.Int8), `[[1], null]`},
	{arrow.ListViewOf(arrow.PrimitiveTypes.Int16), `[[1, 2], null]`},
	{arrow.LargeListViewOf(arrow.BinaryTypes.String), `[["a"], null]`},
	{arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float64), `[[1, 2], null]`},
	{arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true}), `[{"a": 1, "b": "x"}, null]`},
	{arrow.MapOf(arrow.BinaryTypes.String, arrow.ListOf(arrow.PrimitiveTypes.Int32)), `[[{"key": "k", "value": [1]}], null]`},
	{arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String), `["x", "x"]`},
	{arrow.SparseUnionOf([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, []arrow.UnionTypeCode{0, 1}), `[[0, 5], [1, "x"]]`},
	{arrow.DenseUnionOf([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, []arrow.UnionTypeCode{0, 1}), `[[0, 5], [1, "x"]]`},
	{extensions.NewUUIDType(), `["00010203-0405-0607-0809-0a0b0c0d0e0f", null]`},
	{&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.ListOf(arrow.BinaryTypes.StringView)},
		`[1, null]|[["a"], ["b", "a string longer than twelve bytes"]]`},
	{arrow.ListOf(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}), `[["p", "q"], null]`},
}

// shapeBatch is one batch holding every column of shapeColumns.
func shapeBatch(t testing.TB) arrow.RecordBatch {
	fields := make([]arrow.Field, len(shapeColumns))
	cols := make([]arrow.Array, len(shapeColumns))
	fromJSON := func(dt arrow.DataType, js string) arrow.Array {
		arr, _, err := array.FromJSON(memory.DefaultAllocator, dt, strings.NewReader(js))
		if err != nil {
			t.Fatalf("%s: %v", dt, err)
		}
		return arr
	}
	for k, c := range shapeColumns {
		var arr arrow.Array
		if idx, vals, ok := strings.Cut(c.json, "|"); ok { // a dictionary: indices|values
			dt := c.dt.(*arrow.DictionaryType)
			i, v := fromJSON(dt.IndexType, idx), fromJSON(dt.ValueType, vals)
			arr = array.NewDictionaryArray(dt, i, v)
			i.Release()
			v.Release()
		} else {
			arr = fromJSON(c.dt, c.json)
		}
		defer arr.Release()
		fields[k] = arrow.Field{Name: string(rune('a' + k)), Type: c.dt, Nullable: true}
		cols[k] = arr
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, 2)
}

// shapeStream writes rec twice as an IPC stream with opts.
func shapeStream(t testing.TB, rec arrow.RecordBatch, opts ...ipc.Option) []byte {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, append(opts, ipc.WithSchema(rec.Schema()))...)
	for range 2 {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// recordBatchVector returns where the length of vector field i (1: nodes,
// 2: buffers) of the RecordBatch in message metadata meta lies.
func recordBatchVector(meta []byte, i int) int {
	u32 := func(p int) int { return int(binary.LittleEndian.Uint32(meta[p:])) }
	field := func(table, i int) int {
		vt := table - int(int32(binary.LittleEndian.Uint32(meta[table:])))
		return table + int(binary.LittleEndian.Uint16(meta[vt+4+2*i:]))
	}
	root := u32(0)
	h := field(root, 2)
	header := h + u32(h)
	if meta[field(root, 1)] == headerDictionaryBatch {
		d := field(header, 1)
		header = d + u32(d)
	}
	v := field(header, i)
	return v + u32(v)
}

// Streams with every layout, also compressed, pass the verifier and read
// back equal. A batch whose node or buffer vector is one short of what its
// schema's arrays read is refused: arrow-go would read the missing entry
// from the bytes after the vector, and a compressed buffer found there
// makes it allocate whatever length those bytes hold (a 1.3 KiB debug file
// asked for 2^61 bytes; FuzzReadArrowFile found it).
func TestIPCVerifierBatchShape(t *testing.T) {
	rec := shapeBatch(t)
	defer rec.Release()
	for _, c := range []struct {
		name string
		opts []ipc.Option
	}{{"none", nil}, {"zstd", []ipc.Option{ipc.WithZstd(), ipc.WithMinSpaceSavings(0)}}, {"lz4", []ipc.Option{ipc.WithLZ4()}}} {
		t.Run(c.name, func(t *testing.T) {
			stream := shapeStream(t, rec, c.opts...)
			r, err := ipc.NewReader(NewIPCStreamVerifier(bytes.NewReader(stream), int64(len(stream))))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for r.Next() {
				if !array.RecordEqual(rec, r.RecordBatch()) {
					t.Errorf("batch %d reads back different", n)
				}
				n++
			}
			if err := r.Err(); err != nil || n != 2 {
				t.Fatalf("%d batches, %v", n, err)
			}
			r.Release()
			msgs := streamMessages(stream)
			for k, m := range msgs[1:] {
				for _, vec := range []struct {
					field int
					want  string
				}{{1, "field nodes for the"}, {2, "buffers, but the arrays of the schema read"}} {
					bad := bytes.Clone(stream)
					at := m[0] + recordBatchVector(bad[m[0]:m[1]], vec.field)
					binary.LittleEndian.PutUint32(bad[at:], binary.LittleEndian.Uint32(bad[at:])-1)
					_, err := io.ReadAll(NewIPCStreamVerifier(bytes.NewReader(bad), int64(len(bad))))
					if !errors.Is(err, ErrIPCMetadata) || !strings.Contains(err.Error(), vec.want) {
						t.Errorf("message %d, vector %d one short: %v; want %q", k+1, vec.field, err, vec.want)
					}
				}
			}
		})
	}
}

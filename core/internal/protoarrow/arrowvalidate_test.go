package protoarrow

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// fromJSON builds an array of dt from JSON.
func fromJSON(t testing.TB, dt arrow.DataType, js string) arrow.Array {
	t.Helper()
	arr, _, err := array.FromJSON(memory.DefaultAllocator, dt, strings.NewReader(js))
	if err != nil {
		t.Fatalf("%s from %s: %v", dt, js, err)
	}
	return arr
}

// everyType is one valid column of every type arrow-go reads from IPC,
// with nulls where the type has them.
func everyType(t testing.TB) ([]arrow.Field, []arrow.Array) {
	mk := func(name string, dt arrow.DataType, js string) (arrow.Field, arrow.Array) {
		return arrow.Field{Name: name, Type: dt, Nullable: true}, fromJSON(t, dt, js)
	}
	var fields []arrow.Field
	var cols []arrow.Array
	add := func(f arrow.Field, a arrow.Array) { fields = append(fields, f); cols = append(cols, a) }
	add(mk("null", arrow.Null, `[null, null, null]`))
	add(mk("bool", arrow.FixedWidthTypes.Boolean, `[true, null, false]`))
	add(mk("i8", arrow.PrimitiveTypes.Int8, `[1, null, -3]`))
	add(mk("u64", arrow.PrimitiveTypes.Uint64, `[1, null, 3]`))
	add(mk("f16", arrow.FixedWidthTypes.Float16, `[1.5, null, 3]`))
	add(mk("f64", arrow.PrimitiveTypes.Float64, `[1.5, null, 3]`))
	add(mk("dec128", &arrow.Decimal128Type{Precision: 10, Scale: 2}, `["1.25", null, "-3.50"]`))
	add(mk("dec256", &arrow.Decimal256Type{Precision: 40, Scale: 2}, `["1.25", null, "-3.50"]`))
	add(mk("date32", arrow.FixedWidthTypes.Date32, `["2024-01-02", null, "1970-01-01"]`))
	add(mk("time64", arrow.FixedWidthTypes.Time64us, `["12:00:00", null, "00:00:01"]`))
	add(mk("ts", arrow.FixedWidthTypes.Timestamp_us, `["2024-01-02T03:04:05Z", null, "1970-01-01T00:00:00Z"]`))
	add(mk("dur", arrow.FixedWidthTypes.Duration_ms, `[1, null, 3]`))
	add(mk("months", arrow.FixedWidthTypes.MonthInterval, `[{"months": 1}, null, {"months": 3}]`))
	add(mk("daytime", arrow.FixedWidthTypes.DayTimeInterval, `[{"days": 1, "milliseconds": 2}, null, {"days": 3, "milliseconds": 4}]`))
	add(mk("mdn", arrow.FixedWidthTypes.MonthDayNanoInterval, `[{"months": 1, "days": 2, "nanoseconds": 3}, null, {"months": 0, "days": 0, "nanoseconds": 0}]`))
	add(mk("fsb", &arrow.FixedSizeBinaryType{ByteWidth: 3}, `["YWJj", null, "ZGVm"]`))
	add(mk("s", arrow.BinaryTypes.String, `["a", null, "héllo"]`))
	add(mk("b", arrow.BinaryTypes.Binary, `["YQ==", null, ""]`))
	add(mk("ls", arrow.BinaryTypes.LargeString, `["a", null, "héllo"]`))
	add(mk("lb", arrow.BinaryTypes.LargeBinary, `["YQ==", null, ""]`))
	add(mk("sv", arrow.BinaryTypes.StringView, `["short", null, "a string longer than twelve bytes"]`))
	add(mk("bv", arrow.BinaryTypes.BinaryView, `["YQ==", null, "YSBiaW5hcnkgbG9uZ2VyIHRoYW4gdHdlbHZlIGJ5dGVz"]`))
	add(mk("list", arrow.ListOf(arrow.BinaryTypes.String), `[["a", "b"], null, ["c"]]`))
	add(mk("llist", arrow.LargeListOf(arrow.PrimitiveTypes.Int32), `[[1, 2], null, [3]]`))
	add(mk("fsl", arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int32), `[[1, 2], null, [3, 4]]`))
	add(mk("lv", arrow.ListViewOf(arrow.PrimitiveTypes.Int32), `[[1, 2], null, [3]]`))
	add(mk("llv", arrow.LargeListViewOf(arrow.PrimitiveTypes.Int32), `[[1, 2], null, [3]]`))
	add(mk("map", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32), `[[{"key": "a", "value": 1}], null, [{"key": "b", "value": null}]]`))
	add(mk("struct", arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}), `[{"x": 1, "s": "a"}, null, {"x": null, "s": "c"}]`))
	add(mk("sparse", arrow.SparseUnionOf([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, []arrow.UnionTypeCode{2, 5}), `[[2, 1], [5, "x"], [2, null]]`))
	add(mk("dense", arrow.DenseUnionOf([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, []arrow.UnionTypeCode{2, 5}), `[[2, 1], [5, "x"], [2, null]]`))
	add(mk("dict", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}, `["a", null, "b"]`))
	add(mk("ree", arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String), `["a", "a", null]`))
	add(mk("uuid", extensions.NewUUIDType(), `["00000000-0000-0000-0000-000000000001", null, "00000000-0000-0000-0000-000000000003"]`))
	return fields, cols
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// Valid data of every type passes, as built, sliced, and after a round
// trip through an IPC stream (which the validator then reads as arrow-go
// built it from the body).
func TestValidateArrowEveryType(t *testing.T) {
	fields, cols := everyType(t)
	defer releaseAll(cols)
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, 3)
	defer rec.Release()
	if err := ValidateArrowRecord(rec); err != nil {
		t.Fatalf("built: %v", err)
	}
	for lo := 0; lo <= 3; lo++ {
		for hi := lo; hi <= 3; hi++ {
			s := rec.NewSlice(int64(lo), int64(hi))
			if err := ValidateArrowRecord(s); err != nil {
				t.Errorf("slice [%d:%d]: %v", lo, hi, err)
			}
			s.Release()
		}
	}
	// (arrow-go v18.5.2 cannot write a list view sliced at an offset, an
	// arrow-go bug: the slices above are checked in memory only.)
	got := readIPC(t, writeIPC(t, rec, rec.NewSlice(0, 3), rec.NewSlice(0, 0)))
	defer releaseRecs(got)
	if len(got) != 3 {
		t.Fatalf("%d batches read back", len(got))
	}
	v := NewArrowValidator()
	for k, r := range got {
		if err := v.Record(r); err != nil {
			t.Errorf("batch %d after IPC: %v", k, err)
		}
		formatAll(r)
	}
	if !array.RecordEqual(rec, got[0]) {
		t.Errorf("round trip changed the batch")
	}
}

func releaseRecs(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// writeIPC writes recs (released) as one Arrow IPC stream.
func writeIPC(t testing.TB, recs ...arrow.RecordBatch) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(recs[0].Schema()))
	for k, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatalf("writing batch %d: %v", k, err)
		}
		if k > 0 {
			r.Release()
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readIPC reads every batch of an IPC stream through the metadata verifier.
func readIPC(t testing.TB, data []byte) []arrow.RecordBatch {
	t.Helper()
	r, err := ipc.NewReader(NewIPCStreamVerifier(bytes.NewReader(data), int64(len(data))))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var out []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		out = append(out, rec)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// formatAll reads every value of rec.
func formatAll(rec arrow.RecordBatch) int {
	n := 0
	for _, col := range rec.Columns() {
		for i := 0; i < col.Len(); i++ {
			n += len(col.ValueStr(i))
		}
		n += len(col.String())
	}
	return n
}

// withBuffer returns d with buffer i edited (a copy; d is unchanged).
func withBuffer(d arrow.ArrayData, i int, edit func([]byte) []byte) arrow.ArrayData {
	bufs := slices.Clone(d.Buffers())
	var b []byte
	if bufs[i] != nil {
		b = bytes.Clone(bufs[i].Bytes())
	}
	bufs[i] = memory.NewBufferBytes(edit(b))
	return remake(d, bufs, d.Children(), d.NullN())
}

// withChild returns d with child k replaced.
func withChild(d arrow.ArrayData, k int, c arrow.ArrayData) arrow.ArrayData {
	kids := slices.Clone(d.Children())
	kids[k] = c
	return remake(d, d.Buffers(), kids, d.NullN())
}

func remake(d arrow.ArrayData, bufs []*memory.Buffer, kids []arrow.ArrayData, nulls int) arrow.ArrayData {
	nd := array.NewData(d.DataType(), d.Len(), bufs, kids, nulls, d.Offset())
	if d.DataType().ID() == arrow.DICTIONARY {
		nd.SetDictionary(d.Dictionary())
	}
	return nd
}

func put32(at int, v int32) func([]byte) []byte {
	return func(b []byte) []byte { binary.LittleEndian.PutUint32(b[4*at:], uint32(v)); return b }
}

func put64(at int, v int64) func([]byte) []byte {
	return func(b []byte) []byte { binary.LittleEndian.PutUint64(b[8*at:], uint64(v)); return b }
}

func truncate(n int) func([]byte) []byte {
	return func(b []byte) []byte { return b[:n] }
}

// One damage per type family, each found with the column, the row and
// what is wrong.
func TestValidateArrowDamage(t *testing.T) {
	str := arrow.BinaryTypes.String
	i32 := arrow.PrimitiveTypes.Int32
	cases := []struct {
		name   string
		dt     arrow.DataType
		js     string
		damage func(arrow.ArrayData) arrow.ArrayData
		column string
		row    int
		reason string
	}{
		{"int32 values short", i32, `[1, 2, 3]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, truncate(8)) },
			"c", -1, "the values buffer holds 8 bytes, offset 0 + length 3 needs 12"},
		{"bool values short", arrow.FixedWidthTypes.Boolean, `[true, false, true, true, true, true, true, true, true]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, truncate(1)) },
			"c", -1, "the values buffer holds 1 bytes, offset 0 + length 9 needs 2"},
		{"validity bitmap short", i32, `[1, null, 3, 4, 5, 6, 7, 8, 9]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 0, truncate(1)) },
			"c", -1, "the validity bitmap holds 1 bytes, offset 0 + length 9 needs 2"},
		{"null count wrong", i32, `[1, null, 3]`,
			func(d arrow.ArrayData) arrow.ArrayData { return remake(d, d.Buffers(), nil, 2) },
			"c", -1, "the null count says 2, the validity bitmap has 1 nulls"},
		{"nulls without bitmap", i32, `[1, 2, 3]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return remake(d, []*memory.Buffer{nil, d.Buffers()[1]}, nil, 1)
			},
			"c", -1, "1 nulls but no validity bitmap"},
		{"null count beyond length", arrow.Null, `[null, null]`,
			func(d arrow.ArrayData) arrow.ArrayData { return remake(d, nil, nil, 3) },
			"c", -1, "3 nulls in 2 values"},
		{"decimal short", &arrow.Decimal128Type{Precision: 5, Scale: 1}, `["1.5", "2.5"]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, truncate(20)) },
			"c", -1, "holds 20 bytes, offset 0 + length 2 needs 32"},
		{"decimal scale beyond its powers of ten", &arrow.Decimal128Type{Precision: 5, Scale: 1}, `["1.5"]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return array.NewData(&arrow.Decimal128Type{Precision: 5, Scale: 39}, 1, d.Buffers(), nil, 0, 0)
			},
			"c", -1, "precision 5 and scale 39, outside 1..38 and -38..38"},
		{"interval short", arrow.FixedWidthTypes.MonthDayNanoInterval, `[{"months": 1, "days": 2, "nanoseconds": 3}]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, truncate(15)) },
			"c", -1, "needs 16"},
		{"fixed_size_binary short", &arrow.FixedSizeBinaryType{ByteWidth: 4}, `["YWJjZA==", "YWJjZA=="]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, truncate(7)) },
			"c", -1, "holds 7 bytes, offset 0 + length 2 needs 8"},
		{"string offset falls", str, `["ab", "cd", "ef"]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put32(2, 1)) },
			"c", 1, "offset 2 is 1, below the offset 2 before it"},
		{"string offset past data", str, `["ab", "cd", "ef"]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put32(3, 9)) },
			"c", 2, "offset 3 is 9, beyond the 6 bytes of data"},
		{"string offset negative", str, `["ab", "cd"]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put32(0, -1)) },
			"c", 0, "offset 0 is -1, below 0"},
		{"string offsets short", str, `["ab", "cd"]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, truncate(8)) },
			"c", -1, "the offsets buffer holds 8 bytes, offset 0 + length 2 needs 12"},
		{"string not UTF-8", str, `["ab", "cd", "ef"]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withBuffer(d, 2, func(b []byte) []byte { b[4] = 0xff; return b })
			},
			"c", 2, "not valid UTF-8"},
		{"string split inside a character", str, `["é", "x"]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put32(1, 1)) },
			"c", 0, "not valid UTF-8"},
		{"large_binary offset past data", arrow.BinaryTypes.LargeBinary, `["YQ==", "Yg=="]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put64(2, 1000)) },
			"c", 1, "offset 2 is 1000, beyond the 2 bytes of data"},
		{"large_string offset falls", arrow.BinaryTypes.LargeString, `["ab", "cd", "ef"]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put64(1, 5)) },
			"c", 1, "offset 2 is 4, below the offset 5 before it"},
		{"string_view outside its buffer", arrow.BinaryTypes.StringView, `["short", "a string longer than twelve bytes"]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put32(4+3, 100)) },
			"c", 1, "the view of 33 bytes at offset 100 lies outside the 33 bytes of data buffer 0"},
		{"string_view names no buffer", arrow.BinaryTypes.StringView, `["a string longer than twelve bytes"]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put32(2, 3)) },
			"c", 0, "the view points into data buffer 3 of 1"},
		{"string_view prefix differs", arrow.BinaryTypes.StringView, `["a string longer than twelve bytes"]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withBuffer(d, 1, func(b []byte) []byte { b[4] = 'X'; return b })
			},
			"c", 0, `the view's prefix "X st" differs from its data "a st"`},
		{"binary_view negative size", arrow.BinaryTypes.BinaryView, `["YQ==", "Yg=="]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put32(4, -2)) },
			"c", 1, "a view of -2 bytes"},
		{"views short", arrow.BinaryTypes.BinaryView, `["YQ==", "Yg=="]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, truncate(20)) },
			"c", -1, "the views buffer holds 20 bytes, offset 0 + length 2 needs 32"},
		{"list offset past child", arrow.ListOf(i32), `[[1], [2, 3], [4]]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put32(3, 7)) },
			"c[]", 2, "offset 3 is 7, beyond the 4 child values"},
		{"list child damaged", arrow.ListOf(str), `[["a"], ["b", "c"], ["d"]]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				// child string 2 ("c") ends before it starts: row 1
				return withChild(d, 0, withBuffer(d.Children()[0], 1, put32(3, 1)))
			},
			"c[]", 1, "offset 3 is 1, below the offset 2 before it"},
		{"large_list offset falls", arrow.LargeListOf(i32), `[[1], [2, 3], [4]]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put64(2, 0)) },
			"c[]", 1, "offset 2 is 0, below the offset 1 before it"},
		{"fixed_size_list child short", arrow.FixedSizeListOf(2, i32), `[[1, 2], [3, 4]]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withChild(d, 0, array.NewSliceData(d.Children()[0], 0, 3))
			},
			"c[]", -1, "3 child values, offset 0 + length 2 lists of 2 need 4"},
		{"fixed_size_list child damaged", arrow.FixedSizeListOf(2, str), `[["a", "b"], ["c", "d"]]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withChild(d, 0, withBuffer(d.Children()[0], 2, func(b []byte) []byte { b[2] = 0xC3; return b }))
			},
			"c[]", 1, "not valid UTF-8"},
		{"list_view outside child", arrow.ListViewOf(i32), `[[1], [2, 3]]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 2, put32(1, 5)) },
			"c[]", 1, "the list view at offset 1 of 5 values lies outside the 3 child values"},
		{"large_list_view negative offset", arrow.LargeListViewOf(i32), `[[1], [2, 3]]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put64(0, -1)) },
			"c[]", 0, "the list view at offset -1 of 1 values"},
		{"map null key", arrow.MapOf(str, i32), `[[{"key": "a", "value": 1}], [{"key": "b", "value": 2}, {"key": "c", "value": 3}]]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				entries := d.Children()[0]
				keys := entries.Children()[0]
				bm := []byte{0b101} // key 1 ("b") null
				nk := remake(keys, []*memory.Buffer{memory.NewBufferBytes(bm), keys.Buffers()[1], keys.Buffers()[2]}, nil, 1)
				return withChild(d, 0, withChild(entries, 0, nk))
			},
			"c.key", 1, "a null map key"},
		{"map offset past entries", arrow.MapOf(str, i32), `[[{"key": "a", "value": 1}], [{"key": "b", "value": 2}]]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put32(2, 3)) },
			"c", 1, "offset 2 is 3, beyond the 2 map entries"},
		{"map value damaged", arrow.MapOf(str, str), `[[{"key": "a", "value": "x"}], [{"key": "b", "value": "y"}]]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				entries := d.Children()[0]
				return withChild(d, 0, withChild(entries, 1, withBuffer(entries.Children()[1], 1, put32(2, 9))))
			},
			"c.value", 1, "offset 2 is 9, beyond the 2 bytes of data"},
		{"struct child short", arrow.StructOf(arrow.Field{Name: "x", Type: i32}, arrow.Field{Name: "y", Type: i32}), `[{"x": 1, "y": 2}, {"x": 3, "y": 4}]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withChild(d, 1, array.NewSliceData(d.Children()[1], 0, 1))
			},
			"c.y", -1, "the field has 1 values, its parent's offset 0 + length 2 needs 2"},
		{"struct child damaged", arrow.StructOf(arrow.Field{Name: "s", Type: str}), `[{"s": "a"}, {"s": "b"}, {"s": "c"}]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withChild(d, 0, withBuffer(d.Children()[0], 1, put32(2, 0)))
			},
			"c.s", 1, "offset 2 is 0, below the offset 1 before it"},
		{"struct missing a child", arrow.StructOf(arrow.Field{Name: "x", Type: i32}, arrow.Field{Name: "y", Type: i32}), `[{"x": 1, "y": 2}]`,
			func(d arrow.ArrayData) arrow.ArrayData { return remake(d, d.Buffers(), d.Children()[:1], 0) },
			"c", -1, "1 child arrays for 2 fields"},
		{"sparse union type id names no child", arrow.SparseUnionOf([]arrow.Field{{Name: "i", Type: i32}, {Name: "s", Type: str}}, []arrow.UnionTypeCode{2, 5}),
			`[[2, 1], [5, "x"], [2, 3]]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withBuffer(d, 1, func(b []byte) []byte { b[2] = 3; return b })
			},
			"c", 2, "type id 3 names none of the union's 2 types"},
		{"sparse union negative type id", arrow.SparseUnionOf([]arrow.Field{{Name: "i", Type: i32}}, []arrow.UnionTypeCode{0}), `[[0, 1]]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withBuffer(d, 1, func(b []byte) []byte { b[0] = 0x80; return b })
			},
			"c", 0, "type id -128 names none"},
		{"sparse union member damaged", arrow.SparseUnionOf([]arrow.Field{{Name: "i", Type: i32}, {Name: "s", Type: str}}, []arrow.UnionTypeCode{2, 5}),
			`[[2, 1], [5, "x"], [5, "y"]]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withChild(d, 1, withBuffer(d.Children()[1], 1, put32(3, 50)))
			},
			"c.s", 2, "offset 3 is 50"},
		{"dense union offset outside member", arrow.DenseUnionOf([]arrow.Field{{Name: "i", Type: i32}, {Name: "s", Type: str}}, []arrow.UnionTypeCode{2, 5}),
			`[[2, 1], [5, "x"], [2, 3]]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 2, put32(2, 2)) },
			"c", 2, `offset 2 into member "i" of 2 values`},
		{"dense union member damaged", arrow.DenseUnionOf([]arrow.Field{{Name: "i", Type: i32}, {Name: "s", Type: str}}, []arrow.UnionTypeCode{2, 5}),
			`[[2, 1], [5, "x"], [5, "y"]]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withChild(d, 1, withBuffer(d.Children()[1], 2, func(b []byte) []byte { b[1] = 0xff; return b }))
			},
			"c.s", 2, "not valid UTF-8"},
		{"dictionary index out of range", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: str}, `["a", "b", "a"]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withBuffer(d, 1, func(b []byte) []byte { b[2] = 2; return b })
			},
			"c", 2, "dictionary index 2, the dictionary has 2 values"},
		{"dictionary index negative", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: str}, `["a", "b"]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, put32(0, -1)) },
			"c", 0, "dictionary index -1, the dictionary has 2 values"},
		{"dictionary damaged", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint8, ValueType: str}, `["a", "b"]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				nd := remake(d, d.Buffers(), nil, 0)
				nd.(*array.Data).SetDictionary(withBuffer(d.Dictionary(), 1, put32(2, 40)))
				return nd
			},
			"c (dictionary)", -1, "offset 2 is 40, beyond the 2 bytes of data"},
		{"run ends not rising", arrow.RunEndEncodedOf(i32, str), `["a", "a", "b", "c"]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withChild(d, 0, withBuffer(d.Children()[0], 1, put32(1, 2)))
			},
			"c (run ends)", -1, "run end 1 is 2, not above the one before it (2)"},
		{"run ends too short", arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int16, str), `["a", "a", "b"]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withChild(d, 0, withBuffer(d.Children()[0], 1, func(b []byte) []byte { b[0], b[2] = 1, 2; return b }))
			},
			"c (run ends)", -1, "the runs end at 2, offset 0 + length 3 needs 3"},
		{"run ends of another type", arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int64, str), `["a", "a", "b"]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				re := d.Children()[0]
				short := array.NewData(arrow.PrimitiveTypes.Int16, re.Len(), re.Buffers(), nil, 0, re.Offset())
				return withChild(d, 0, short)
			},
			"c (run ends)", -1, "run ends of type int16 for a type with int64 run ends"},
		{"run-end values damaged", arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int64, str), `["a", "a", "b", "b", "c"]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				return withChild(d, 1, withBuffer(d.Children()[1], 1, put32(2, 0)))
			},
			"c (values)", 2, "offset 2 is 0, below the offset 1 before it"},
		{"extension storage short", extensions.NewUUIDType(), `["00000000-0000-0000-0000-000000000001"]`,
			func(d arrow.ArrayData) arrow.ArrayData { return withBuffer(d, 1, truncate(15)) },
			"c", -1, "holds 15 bytes, offset 0 + length 1 needs 16"},
		{"nested list of structs", arrow.ListOf(arrow.StructOf(arrow.Field{Name: "s", Type: str})), `[[{"s": "a"}], [{"s": "b"}, {"s": "c"}], [{"s": "d"}]]`,
			func(d arrow.ArrayData) arrow.ArrayData {
				st := d.Children()[0]
				return withChild(d, 0, withChild(st, 0, withBuffer(st.Children()[0], 2, func(b []byte) []byte { b[2] = 0x80; return b })))
			},
			"c[].s", 1, "not valid UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			arr := fromJSON(t, tc.dt, tc.js)
			defer arr.Release()
			if err := ValidateArrowArray("c", arr.Data()); err != nil {
				t.Fatalf("valid array: %v", err)
			}
			err := ValidateArrowArray("c", tc.damage(arr.Data()))
			var e *ArrowDataError
			if !errors.As(err, &e) || !errors.Is(err, ErrArrowData) {
				t.Fatalf("err = %v, want an *ArrowDataError", err)
			}
			if e.Column != tc.column || e.Row != tc.row || !strings.Contains(e.Reason, tc.reason) {
				t.Fatalf("got column %q row %d reason %q\nwant column %q row %d reason containing %q", e.Column, e.Row, e.Reason, tc.column, tc.row, tc.reason)
			}
		})
	}
}

// A slice's rows count from the slice: damage at row 2 of the whole array
// is row 1 of the slice that starts at row 1.
func TestValidateArrowSliceRows(t *testing.T) {
	arr := fromJSON(t, arrow.ListOf(arrow.BinaryTypes.String), `[["a"], ["b"], ["c", "d"], ["e"]]`)
	defer arr.Release()
	d := withChild(arr.Data(), 0, withBuffer(arr.Data().Children()[0], 2, func(b []byte) []byte { b[3] = 0xff; return b }))
	err := ValidateArrowArray("c", array.NewSliceData(d, 1, 4))
	var e *ArrowDataError
	if !errors.As(err, &e) || e.Column != "c[]" || e.Row != 1 {
		t.Fatalf("slice [1:4]: %v", err)
	}
	// The child of a sliced list is whole: damage in it is found, in no
	// row of the slice.
	if err := ValidateArrowArray("c", array.NewSliceData(d, 0, 2)); !errors.As(err, &e) || e.Row != -1 {
		t.Fatalf("slice [0:2]: %v", err)
	}
}

// The dictionary of a stream is validated once per validator, and its
// error repeats for every batch that uses it.
func TestValidateArrowDictionaryOnce(t *testing.T) {
	arr := fromJSON(t, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}, `["a", "b"]`)
	defer arr.Release()
	v := NewArrowValidator()
	sch := arrow.NewSchema([]arrow.Field{{Name: "d", Type: arr.DataType()}}, nil)
	rec := array.NewRecordBatch(sch, []arrow.Array{arr}, 2)
	defer rec.Release()
	for range 2 {
		if err := v.Record(rec); err != nil {
			t.Fatal(err)
		}
	}
	if len(v.dicts) != 1 {
		t.Fatalf("%d dictionaries remembered", len(v.dicts))
	}
}

// Damage written into an IPC stream body (a string offset that falls,
// which arrow-go's own checks let through) is found after arrow-go reads
// the batch.
func TestValidateArrowIPCBody(t *testing.T) {
	data, at := damagedStream(t)
	r, err := ipc.NewReader(NewIPCStreamVerifier(bytes.NewReader(data), int64(len(data))))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if !r.Next() {
		t.Fatal(r.Err())
	}
	err = ValidateArrowRecord(r.RecordBatch())
	var e *ArrowDataError
	if !errors.As(err, &e) || e.Column != "s" || e.Row != at || !strings.Contains(e.Reason, "below the offset") {
		t.Fatalf("err = %v", err)
	}
}

// damagedStream is an IPC stream of one batch {id int64, s string} of 4
// rows whose string offset 2 is larger than offset 3 (row 2 ends before
// it starts); it returns the stream and the damaged row.
func damagedStream(t testing.TB) ([]byte, int) {
	ids := fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, 2, 3, 4]`)
	defer ids.Release()
	s := fromJSON(t, arrow.BinaryTypes.String, `["aa", "bb", "cc", "dd"]`)
	defer s.Release()
	bad := array.MakeFromData(withBuffer(s.Data(), 1, put32(2, 7)))
	defer bad.Release()
	sch := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	rec := array.NewRecordBatch(sch, []arrow.Array{ids, bad}, 4)
	defer rec.Release()
	return writeIPC(t, rec), 2
}

// FuzzValidateArrow: any bytes as an Arrow IPC stream, read as the debug
// file reader and the command line read them (metadata verifier, then
// arrow-go), then validated: the validator never panics (not even one it
// would recover from), and every value of a batch it accepts can be read
// and formatted. Run beside FuzzReadArrowFile:
//
//	go test -run '^$' -fuzz FuzzValidateArrow -fuzztime 60s ./core/internal/protoarrow/
func FuzzValidateArrow(f *testing.F) {
	// One small stream per type: the fuzzer minimizes what it finds
	// interesting, which takes long for large inputs.
	fields, cols := everyType(f)
	for i := range fields {
		rec := array.NewRecordBatch(arrow.NewSchema(fields[i:i+1], nil), cols[i:i+1], 3)
		f.Add(writeIPC(f, rec))
		rec.Release()
	}
	releaseAll(cols)
	damaged, _ := damagedStream(f)
	f.Add(damaged)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ipc.NewReader(NewIPCStreamVerifier(bytes.NewReader(data), int64(len(data))))
		if err != nil {
			return
		}
		defer r.Release()
		v := NewArrowValidator()
		for r.Next() {
			rec := r.RecordBatch()
			err := v.Record(rec)
			if err != nil {
				if errors.Is(err, ErrValidatorFailure) {
					t.Fatalf("the validator panicked: %v", err)
				}
				if !errors.Is(err, ErrArrowData) {
					t.Fatalf("error %v does not wrap ErrArrowData", err)
				}
				continue
			}
			formatSome(rec)
		}
	})
}

// formatSome reads the first and last values of every column (all of them
// in a batch of up to 8192 rows).
func formatSome(rec arrow.RecordBatch) int {
	const edge = 4096
	n := 0
	for _, col := range rec.Columns() {
		if unknownZone(col.DataType()) {
			continue
		}
		l := col.Len()
		for i := 0; i < l; i++ {
			if i == edge && l > 2*edge {
				i = l - edge
			}
			n += len(col.ValueStr(i))
			if col.IsValid(i) {
				_ = col.GetOneForMarshal(i)
			}
		}
		if l <= 2*edge {
			n += len(col.String())
		}
	}
	return n
}

// arrow-go sizes the buffer list of a string_view array by the batch
// header's variadic buffer count: a header whose count is huge (arrow-go
// allocated terabytes for it), or that counts fewer view arrays than the
// schema has (arrow-go reads past the counts), is refused, by the message
// verifier of a stream and by the stream reader.
func TestIPCVariadicBufferCounts(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.StringView, Nullable: true},
		{Name: "d", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.BinaryView}, Nullable: true},
	}, nil)
	cols := []arrow.Array{
		fromJSON(t, arrow.PrimitiveTypes.Int64, `[1, 2]`),
		fromJSON(t, arrow.BinaryTypes.StringView, `["a string longer than twelve bytes", "short"]`),
	}
	defer releaseAll(cols)
	// (arrow-go has no builder for dictionaries of views.)
	idx := fromJSON(t, arrow.PrimitiveTypes.Int8, `[0, null]`)
	defer idx.Release()
	dict := fromJSON(t, arrow.BinaryTypes.BinaryView, `["YSBiaW5hcnkgbG9uZ2VyIHRoYW4gdHdlbHZlIGJ5dGVz"]`)
	defer dict.Release()
	cols = append(cols, array.NewDictionaryArray(schema.Field(2).Type, idx, dict))
	rec := array.NewRecordBatch(schema, cols, 2)
	defer rec.Release()
	stream := writeIPC(t, rec)
	// The stream: schema, dictionary batch, record batch; each message
	// 0xFFFFFFFF, length, metadata, body.
	type msg struct{ meta, at int }
	var msgs []msg
	for at := 0; at+8 <= len(stream); {
		mlen := int(binary.LittleEndian.Uint32(stream[at+4:]))
		if mlen == 0 {
			break
		}
		meta := stream[at+8 : at+8+mlen]
		body, err := VerifyIPCMessage(meta, "m", int64(len(stream)))
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, msg{at + 8, mlen})
		at += 8 + mlen + int(body)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	meta := func(d []byte, k int) []byte { return d[msgs[k].meta : msgs[k].meta+msgs[k].at] }
	for _, c := range []struct {
		name   string
		msg    int // 1: the dictionary batch, 2: the record batch
		damage func(meta []byte, vec int)
		want   string
	}{
		{"huge count", 2, func(m []byte, vec int) { binary.LittleEndian.PutUint64(m[vec+4:], 1<<40) },
			"message 2: variadic buffer count 0 is 1099511627776, the batch has 7 buffers"},
		{"no counts", 2, func(m []byte, vec int) { binary.LittleEndian.PutUint32(m[vec:], 0) },
			"message 2: 0 variadic buffer counts for 1 view arrays"},
		{"negative count in a dictionary", 1, func(m []byte, vec int) { binary.LittleEndian.PutUint64(m[vec+4:], 1<<63) },
			"message 1: variadic buffer count 0 is -9223372036854775808"},
		{"no counts in a dictionary", 1, func(m []byte, vec int) { binary.LittleEndian.PutUint32(m[vec:], 0) },
			"message 1: 0 variadic buffer counts for 1 view arrays"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := bytes.Clone(stream)
			m := meta(d, c.msg)
			c.damage(m, variadicCounts(m, c.msg == 1))
			// The message verifier of a stream (the local server's).
			var v IPCMessageVerifier
			var err error
			for k := 0; k <= c.msg && err == nil; k++ {
				_, err = v.Verify(meta(d, k), fmt.Sprintf("message %d", k), int64(len(d)))
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("IPCMessageVerifier: %v, want %q", err, c.want)
			}
			// The stream reader (the debug file reader's, the command line's).
			_, err = io.ReadAll(NewIPCStreamVerifier(bytes.NewReader(d), int64(len(d))))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("NewIPCStreamVerifier: %v, want %q", err, c.want)
			}
		})
	}
	// Undamaged, every message passes.
	var v IPCMessageVerifier
	for k := range msgs {
		if _, err := v.Verify(meta(stream, k), "m", int64(len(stream))); err != nil {
			t.Fatal(err)
		}
	}
	// The format allows leaving variadicBufferCounts out only when the
	// schema has no view field (Message.fbs); arrow-go's writer writes one
	// count per view array, 0 included. A batch of a schema with view
	// fields and no vector at all (arrow-go would read 0 buffers for each
	// view array) is refused.
	for _, k := range []int{1, 2} {
		d := bytes.Clone(stream)
		m := meta(d, k)
		slot := fbSlot(m, batchTable(m, k == 1), 4)
		if binary.LittleEndian.Uint16(m[slot:]) == 0 {
			t.Fatalf("message %d: arrow-go wrote no variadicBufferCounts", k)
		}
		binary.LittleEndian.PutUint16(m[slot:], 0) // the field absent
		var v IPCMessageVerifier
		var err error
		for j := 0; j <= k && err == nil; j++ {
			_, err = v.Verify(meta(d, j), fmt.Sprintf("message %d", j), int64(len(d)))
		}
		var e *IPCMetadataError
		if !errors.As(err, &e) || !errors.Is(err, ErrIPCMetadata) || e.What != fmt.Sprintf("message %d", k) {
			t.Errorf("message %d without variadicBufferCounts: IPCMessageVerifier: %v, want an *IPCMetadataError of message %d", k, err, k)
		}
		_, err = io.ReadAll(NewIPCStreamVerifier(bytes.NewReader(d), int64(len(d))))
		if !errors.As(err, &e) || !errors.Is(err, ErrIPCMetadata) {
			t.Errorf("message %d without variadicBufferCounts: NewIPCStreamVerifier: %v, want an *IPCMetadataError", k, err)
		}
	}
}

// variadicCounts returns where RecordBatch.variadicBufferCounts (its
// length, then the counts) lies in a batch message's metadata (of a
// DictionaryBatch's data if dict).
func variadicCounts(meta []byte, dict bool) int {
	return fbField(meta, batchTable(meta, dict), 4) // RecordBatch.variadicBufferCounts
}

// fbField returns where the offset field i of the flatbuffer table at
// table points.
func fbField(meta []byte, table, i int) int {
	p := table + int(binary.LittleEndian.Uint16(meta[fbSlot(meta, table, i):]))
	return p + int(binary.LittleEndian.Uint32(meta[p:]))
}

// fbSlot returns where the vtable of the table at table holds field i's
// position.
func fbSlot(meta []byte, table, i int) int {
	return table - int(int32(binary.LittleEndian.Uint32(meta[table:]))) + 4 + 2*i
}

// batchTable returns where the RecordBatch table of a batch message's
// metadata lies (a DictionaryBatch's data if dict).
func batchTable(meta []byte, dict bool) int {
	batch := fbField(meta, int(binary.LittleEndian.Uint32(meta)), 2) // Message.header
	if dict {
		batch = fbField(meta, batch, 1) // DictionaryBatch.data
	}
	return batch
}

// Every byte of every buffer of a valid array of every type, nested ones
// and dictionaries included, set in turn to 0x00, 0x7F, 0x80 and 0xFF, in
// the whole array and in a slice of it: whatever the validator accepts,
// arrow-go builds and formats value by value without a panic.
func TestValidateArrowEveryByteChanged(t *testing.T) {
	fields, cols := everyType(t)
	defer releaseAll(cols)
	checked := 0
	for k := range 2 * len(cols) {
		c := k % len(cols)
		col := cols[c].Data()
		if k >= len(cols) {
			col = array.NewSliceData(col, 1, 3)
		}
		var walk func(d arrow.ArrayData, path []int)
		walk = func(d arrow.ArrayData, path []int) {
			for b, buf := range d.Buffers() {
				if buf == nil {
					continue
				}
				for i := range buf.Len() {
					for _, x := range []byte{0x00, 0x7F, 0x80, 0xFF} {
						edit := func(bs []byte) []byte { bs[i] = x; return bs }
						nd := mutate(col, path, b, edit)
						err := ValidateArrowArray(fields[c].Name, nd)
						if errors.Is(err, ErrValidatorFailure) {
							t.Fatalf("column %s, buffer %d of node %v, byte %d = %#x: the validator panicked: %v", fields[c].Name, b, path, i, x, err)
						}
						if err == nil {
							if p := formatData(nd); p != nil {
								t.Fatalf("column %s, buffer %d of node %v, byte %d = %#x: accepted, then %v", fields[c].Name, b, path, i, x, p)
							}
							checked++
						}
					}
				}
			}
			for k, kid := range d.Children() {
				walk(kid, append(slices.Clone(path), k))
			}
			if d.DataType().ID() == arrow.DICTIONARY {
				walk(d.Dictionary(), append(slices.Clone(path), -1))
			}
		}
		walk(col, nil)
	}
	if checked == 0 {
		t.Fatal("nothing accepted")
	}
	t.Logf("%d changed arrays accepted and formatted", checked)
}

// mutate returns d with buffer b of the node at path (child indices, -1:
// the dictionary) edited.
func mutate(d arrow.ArrayData, path []int, b int, edit func([]byte) []byte) arrow.ArrayData {
	if len(path) == 0 {
		return withBuffer(d, b, edit)
	}
	if path[0] == -1 {
		nd := remake(d, d.Buffers(), d.Children(), d.NullN())
		nd.(*array.Data).SetDictionary(mutate(d.Dictionary(), path[1:], b, edit))
		return nd
	}
	return withChild(d, path[0], mutate(d.Children()[path[0]], path[1:], b, edit))
}

// unknownZone reports whether dt holds a timestamp whose time zone does
// not load: arrow-go's ValueStr then calls a nil function. The time zone
// says how to show a value, not where it lies; the validator leaves it
// alone (this machine may lack the tz database that names it).
func unknownZone(dt arrow.DataType) bool {
	switch dt := dt.(type) {
	case *arrow.TimestampType:
		_, err := dt.GetZone()
		return err != nil
	case *arrow.DictionaryType:
		return unknownZone(dt.ValueType)
	case arrow.ExtensionType:
		return unknownZone(dt.StorageType())
	case arrow.NestedType:
		for _, f := range dt.Fields() {
			if unknownZone(f.Type) {
				return true
			}
		}
	}
	return false
}

// formatData builds the array of d and formats each value, returning what
// panicked (nil: nothing).
func formatData(d arrow.ArrayData) (p any) {
	defer func() { p = recover() }()
	arr := array.MakeFromData(d)
	defer arr.Release()
	for i := 0; i < arr.Len(); i++ {
		_ = arr.ValueStr(i)
		if arr.IsValid(i) {
			_ = arr.GetOneForMarshal(i)
		}
	}
	_ = arr.String()
	return nil
}

// FuzzValidateArrowBuffers: several bytes of the buffers of a valid array
// of one of every type changed at once, and the array sliced: whatever the
// validator accepts, arrow-go builds and formats without a panic (the
// IPC-level FuzzValidateArrow rarely gets a body past the metadata checks
// with several changes in it).
//
//	go test -run '^$' -fuzz FuzzValidateArrowBuffers -fuzztime 60s ./core/internal/protoarrow/
func FuzzValidateArrowBuffers(f *testing.F) {
	fields, cols := everyType(f)
	f.Cleanup(func() { releaseAll(cols) })
	for c := range cols {
		f.Add(uint8(c), uint8(0), uint8(3), []byte{0, 4, 0xff})
	}
	type site struct {
		path []int
		buf  int
		n    int
	}
	sites := make([][]site, len(cols))
	for c, col := range cols {
		var walk func(d arrow.ArrayData, path []int)
		walk = func(d arrow.ArrayData, path []int) {
			for b, buf := range d.Buffers() {
				if buf != nil && buf.Len() > 0 {
					sites[c] = append(sites[c], site{path, b, buf.Len()})
				}
			}
			for k, kid := range d.Children() {
				walk(kid, append(slices.Clone(path), k))
			}
			if d.DataType().ID() == arrow.DICTIONARY {
				walk(d.Dictionary(), append(slices.Clone(path), -1))
			}
		}
		walk(col.Data(), nil)
	}
	f.Fuzz(func(t *testing.T, col, lo, hi uint8, edits []byte) {
		c := int(col) % len(cols)
		d := cols[c].Data()
		// (Not empty: arrow-go v18.5.2 cannot format an empty slice of a
		// dense union at an offset, an arrow-go bug.)
		if l, h := int(lo)%4, int(hi)%4; l < h && h <= d.Len() {
			d = array.NewSliceData(d, int64(l), int64(h))
		}
		for k := 0; len(sites[c]) > 0 && k+3 <= len(edits) && k < 3*8; k += 3 {
			s := sites[c][int(edits[k])%len(sites[c])]
			at, x := int(edits[k+1])%s.n, edits[k+2]
			d = mutate(d, s.path, s.buf, func(b []byte) []byte { b[at] = x; return b })
		}
		err := ValidateArrowArray(fields[c].Name, d)
		if err != nil {
			if errors.Is(err, ErrValidatorFailure) {
				t.Fatalf("the validator panicked: %v", err)
			}
			return
		}
		if p := formatData(d); p != nil {
			t.Fatalf("column %s: accepted, then %v", fields[c].Name, p)
		}
	})
}

// panickingData is array data whose buffers cannot be read: the validator
// panics on it (as it would on a bug of its own).
type panickingData struct{ *array.Data }

func (panickingData) Buffers() []*memory.Buffer { panic("buffers unreadable") }

// A panic of the validator is a *ValidatorFailureError naming the column
// and the panic, not damaged data: it does not wrap ErrArrowData.
func TestValidatorPanicIsNotDamagedData(t *testing.T) {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.AppendValues([]int64{1, 2, 3}, nil)
	arr := b.NewInt64Array()
	b.Release()
	defer arr.Release()
	err := ValidateArrowArray("id", panickingData{arr.Data().(*array.Data)})
	var e *ValidatorFailureError
	if !errors.As(err, &e) || !errors.Is(err, ErrValidatorFailure) {
		t.Fatalf("err = %#v, want a *ValidatorFailureError", err)
	}
	if errors.Is(err, ErrArrowData) {
		t.Fatalf("err = %v wraps ErrArrowData: a validator bug would call the data damaged", err)
	}
	if e.Column != "id" || e.Panic != "buffers unreadable" {
		t.Fatalf("Column, Panic = %q, %v; want id, buffers unreadable", e.Column, e.Panic)
	}
}

package tests_go

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// edgeColumn is one column of edgeBatch: its caller type and, per row, what
// to append (nil: a null).
type edgeColumn struct {
	name string
	typ  arrow.DataType
	row  func(b array.Builder, r int) bool // false: append a null
}

// edgeBatch has a column of each caller type the Flight cast converts
// (top-level and nested) and rows of ordinary values, values below the
// epoch finer than the table's unit, nulls, and one value per row that the
// protobuf path refuses (out of range, not UTF-8).
func edgeBatch(t *testing.T, mem memory.Allocator) (arrow.RecordBatch, map[int]string) {
	t.Helper()
	const rows = 13
	bad := map[int]string{3: "u64", 4: "tss", 5: "s", 6: "tags[1]", 7: "st.u", 8: "m[0].value", 9: "sv", 10: "dict",
		11: "st.s", 12: "lts[0]"}
	str := func(r int, ok string, badAt int) string {
		if r == badAt {
			return "bad\xff"
		}
		return ok
	}
	cols := []edgeColumn{
		{"id", arrow.PrimitiveTypes.Int64, func(b array.Builder, r int) bool { b.(*array.Int64Builder).Append(int64(r)); return true }},
		{"u64", arrow.PrimitiveTypes.Uint64, func(b array.Builder, r int) bool {
			b.(*array.Uint64Builder).Append(map[bool]uint64{true: math.MaxUint64, false: uint64(r) << 40}[r == 3])
			return true
		}},
		{"f16", arrow.FixedWidthTypes.Float16, func(b array.Builder, r int) bool {
			b.(*array.Float16Builder).Append(float16.New(-1.5 * float32(r)))
			return true
		}},
		{"s", arrow.BinaryTypes.String, func(b array.Builder, r int) bool { b.(*array.StringBuilder).Append(str(r, "héllo", 5)); return true }},
		{"sv", arrow.BinaryTypes.StringView, func(b array.Builder, r int) bool {
			b.(*array.StringViewBuilder).Append(str(r, "a view longer than twelve bytes ✓", 9))
			return true
		}},
		{"fsb", &arrow.FixedSizeBinaryType{ByteWidth: 3}, func(b array.Builder, r int) bool {
			b.(*array.FixedSizeBinaryBuilder).Append([]byte{0, byte(r), 255})
			return true
		}},
		{"d64", arrow.FixedWidthTypes.Date64, func(b array.Builder, r int) bool {
			b.(*array.Date64Builder).Append(arrow.Date64([]int64{86_400_000*3 + 5, -1}[r%2]))
			return true
		}},
		{"tss", &arrow.TimestampType{Unit: arrow.Second, TimeZone: "Europe/Paris"}, func(b array.Builder, r int) bool {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp(map[bool]int64{true: math.MaxInt64 / 10, false: 1_700_000_000 - int64(r)}[r == 4]))
			return true
		}},
		{"tsn", &arrow.TimestampType{Unit: arrow.Nanosecond}, func(b array.Builder, r int) bool {
			b.(*array.TimestampBuilder).Append(arrow.Timestamp([]int64{1_700_000_000_123_456_789, -1}[r%2]))
			return true
		}},
		{"t32", arrow.FixedWidthTypes.Time32ms, func(b array.Builder, r int) bool {
			b.(*array.Time32Builder).Append(arrow.Time32(3_600_000 + r))
			return true
		}},
		{"dur", arrow.FixedWidthTypes.Duration_ns, func(b array.Builder, r int) bool {
			b.(*array.DurationBuilder).Append(arrow.Duration([]int64{1_999, -1_001}[r%2]))
			return true
		}},
		{"dec", &arrow.Decimal128Type{Precision: 10, Scale: 3}, func(b array.Builder, r int) bool {
			b.(*array.Decimal128Builder).Append(decimal128.FromI64(-12340 + int64(r)))
			return true
		}},
		{"dict", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}, func(b array.Builder, r int) bool {
			return b.(*array.BinaryDictionaryBuilder).AppendString(str(r, []string{"red", "blue"}[r%2], 10)) == nil
		}},
		{"tags", arrow.ListOf(arrow.BinaryTypes.String), func(b array.Builder, r int) bool {
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.StringBuilder).AppendValues([]string{"x", str(r, "ü", 6)}, nil)
			return true
		}},
		{"lts", arrow.LargeListOf(&arrow.TimestampType{Unit: arrow.Second}), func(b array.Builder, r int) bool {
			lb := b.(*array.LargeListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.TimestampBuilder).Append(arrow.Timestamp(map[bool]int64{true: math.MinInt64 / 10, false: -int64(r)}[r == 12]))
			return true
		}},
		{"st", arrow.StructOf(arrow.Field{Name: "u", Type: arrow.PrimitiveTypes.Uint64, Nullable: true}, arrow.Field{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}),
			func(b array.Builder, r int) bool {
				sb := b.(*array.StructBuilder)
				sb.Append(true)
				sb.FieldBuilder(0).(*array.Uint64Builder).Append(map[bool]uint64{true: math.MaxUint64, false: uint64(r)}[r == 7])
				sb.FieldBuilder(1).(*array.StringBuilder).Append(str(r, "ok", 11))
				return true
			}},
		{"lv", arrow.ListViewOf(arrow.PrimitiveTypes.Int16), func(b array.Builder, r int) bool {
			lb := b.(*array.ListViewBuilder)
			lb.AppendWithSize(true, 2)
			lb.ValueBuilder().(*array.Int16Builder).AppendValues([]int16{int16(r), -1}, nil)
			return true
		}},
		{"ree", arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String), func(b array.Builder, r int) bool {
			rb := b.(*array.RunEndEncodedBuilder)
			rb.Append(1)
			rb.ValueBuilder().(*array.StringBuilder).Append([]string{"run", "other"}[r%2])
			return true
		}},
		{"uid", extensions.NewUUIDType(), func(b array.Builder, r int) bool {
			b.(*extensions.UUIDBuilder).AppendBytes([16]byte{byte(r), 1, 2})
			return true
		}},
		{"m", arrow.MapOf(arrow.BinaryTypes.String, arrow.FixedWidthTypes.Date64), func(b array.Builder, r int) bool {
			mb := b.(*array.MapBuilder)
			mb.Append(true)
			mb.KeyBuilder().(*array.StringBuilder).Append("a")
			mb.ItemBuilder().(*array.Date64Builder).Append(arrow.Date64(map[bool]int64{true: math.MaxInt64, false: -int64(r)}[r == 8]))
			return true
		}},
	}
	fields := make([]arrow.Field, len(cols))
	for c, col := range cols {
		fields[c] = arrow.Field{Name: col.name, Type: col.typ, Nullable: c > 0}
	}
	b := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer b.Release()
	for r := range rows {
		for c, col := range cols {
			if r == 2 && c > 0 {
				b.Field(c).AppendNull()
				continue
			}
			if !col.row(b.Field(c), r) {
				t.Fatalf("column %s row %d", col.name, r)
			}
		}
	}
	return b.NewRecordBatch(), bad
}

// plainSchema is s with run-end encoded and extension types replaced by
// their values' type (the table a batch of s goes to).
func plainSchema(s *arrow.Schema) *arrow.Schema {
	fields := slices.Clone(s.Fields())
	for i, f := range fields {
		switch t := f.Type.(type) {
		case *arrow.RunEndEncodedType:
			fields[i].Type = t.Encoded()
		case arrow.ExtensionType:
			fields[i].Type = t.StorageType()
		}
	}
	return arrow.NewSchema(fields, nil)
}

// Every Unity Catalog type the Flight cast converts is stored as the
// protobuf transport stores the same batch, row by row: unsigned, float16,
// views, fixed-size binary, date64, timestamps of any unit and zone, TIME,
// DURATION, decimal, dictionary, list view, run-end encoded, an extension
// type, at the top level and nested; values below
// the epoch round down to the table's unit on both. A value one transport
// refuses fails the same row, with the same column path, on the other (out
// of range, not UTF-8), and the other rows are stored.
func TestFlightStoresEveryTypeAsProtobuf(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	rec, bad := edgeBatch(t, mem)
	defer rec.Release()
	stored := map[string][]map[string]any{}
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.edge_" + transport
		if err := srv.CreateTableFromArrow(table, plainSchema(rec.Schema())); err != nil {
			t.Fatal(err)
		}
		cfg := serverConfig(srv, table)
		cfg.Transport = transport
		res, _ := newWrapper(t, cfg).SendBatch(testCtx(t), rec)
		checkInvariant(t, res, int(rec.NumRows()))
		failed := map[int]string{}
		for _, fr := range res.FailedRows {
			var ce *core.ConversionError
			if fr.State != core.RowNotWritten || !errors.As(fr.Err, &ce) || ce.Row != fr.Index {
				t.Fatalf("%s row %d: %v (%v), want a not-written ConversionError naming the row", transport, fr.Index, fr.Err, fr.State)
			}
			failed[fr.Index] = ce.Column
		}
		if !reflect.DeepEqual(failed, bad) {
			t.Errorf("%s: failed rows %v, want %v", transport, failed, bad)
			for _, fr := range res.FailedRows {
				t.Logf("  %v", fr.Err)
			}
		}
		for _, r := range srv.Rows(table) {
			stored[transport] = append(stored[transport], msgToMap(r.Message))
		}
		sort.Slice(stored[transport], func(i, j int) bool { return stored[transport][i]["id"].(int64) < stored[transport][j]["id"].(int64) })
	}
	pb, fl := stored[core.TransportProtobuf], stored[core.TransportArrowFlight]
	if len(pb) != 3 || !reflect.DeepEqual(pb, fl) {
		t.Fatalf("stored over protobuf:\n%v\nover Flight:\n%v", pb, fl)
	}
	if !reflect.DeepEqual(pb[0]["lv"], []any{int64(0), int64(-1)}) || pb[1]["ree"] != "other" || pb[0]["uid"] != string([]byte{0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Fatalf("row 0 stored as %v, row 1 as %v", pb[0], pb[1])
	}
	// Below the epoch, finer than the unit: floor (day -1, -1 µs).
	if pb[1]["d64"] != int64(-1) || pb[1]["tsn"] != int64(-1) || pb[1]["dur"] != int64(-2) {
		t.Fatalf("row 1 stored as %v", pb[1])
	}
}

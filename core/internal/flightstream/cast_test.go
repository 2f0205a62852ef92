package flightstream

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// batchOf builds a one-column-per-array batch.
func batchOf(t *testing.T, fields []arrow.Field, cols ...arrow.Array) arrow.RecordBatch {
	t.Helper()
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(cols[0].Len()))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// planCanonical plans the cast from s to its canonical table schema and
// returns the caster and that schema.
func planCanonical(tb testing.TB, s *arrow.Schema) (*Caster, *arrow.Schema) {
	tb.Helper()
	target, err := CanonicalSchema(s)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := PlanCast("t", s, target)
	if err != nil {
		tb.Fatal(err)
	}
	return c, target
}

// castCanonical casts rec to the canonical table schema of its own schema
// and returns the caster, that schema and the cast batch (to release).
func castCanonical(t *testing.T, rec arrow.RecordBatch) (*Caster, *arrow.Schema, arrow.RecordBatch) {
	t.Helper()
	c, target := planCanonical(t, rec.Schema())
	out, _, _, err := c.Apply(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	return c, target, out
}

func TestCastsToTableTypes(t *testing.T) {
	mem := memory.DefaultAllocator
	i8 := array.NewInt8Builder(mem)
	i8.AppendValues([]int8{-1, 2, 127}, nil)
	u64 := array.NewUint64Builder(mem)
	u64.AppendValues([]uint64{0, 7, math.MaxInt64}, nil)
	str := array.NewStringBuilder(mem)
	str.AppendValues([]string{"a", "", "ü"}, []bool{true, false, true})
	tsS := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Second, TimeZone: "Europe/Paris"})
	tsS.AppendValues([]arrow.Timestamp{0, 1, 1_700_000_000}, nil)
	tsNs := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Nanosecond})
	tsNs.AppendValues([]arrow.Timestamp{1_999, 2_000, 3_000_001}, nil)
	dec := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 10, Scale: 2})
	dec.AppendValues([]decimal128.Num{decimal128.FromI64(12345), decimal128.FromI64(-1), decimal128.FromI64(0)}, nil)
	dict := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	for _, s := range []string{"x", "y", "x"} {
		_ = dict.AppendString(s)
	}
	lb := array.NewListBuilder(mem, arrow.PrimitiveTypes.Int32)
	for i := range 3 {
		lb.Append(true)
		lb.ValueBuilder().(*array.Int32Builder).AppendValues([]int32{int32(i), int32(i * 10)}, nil)
	}
	fields := []arrow.Field{
		{Name: "tiny", Type: arrow.PrimitiveTypes.Int8},
		{Name: "big", Type: arrow.PrimitiveTypes.Uint64},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ts", Type: tsS.Type()},
		{Name: "ntz", Type: tsNs.Type()},
		{Name: "price", Type: dec.Type()},
		{Name: "tag", Type: dict.Type()},
		{Name: "xs", Type: lb.Type()},
	}
	rec := batchOf(t, fields, i8.NewArray(), u64.NewArray(), str.NewArray(), tsS.NewArray(), tsNs.NewArray(), dec.NewArray(), dict.NewArray(), lb.NewArray())
	defer rec.Release()
	for _, b := range []array.Builder{i8, u64, str, tsS, tsNs, dec, dict, lb} {
		b.Release()
	}

	target := arrow.NewSchema([]arrow.Field{
		{Name: "tiny", Type: arrow.PrimitiveTypes.Int64},
		{Name: "big", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "ts", Type: tsUTC},
		{Name: "ntz", Type: tsNTZ},
		{Name: "price", Type: arrow.BinaryTypes.LargeString},
		{Name: "tag", Type: arrow.BinaryTypes.LargeString},
		{Name: "xs", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)},
		{Name: "extra", Type: arrow.PrimitiveTypes.Float64, Nullable: true}, // missing: filled with nulls
	}, nil)
	out, nulls, keep := applyCast(t, rec, target)
	defer out.Release()
	if len(nulls) != 0 || keep != nil {
		t.Fatalf("nulls %v keep %v", nulls, keep)
	}
	if !out.Schema().Equal(target) {
		t.Fatalf("schema %s, want %s", out.Schema(), target)
	}
	check := func(col int, want string) {
		t.Helper()
		if got := out.Column(col).String(); got != want {
			t.Errorf("column %s = %s, want %s", target.Field(col).Name, got, want)
		}
	}
	check(0, "[-1 2 127]")
	check(1, "[0 7 9223372036854775807]")
	check(2, `["a" (null) "ü"]`)
	if got := out.Column(3).(*array.Timestamp).Values(); got[2] != 1_700_000_000_000_000 {
		t.Errorf("seconds → µs: %v", got)
	}
	if got := out.Column(4).(*array.Timestamp).Values(); got[0] != 1 || got[1] != 2 || got[2] != 3000 {
		t.Errorf("ns → µs (truncated): %v", got)
	}
	check(5, `["123.45" "-0.01" "0.00"]`)
	check(6, `["x" "y" "x"]`)
	check(7, "[[0 0] [1 10] [2 20]]")
	check(8, "[(null) (null) (null)]")
}

func TestCastOverflowAndMismatch(t *testing.T) {
	mem := memory.DefaultAllocator
	u64 := array.NewUint64Builder(mem)
	u64.AppendValues([]uint64{1, math.MaxUint64}, nil)
	rec := batchOf(t, []arrow.Field{{Name: "big", Type: arrow.PrimitiveTypes.Uint64}}, u64.NewArray())
	u64.Release()
	defer rec.Release()
	// An overflow leaves its row out (as the protobuf path does), not the batch.
	out, bad, keep := applyCast(t, rec, arrow.NewSchema([]arrow.Field{{Name: "big", Type: arrow.PrimitiveTypes.Int64}}, nil))
	defer out.Release()
	if len(bad) != 1 || bad[0].Row != 1 || bad[0].Column != "big" || !strings.Contains(bad[0].Reason, "18446744073709551615") ||
		len(keep) != 1 || keep[0] != 0 || out.Column(0).String() != "[1]" {
		t.Fatalf("overflow: left out %v, keep %v, sent %v", bad, keep, out.Column(0))
	}

	caller := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "when", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "Europe/Paris"}}, // (UTC goes to TIMESTAMP_NTZ)
		{Name: "stray", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
	table := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "when", Type: tsNTZ},
		{Name: "required", Type: arrow.BinaryTypes.LargeString},
	}, nil)
	_, err := PlanCast("main.default.t", caller, table)
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("PlanCast: %v, want *MismatchError", err)
	}
	want := []ColumnMismatch{
		{Column: "when", CallerType: "timestamp[us, tz=Europe/Paris]", TableType: "timestamp[us]", TableSQL: "TIMESTAMP_NTZ", Reason: convert.TimestampIntoTable(caller.Field(2).Type, tsNTZ), Code: convert.ZonedIntoNTZ},
		{Column: "required", TableType: "large_utf8", TableSQL: "STRING", Reason: "the column is NOT NULL: add it to the batch"},
		{Column: "stray", CallerType: "bool", Reason: ExtraColumnReason("stray")},
	}
	if len(me.Columns) != len(want) {
		t.Fatalf("mismatches %+v, want %+v", me.Columns, want)
	}
	for i := range want {
		if me.Columns[i] != want[i] {
			t.Errorf("mismatch %d: %+v, want %+v", i, me.Columns[i], want[i])
		}
	}
	// (int64 into int32 is a narrowing cast, each value checked: not a
	// mismatch; see narrow_test.go.)
	for _, s := range []string{`"stray" (bool in the batch) is not in the table`, "main.default.t"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
}

func TestNullsInNotNullColumnsAreLeftOut(t *testing.T) {
	mem := memory.DefaultAllocator
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{0, 1, 2, 3}, []bool{true, false, true, false})
	sb := array.NewLargeStringBuilder(mem)
	sb.AppendValues([]string{"a", "b", "c", "d"}, nil)
	rec := batchOf(t, []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "s", Type: arrow.BinaryTypes.LargeString}}, ib.NewArray(), sb.NewArray())
	ib.Release()
	sb.Release()
	defer rec.Release()
	out, nulls, keep := applyCast(t, rec, testSchema)
	defer out.Release()
	if len(nulls) != 2 || nulls[0] != (NullRow{Row: 1, Column: "id", Reason: NullInNotNull}) || nulls[1] != (NullRow{Row: 3, Column: "id", Reason: NullInNotNull}) {
		t.Fatalf("nulls %v", nulls)
	}
	if len(keep) != 2 || keep[0] != 0 || keep[1] != 2 || out.NumRows() != 2 || out.Column(1).String() != `["a" "c"]` {
		t.Fatalf("keep %v, out %v", keep, out)
	}
}

func TestCanonicalSchemaAndCatalog(t *testing.T) {
	caller := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Uint32},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	canon, err := CanonicalSchema(caller)
	if err != nil {
		t.Fatal(err)
	}
	want := "int64 large_utf8 timestamp[us, tz=UTC] list<element: large_utf8, nullable>"
	var got []string
	for _, f := range canon.Fields() {
		got = append(got, f.Type.String())
	}
	if strings.Join(got, " ") != want {
		t.Fatalf("canonical types %q, want %q", strings.Join(got, " "), want)
	}

	// The local server's Unity Catalog endpoint describes a table made from
	// the caller's schema with the same Arrow types.
	e := newEnv(t, nil)
	if err := e.srv.CreateTableFromArrow(testTable, caller); err != nil {
		t.Fatal(err)
	}
	uc, err := FetchTableSchema(context.Background(), e.sc)
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range uc.Fields() {
		if !arrow.TypeEqual(f.Type, canon.Field(i).Type) || f.Name != canon.Field(i).Name {
			t.Errorf("catalog field %d %s, canonical %s", i, f, canon.Field(i))
		}
	}
	_ = e.srv.DropTable(testTable)
	_, err = FetchTableSchema(context.Background(), e.sc)
	var ce *CatalogError
	if !errors.As(err, &ce) || !ce.NotAllowed() || ce.Status != 404 {
		t.Fatalf("unknown table: %v", err)
	}
	_ = zerobuslocal.UnityCatalogTablesPath
}

func TestTimeAndDurationToMicros(t *testing.T) {
	mem := memory.DefaultAllocator
	t32 := array.NewTime32Builder(mem, &arrow.Time32Type{Unit: arrow.Millisecond})
	t32.AppendValues([]arrow.Time32{1, 86_399_999}, nil)
	d := array.NewDurationBuilder(mem, &arrow.DurationType{Unit: arrow.Nanosecond})
	d.AppendValues([]arrow.Duration{1_999, -5_001}, nil)
	ds := array.NewDurationBuilder(mem, &arrow.DurationType{Unit: arrow.Second})
	ds.AppendValues([]arrow.Duration{1, math.MaxInt64 / 10}, nil)
	rec := batchOf(t, []arrow.Field{{Name: "t", Type: t32.Type()}, {Name: "d", Type: d.Type()}}, t32.NewArray(), d.NewArray())
	defer rec.Release()
	t32.Release()
	d.Release()
	_, _, out := castCanonical(t, rec)
	defer out.Release()
	// Finer units round down, as on the protobuf path: 1,999 ns is 1 µs, -5,001 ns is -6 µs.
	if got := out.Column(0).String() + " " + out.Column(1).String(); got != "[1000 86399999000] [1 -6]" {
		t.Fatalf("micros: %s", got)
	}
	big := batchOf(t, []arrow.Field{{Name: "d", Type: ds.Type()}}, ds.NewArray())
	defer big.Release()
	ds.Release()
	bo, bad, _ := applyCast(t, big, arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.PrimitiveTypes.Int64}}, nil))
	defer bo.Release()
	if len(bad) != 1 || bad[0].Row != 1 || bad[0].Column != "d" || !strings.Contains(bad[0].Reason, "overflows int64 microseconds") || bo.NumRows() != 1 {
		t.Fatalf("overflow: left out %v, %d rows sent", bad, bo.NumRows())
	}
}

func TestViewsToLargeTypes(t *testing.T) {
	mem := memory.DefaultAllocator
	sv := array.NewStringViewBuilder(mem)
	sv.Append("short")
	sv.AppendNull()
	sv.Append("a string longer than twelve bytes")
	bv := array.NewBinaryViewBuilder(mem)
	bv.Append([]byte{1, 2})
	bv.Append(nil)
	bv.AppendNull()
	rec := batchOf(t, []arrow.Field{{Name: "s", Type: sv.Type(), Nullable: true}, {Name: "b", Type: bv.Type(), Nullable: true}}, sv.NewArray(), bv.NewArray())
	defer rec.Release()
	sv.Release()
	bv.Release()
	_, target, out := castCanonical(t, rec)
	defer out.Release()
	if !out.Schema().Equal(target) || out.Column(0).String() != `["short" (null) "a string longer than twelve bytes"]` ||
		out.Column(1).String() != `["\x01\x02" "" (null)]` {
		t.Fatalf("views: %s %s %s", out.Schema(), out.Column(0), out.Column(1))
	}
}

func TestFixedSizeListToList(t *testing.T) {
	mem := memory.DefaultAllocator
	fb := array.NewFixedSizeListBuilder(mem, 2, arrow.PrimitiveTypes.Int32)
	vb := fb.ValueBuilder().(*array.Int32Builder)
	fb.Append(true)
	vb.AppendValues([]int32{1, 2}, nil)
	fb.AppendNull() // the builder pads the child values itself
	fb.Append(true)
	vb.AppendValues([]int32{5, 6}, nil)
	rec := batchOf(t, []arrow.Field{{Name: "xy", Type: fb.Type(), Nullable: true}}, fb.NewArray())
	defer rec.Release()
	fb.Release()
	c, target, out := castCanonical(t, rec)
	defer out.Release()
	if got := out.Column(0).String(); !out.Schema().Equal(target) || got != "[[1 2] (null) [5 6]]" {
		t.Fatalf("fixed-size list: %s %s", out.Schema(), got)
	}
	part := rec.NewSlice(1, 3)
	defer part.Release()
	out2, _, _, err := c.Apply(context.Background(), part)
	if err != nil {
		t.Fatal(err)
	}
	defer out2.Release()
	if got := out2.Column(0).String(); got != "[(null) [5 6]]" {
		t.Fatalf("sliced fixed-size list: %s", got)
	}
}

// A batch with two columns of one name is named as such (it said the
// second "is not in the table", also when the table has that column).
func TestPlanCastDuplicateColumns(t *testing.T) {
	caller := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String},
	}, nil)
	for _, table := range []*arrow.Schema{
		arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "name", Type: arrow.BinaryTypes.LargeString}}, nil),
		mustCanonical(t, caller),
	} {
		_, err := PlanCast("main.default.t", caller, table)
		var me *MismatchError
		if !errors.As(err, &me) || len(me.Columns) != 1 || me.Columns[0].Column != "id" ||
			err.Error() != `the Arrow schema does not match table main.default.t (1 column differs): column "id": the batch has 2 columns of this name; rename or drop all but one` {
			t.Fatalf("PlanCast: %v, want the duplicate column id named", err)
		}
	}
}

func mustCanonical(t *testing.T, s *arrow.Schema) *arrow.Schema {
	t.Helper()
	c, err := CanonicalSchema(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

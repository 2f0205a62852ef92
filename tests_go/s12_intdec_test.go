package tests_go

import (
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Integer and float columns sent into DECIMAL columns (top level, STRUCT
// field, ARRAY element, MAP value) are stored alike on both transports: an
// integer as its value with s fraction digits, a float by its shortest text
// rounded half-up to s places (0.1 → 0.10, 1.005 → 1.01, 2.675 → 2.68,
// -0.0 → 0.00, 1e20 → 100000000000000000000); a value too large, NaN or
// ±Inf fails its row alone naming the column.
func TestNumbersIntoDecimalBothTransports(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	i64, f64 := arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: i64},
		{Name: "i", Type: i64, Nullable: true},
		{Name: "f", Type: f64, Nullable: true},
		{Name: "g", Type: f64, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: i64, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(f64), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, f64), Nullable: true},
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[
		{"id": 0, "i": 123, "f": 0.1, "g": 1e20, "s": {"x": 7}, "l": [1.005], "m": [{"key": "k", "value": 2.675}]},
		{"id": 1, "i": 12345},
		{"id": 2, "f": "NaN"},
		{"id": 3, "i": -999, "f": 1.005},
		{"id": 4, "f": 2.675, "g": -1e37},
		{"id": 5, "f": -0.0},
		{"id": 6, "s": {"x": 100}},
		{"id": 7, "l": [1, "NaN"]},
		{"id": 8, "m": [{"key": "k", "value": 99.995}]},
		{"id": 9, "f": 1e300},
		{"id": 10, "g": "-Inf"},
		{"id": 11}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	cols, err := zerobuslocal.ParseColumns("id BIGINT, i DECIMAL(5,2), f DECIMAL(10,2), g DECIMAL(38,0), s STRUCT<x: DECIMAL(4,2)>, l ARRAY<DECIMAL(4,2)>, m MAP<STRING, DECIMAL(4,2)>")
	if err != nil {
		t.Fatal(err)
	}
	stored, results := sendBoth(t, srv, "numdec", cols, rec)
	wantFailed := map[int]string{
		1:  `row 1, column "i": 12345 does not fit the table's DECIMAL(5,2), which holds at most 3 digits before the point`,
		2:  `row 2, column "f": float64 value NaN is not a number a DECIMAL can hold; filter the row, or send null where the column is nullable`,
		6:  `row 6, column "s.x": 100 does not fit the table's DECIMAL(4,2)`,
		7:  `row 7, column "l[1]": float64 value NaN is not a number a DECIMAL can hold`,
		8:  `row 8, column "m[0].value": 99.995 does not fit the table's DECIMAL(4,2)`,
		9:  `row 9, column "f": 1e+300 does not fit the table's DECIMAL(10,2)`,
		10: `row 10, column "g": float64 value -Inf is not a number a DECIMAL can hold`,
	}
	want := []map[string]any{
		{"id": int64(0), "i": "123.00", "f": "0.10", "g": "100000000000000000000", "s": map[string]any{"x": "7.00"}, "l": []any{"1.01"}, "m": map[string]any{"k": "2.68"}},
		{"id": int64(3), "i": "-999.00", "f": "1.01"},
		{"id": int64(4), "f": "2.68", "g": "-10000000000000000000000000000000000000"},
		{"id": int64(5), "f": "0.00"},
		{"id": int64(11)},
	}
	for transport, res := range results {
		checkFailedRows(t, transport, res, wantFailed)
		if !reflect.DeepEqual(stored[transport], want) {
			t.Errorf("%s stored %v, want %v", transport, stored[transport], want)
		}
	}
}

// Other integer widths, float32 and a dictionary of float64 into DECIMAL
// columns; a bool column into a DECIMAL is refused on both transports
// naming DECIMAL(10,2), not the text type it travels as.
func TestNumbersIntoDecimalOtherSources(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.PrimitiveTypes.Float64}
	ib := array.NewInt64Builder(mem)
	defer ib.Release()
	ub := array.NewUint64Builder(mem)
	defer ub.Release()
	fb := array.NewFloat32Builder(mem)
	defer fb.Release()
	db := array.NewDictionaryBuilder(mem, dict).(*array.Float64DictionaryBuilder)
	defer db.Release()
	ib.AppendValues([]int64{0, 1, 2}, nil)
	ub.AppendValues([]uint64{18446744073709551615, 5, 7}, nil)
	fb.AppendValues([]float32{0.1, 1.005, 1e9}, nil)
	for _, v := range []float64{1.005, 1.005, 0.5} {
		if err := db.Append(v); err != nil {
			t.Fatal(err)
		}
	}
	id, u, f, d := ib.NewArray(), ub.NewArray(), fb.NewArray(), db.NewArray()
	for _, a := range []arrow.Array{id, u, f, d} {
		defer a.Release()
	}
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "d", Type: dict, Nullable: true},
	}, nil), []arrow.Array{id, u, f, d}, 3)
	defer rec.Release()
	cols, err := zerobuslocal.ParseColumns("id BIGINT, u DECIMAL(20,0), f DECIMAL(10,2), d DECIMAL(3,2)")
	if err != nil {
		t.Fatal(err)
	}
	stored, results := sendBoth(t, srv, "numdec2", cols, rec)
	want := []map[string]any{
		{"id": int64(0), "u": "18446744073709551615", "f": "0.10", "d": "1.01"},
		{"id": int64(1), "u": "5", "f": "1.01", "d": "1.01"},
	}
	for transport, res := range results {
		got := failedRows(t, transport, res)
		if len(got) != 1 || !strings.Contains(got[2], `row 2, column "f": 1000000000 does not fit the table's DECIMAL(10,2)`) {
			t.Errorf("%s: failed rows %v", transport, got)
		}
		if !reflect.DeepEqual(stored[transport], want) {
			t.Errorf("%s stored %v, want %v", transport, stored[transport], want)
		}
	}

	bb := array.NewBooleanBuilder(mem)
	defer bb.Release()
	bb.AppendValues([]bool{true, false, true}, nil)
	b := bb.NewArray()
	defer b.Release()
	brec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}, nil), []arrow.Array{id, b}, 3)
	defer brec.Release()
	bcols, err := zerobuslocal.ParseColumns("id BIGINT, b DECIMAL(10,2)")
	if err != nil {
		t.Fatal(err)
	}
	stored, results = sendBoth(t, srv, "booldec", bcols, brec)
	for transport, res := range results {
		if len(res.FailedRows) != 3 || len(stored[transport]) != 0 {
			t.Fatalf("%s: %d failed, %d stored", transport, len(res.FailedRows), len(stored[transport]))
		}
		msg := res.FailedRows[0].Err.Error()
		if !strings.Contains(msg, "the table's column is DECIMAL(10,2), which takes integer, float, decimal or decimal-text (string) columns") || strings.Contains(msg, "large_utf8") {
			t.Errorf("%s: %s", transport, msg)
		}
	}
}

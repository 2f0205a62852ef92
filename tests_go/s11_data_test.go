package tests_go

import (
	"errors"
	"math"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// sendBoth creates table <prefix>_<transport> with cols on srv, sends rec
// over each transport and returns the rows stored (by id) and the result.
func sendBoth(t *testing.T, srv *zerobuslocal.Server, prefix string, cols []zerobuslocal.Column, rec arrow.RecordBatch) (map[string][]map[string]any, map[string]*core.TransmissionResult) {
	t.Helper()
	stored := map[string][]map[string]any{}
	results := map[string]*core.TransmissionResult{}
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default." + prefix + "_" + transport
		if err := srv.CreateTableColumns(table, cols); err != nil {
			t.Fatal(err)
		}
		cfg := serverConfig(srv, table)
		cfg.Transport = transport
		res, _ := newWrapper(t, cfg).SendBatch(testCtx(t), rec)
		checkInvariant(t, res, int(rec.NumRows()))
		for _, fr := range res.FailedRows {
			t.Logf("%s row %d: %v", transport, fr.Index, fr.Err)
		}
		results[transport] = res
		stored[transport] = []map[string]any{}
		for _, r := range srv.Rows(table) {
			stored[transport] = append(stored[transport], msgToMap(r.Message))
		}
		sort.Slice(stored[transport], func(i, j int) bool { return stored[transport][i]["id"].(int64) < stored[transport][j]["id"].(int64) })
	}
	return stored, results
}

// float16 subnormals (|v| < 2^-14) are stored as their exact value on both
// transports in a FLOAT column (2^-24 was stored as 2^-136:
// arrow-go's float16 widening mishandles subnormals).
func TestFloat16SubnormalsStoredExactly(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	halves := []uint16{0x0001, 0x8001, 0x03ff, 0x0155, 0x0400, 0x3c00}
	want := []float64{math.Ldexp(1, -24), -math.Ldexp(1, -24), math.Ldexp(1023, -24), math.Ldexp(0x155, -24), math.Ldexp(1, -14), 1}
	ib := array.NewInt64Builder(mem)
	defer ib.Release()
	hb := array.NewFloat16Builder(mem)
	defer hb.Release()
	for i, h := range halves {
		ib.Append(int64(i))
		hb.Append(float16.FromBits(h))
	}
	id, f := ib.NewArray(), hb.NewArray()
	defer id.Release()
	defer f.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "f", Type: arrow.FixedWidthTypes.Float16, Nullable: true},
	}, nil), []arrow.Array{id, f}, int64(len(halves)))
	defer rec.Release()
	cols := []zerobuslocal.Column{
		{Name: "id", Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeBigint}},
		{Name: "f", Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeFloat}, Nullable: true},
	}
	stored, _ := sendBoth(t, srv, "f16", cols, rec)
	for transport, rows := range stored {
		if len(rows) != len(halves) {
			t.Fatalf("%s: %d rows stored, want %d", transport, len(rows), len(halves))
		}
		for i, r := range rows {
			if r["f"] != want[i] {
				t.Errorf("%s row %d (half %#04x): stored %v, want %v", transport, i, halves[i], r["f"], want[i])
			}
		}
	}
}

// oneValueDict is dictionary<int32, string> data over the one value "x"
// with the given indices and validity (nil: all valid; nulls its count),
// where an index under a null parent may point past the dictionary.
func oneValueDict(mem memory.Allocator, valid []byte, nulls int, idx []int32) arrow.ArrayData {
	db := array.NewStringBuilder(mem)
	defer db.Release()
	db.Append("x")
	dict := db.NewArray()
	defer dict.Release()
	var vb *memory.Buffer
	if valid != nil {
		vb = memory.NewBufferBytes(valid)
	}
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	return array.NewDataWithDictionary(dt, len(idx), []*memory.Buffer{vb, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(idx))}, nulls, 0, dict.Data().(*array.Data))
}

// A null STRUCT over a dictionary field whose index under the null struct
// points past the dictionary (valid Arrow: values under a null parent are
// undefined; pyarrow builds it) stores the same rows on both transports:
// Flight refused the whole batch ("index error: … out of bounds").
func TestNullStructOverDictionaryStoredOnBothTransports(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	dd := oneValueDict(mem, []byte{0b101}, 1, []int32{1, 0, 0})
	defer dd.Release()
	dt := dd.DataType()
	st := arrow.StructOf(arrow.Field{Name: "f", Type: dt, Nullable: true})
	sd := array.NewData(st, 3, []*memory.Buffer{memory.NewBufferBytes([]byte{0b110})}, []arrow.ArrayData{dd}, 1, 0)
	defer sd.Release()
	s := array.MakeFromData(sd)
	defer s.Release()
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{0, 1, 2}, nil)
	id := ib.NewArray()
	ib.Release()
	defer id.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: st, Nullable: true},
	}, nil), []arrow.Array{id, s}, 3)
	defer rec.Release()
	cols := []zerobuslocal.Column{
		{Name: "id", Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeBigint}},
		{Name: "s", Nullable: true, Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeStruct, Fields: []zerobuslocal.Column{
			{Name: "f", Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeString}, Nullable: true},
		}}},
	}
	stored, _ := sendBoth(t, srv, "nsd", cols, rec)
	want := []map[string]any{{"id": int64(0)}, {"id": int64(1), "s": map[string]any{}}, {"id": int64(2), "s": map[string]any{"f": "x"}}}
	for transport, rows := range stored {
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("%s stored %v, want %v", transport, rows, want)
		}
	}
}

// A decimal that does not fit the table's DECIMAL(p,s) fails its row alone
// on both transports, naming the column, the value and DECIMAL(p,s): more
// than p−s integer digits once rounded half-up to s places (99999999.995
// into DECIMAL(10,2) is 100000000.00). Extra fraction digits alone are fine
// (the service rounds them, as Spark does): the exact text is sent, and
// stored rounded.
func TestDecimalOutsideTablePrecisionFailsItsRow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	dt := &arrow.Decimal128Type{Precision: 20, Scale: 3}
	vals := []string{"1.230", "1.234", "123456789012.500", "12345678.990", "-99999999.99", "0.010", "99999999.995", "-99999999.994"}
	ib := array.NewInt64Builder(mem)
	defer ib.Release()
	db := array.NewDecimal128Builder(mem, dt)
	defer db.Release()
	st := arrow.StructOf(arrow.Field{Name: "d", Type: dt, Nullable: true})
	sb := array.NewStructBuilder(mem, st)
	defer sb.Release()
	for i, v := range vals {
		ib.Append(int64(i))
		n, err := decimal128.FromString(v, 20, 3)
		if err != nil {
			t.Fatal(err)
		}
		db.Append(n)
		sb.Append(true)
		// the struct field holds row 0's value, but row 4's holds 99999999.995
		if i == 4 {
			n, _ = decimal128.FromString("99999999.995", 20, 3)
		} else {
			n, _ = decimal128.FromString("1.230", 20, 3)
		}
		sb.FieldBuilder(0).(*array.Decimal128Builder).Append(n)
	}
	ib.Append(int64(len(vals)))
	db.AppendNull()
	sb.AppendNull()
	id, d, s := ib.NewArray(), db.NewArray(), sb.NewArray()
	defer id.Release()
	defer d.Release()
	defer s.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "d", Type: dt, Nullable: true},
		{Name: "s", Type: st, Nullable: true},
	}, nil), []arrow.Array{id, d, s}, int64(len(vals)+1))
	defer rec.Release()
	dec := zerobuslocal.ColumnType{Name: zerobuslocal.TypeDecimal, Precision: 10, Scale: 2}
	cols := []zerobuslocal.Column{
		{Name: "id", Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeBigint}},
		{Name: "d", Type: dec, Nullable: true},
		{Name: "s", Nullable: true, Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeStruct, Fields: []zerobuslocal.Column{{Name: "d", Type: dec, Nullable: true}}}},
	}
	stored, results := sendBoth(t, srv, "dec", cols, rec)
	wantFailed := map[int]string{
		2: `column "d": 123456789012.500 does not fit the table's DECIMAL(10,2), which holds at most 8 digits before the point (values are rounded half-up to 2 places first); correct or filter the row, or give the column a larger precision`,
		4: `column "s.d": 99999999.995 does not fit the table's DECIMAL(10,2), which holds at most 8 digits before the point (values are rounded half-up to 2 places first); correct or filter the row, or give the column a larger precision`,
		6: `column "d": 99999999.995 does not fit the table's DECIMAL(10,2), which holds at most 8 digits before the point (values are rounded half-up to 2 places first); correct or filter the row, or give the column a larger precision`,
	}
	for transport, res := range results {
		got := map[int]string{}
		for _, fr := range res.FailedRows {
			var ce *core.ConversionError
			if fr.State != core.RowNotWritten || !errors.As(fr.Err, &ce) {
				t.Fatalf("%s row %d: %v (%v), want a not-written ConversionError", transport, fr.Index, fr.Err, fr.State)
			}
			msg := fr.Err.Error()
			for _, w := range wantFailed {
				if strings.Contains(msg, w) {
					msg = w
				}
			}
			got[fr.Index] = msg
		}
		if !reflect.DeepEqual(got, wantFailed) {
			t.Errorf("%s: failed rows %v, want %v", transport, got, wantFailed)
		}
	}
	// The exact text is sent; the table (the local server, as the service)
	// stores it rounded half-up to 2 places.
	want := []map[string]any{
		{"id": int64(0), "d": "1.23", "s": map[string]any{"d": "1.23"}},
		{"id": int64(1), "d": "1.23", "s": map[string]any{"d": "1.23"}},
		{"id": int64(3), "d": "12345678.99", "s": map[string]any{"d": "1.23"}},
		{"id": int64(5), "d": "0.01", "s": map[string]any{"d": "1.23"}},
		{"id": int64(7), "d": "-99999999.99", "s": map[string]any{"d": "1.23"}},
		{"id": int64(8)},
	}
	for transport, rows := range stored {
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("%s stored %v, want %v", transport, rows, want)
		}
	}
}

// nullColumnBatch is id 0..n-1 and a column "a" of the Arrow null type (a
// pandas object column of only None, polars' Null).
func nullColumnBatch(mem memory.Allocator, n int) arrow.RecordBatch {
	ib := array.NewInt64Builder(mem)
	defer ib.Release()
	for i := range n {
		ib.Append(int64(i))
	}
	id := ib.NewArray()
	defer id.Release()
	a := array.NewNull(n)
	defer a.Release()
	return array.NewRecordBatch(arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "a", Type: arrow.Null, Nullable: true},
	}, nil), []arrow.Array{id, a}, int64(n))
}

// A column of the Arrow null type is all nulls of the table's type when the
// catalog gives the column: stored (the column absent) where it is
// nullable, each row failing alone for the null where it is NOT NULL, on
// both transports; without the catalog the batch is refused as before.
func TestNullTypeColumnTakesTheTableType(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	rec := nullColumnBatch(mem, 3)
	defer rec.Release()
	for _, tc := range []struct {
		name     string
		typ      zerobuslocal.ColumnType
		nullable bool
	}{
		{"bigint", zerobuslocal.ColumnType{Name: zerobuslocal.TypeBigint}, true},
		{"string", zerobuslocal.ColumnType{Name: zerobuslocal.TypeString}, true},
		{"decimal", zerobuslocal.ColumnType{Name: zerobuslocal.TypeDecimal, Precision: 10, Scale: 2}, true},
		{"struct", zerobuslocal.ColumnType{Name: zerobuslocal.TypeStruct, Fields: []zerobuslocal.Column{{Name: "x", Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeInt}, Nullable: true}}}, true},
		{"timestamp", zerobuslocal.ColumnType{Name: zerobuslocal.TypeTimestamp}, true},
		{"variant", zerobuslocal.ColumnType{Name: zerobuslocal.TypeVariant}, true},
		{"array", zerobuslocal.ColumnType{Name: zerobuslocal.TypeArray, Element: &zerobuslocal.ColumnType{Name: zerobuslocal.TypeString}}, true},
		{"notnull", zerobuslocal.ColumnType{Name: zerobuslocal.TypeBigint}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cols := []zerobuslocal.Column{
				{Name: "id", Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeBigint}},
				{Name: "a", Type: tc.typ, Nullable: tc.nullable},
			}
			stored, results := sendBoth(t, srv, "nullcol_"+tc.name, cols, rec)
			for transport, res := range results {
				rows := stored[transport]
				if tc.nullable {
					want := []map[string]any{{"id": int64(0)}, {"id": int64(1)}, {"id": int64(2)}}
					if res.SuccessfulCount != 3 || !reflect.DeepEqual(rows, want) {
						t.Errorf("%s: %d sent, stored %v, want %v", transport, res.SuccessfulCount, rows, want)
					}
					continue
				}
				if len(rows) != 0 || len(res.FailedRows) != 3 {
					t.Fatalf("%s: stored %v, %d failed rows, want 0 and 3", transport, rows, len(res.FailedRows))
				}
				for _, fr := range res.FailedRows {
					var ce *core.ConversionError
					if fr.State != core.RowNotWritten || !errors.As(fr.Err, &ce) || ce.Column != "a" || ce.Row != fr.Index || !strings.Contains(fr.Err.Error(), "NOT NULL") {
						t.Errorf("%s row %d: %v (%v), want a not-written ConversionError for the null in NOT NULL column a", transport, fr.Index, fr.Err, fr.State)
					}
				}
			}
		})
	}
	t.Run("no catalog", func(t *testing.T) {
		for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
			table := "main.default.nullcol_nocat_" + transport
			if err := srv.CreateTableColumns(table, []zerobuslocal.Column{
				{Name: "id", Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeBigint}},
				{Name: "a", Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeBigint}, Nullable: true},
			}); err != nil {
				t.Fatal(err)
			}
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			cfg.UnityCatalogURL, _ = catalogFront(t, srv, func(rw http.ResponseWriter, _ *http.Request) {
				http.Error(rw, `{"error_code":"NOPE","message":"no"}`, http.StatusForbidden)
			})
			res, err := newWrapper(t, cfg).SendBatch(testCtx(t), rec)
			checkInvariant(t, res, 3)
			if err == nil || !strings.Contains(err.Error(), `"a"`) || len(srv.Rows(table)) != 0 {
				t.Fatalf("%s: %v, %d rows stored; want the batch refused naming column a", transport, err, len(srv.Rows(table)))
			}
			t.Logf("%s: %v", transport, err)
		}
	})
}

// A decimal inside an ARRAY that does not fit the element's DECIMAL(p,s)
// fails its row with the same path ("l[1]") on both transports.
func TestDecimalInArrayOutsideTablePrecisionFailsItsRow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	dt := &arrow.Decimal128Type{Precision: 9, Scale: 1}
	ib := array.NewInt64Builder(mem)
	defer ib.Release()
	lb := array.NewListBuilder(mem, dt)
	defer lb.Release()
	vb := lb.ValueBuilder().(*array.Decimal128Builder)
	for i, row := range [][]string{{"1.0", "2.5"}, {"1.0", "123.4"}, {"99.9"}} {
		ib.Append(int64(i))
		lb.Append(true)
		for _, v := range row {
			n, err := decimal128.FromString(v, 9, 1)
			if err != nil {
				t.Fatal(err)
			}
			vb.Append(n)
		}
	}
	id, l := ib.NewArray(), lb.NewArray()
	defer id.Release()
	defer l.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "l", Type: l.DataType(), Nullable: true},
	}, nil), []arrow.Array{id, l}, 3)
	defer rec.Release()
	cols := []zerobuslocal.Column{
		{Name: "id", Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeBigint}},
		{Name: "l", Nullable: true, Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeArray, Element: &zerobuslocal.ColumnType{Name: zerobuslocal.TypeDecimal, Precision: 3, Scale: 1}}},
	}
	stored, results := sendBoth(t, srv, "decl", cols, rec)
	for transport, res := range results {
		var ce *core.ConversionError
		if len(res.FailedRows) != 1 || res.FailedRows[0].Index != 1 || !errors.As(res.FailedRows[0].Err, &ce) || ce.Column != "l[1]" ||
			!strings.Contains(ce.Error(), "123.4 does not fit the table's DECIMAL(3,1)") {
			t.Errorf("%s: failed rows %v, want row 1 at l[1]", transport, res.FailedRows)
		}
		want := []map[string]any{{"id": int64(0), "l": []any{"1.0", "2.5"}}, {"id": int64(2), "l": []any{"99.9"}}}
		if !reflect.DeepEqual(stored[transport], want) {
			t.Errorf("%s stored %v, want %v", transport, stored[transport], want)
		}
	}
}

// halfValue is the value of the binary16 bits h, computed independently of
// arrow-go's float16.Num.Float32 (which widens subnormals wrongly).
func halfValue(h uint16) float64 {
	e, m := int(h>>10)&0x1f, float64(h&0x3ff)
	var v float64
	switch {
	case e == 0x1f && m == 0:
		v = math.Inf(1)
	case e == 0x1f:
		v = math.NaN()
	case e == 0:
		v = math.Ldexp(m, -24)
	default:
		v = math.Ldexp(m+1024, e-25)
	}
	if h&0x8000 != 0 {
		v = -v
	}
	return v
}

// A null ARRAY row whose element range holds an index past the dictionary
// (undefined under a null row) stores the same rows on both transports.
func TestNullListOverDictionaryStoredOnBothTransports(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	dd := oneValueDict(mem, nil, 0, []int32{0, 7, 0})
	defer dd.Release()
	dt := dd.DataType()
	ld := array.NewData(arrow.ListOf(dt), 3, []*memory.Buffer{memory.NewBufferBytes([]byte{0b101}), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes([]int32{0, 1, 2, 3}))}, []arrow.ArrayData{dd}, 1, 0)
	defer ld.Release()
	l := array.MakeFromData(ld)
	defer l.Release()
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{0, 1, 2}, nil)
	id := ib.NewArray()
	ib.Release()
	defer id.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "l", Type: l.DataType(), Nullable: true},
	}, nil), []arrow.Array{id, l}, 3)
	defer rec.Release()
	cols := []zerobuslocal.Column{
		{Name: "id", Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeBigint}},
		{Name: "l", Nullable: true, Type: zerobuslocal.ColumnType{Name: zerobuslocal.TypeArray, Element: &zerobuslocal.ColumnType{Name: zerobuslocal.TypeString}}},
	}
	stored, _ := sendBoth(t, srv, "nld", cols, rec)
	want := []map[string]any{{"id": int64(0), "l": []any{"x"}}, {"id": int64(1)}, {"id": int64(2), "l": []any{"x"}}}
	for transport, rows := range stored {
		if !reflect.DeepEqual(rows, want) {
			t.Errorf("%s stored %v, want %v", transport, rows, want)
		}
	}
}

package tests_go

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// failedRows maps each failed row of res to its error text, checking that
// it is a not-written ConversionError naming that row.
func failedRows(t *testing.T, transport string, res *core.TransmissionResult) map[int]string {
	t.Helper()
	got := map[int]string{}
	for _, fr := range res.FailedRows {
		var ce *core.ConversionError
		if fr.State != core.RowNotWritten || !errors.As(fr.Err, &ce) || ce.Row != fr.Index {
			t.Fatalf("%s row %d: %v (%v), want a not-written ConversionError", transport, fr.Index, fr.Err, fr.State)
		}
		got[fr.Index] = fr.Err.Error()
	}
	return got
}

// checkFailedRows checks that exactly the rows of want failed on transport,
// each not written, with a ConversionError whose text holds want's text.
func checkFailedRows(t *testing.T, transport string, res *core.TransmissionResult, want map[int]string) {
	t.Helper()
	got := failedRows(t, transport, res)
	if len(got) != len(want) {
		t.Errorf("%s: failed rows %v, want %v", transport, got, want)
	}
	for r, w := range want {
		if !strings.Contains(got[r], w) {
			t.Errorf("%s: row %d failed with %q, want %q", transport, r, got[r], w)
		}
	}
}

// Strings sent into DECIMAL(4,2) columns (top level, STRUCT field, ARRAY
// element, MAP value) are checked on both transports alike: text that is
// not a number or too large after rounding half-up fails its row naming
// the column and the value; the others are stored rounded to 2 places.
func TestDecimalGivenAsStringsBothTransports(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	str := arrow.BinaryTypes.String
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "d", Type: str, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "d", Type: str, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(str), Nullable: true},
		{Name: "m", Type: arrow.MapOf(str, str), Nullable: true},
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[
		{"id": 0, "d": "1.235", "s": {"d": "-1.235"}, "l": ["99.99", "-99.99"], "m": [{"key": "k", "value": "1e1"}]},
		{"id": 1, "d": "99.995"},
		{"id": 2, "d": "abc"},
		{"id": 3, "d": null, "s": {"d": "100"}},
		{"id": 4, "d": "99.99", "l": ["1", "x1"]},
		{"id": 5, "d": "-99.994", "m": [{"key": "k", "value": "-99.995"}]},
		{"id": 6, "d": " +7 ", "s": {"d": ".5"}, "l": ["0.005"]},
		{"id": 7}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	cols, err := zerobuslocal.ParseColumns("id BIGINT, d DECIMAL(4,2), s STRUCT<d: DECIMAL(4,2)>, l ARRAY<DECIMAL(4,2)>, m MAP<STRING, DECIMAL(4,2)>")
	if err != nil {
		t.Fatal(err)
	}
	stored, results := sendBoth(t, srv, "decstr", cols, rec)
	wantFailed := map[int]string{
		1: `row 1, column "d": 99.995 does not fit the table's DECIMAL(4,2), which holds at most 2 digits before the point (values are rounded half-up to 2 places first); correct or filter the row, or give the column a larger precision`,
		2: `row 2, column "d": "abc" is not a number for the table's DECIMAL(4,2)`,
		3: `row 3, column "s.d": 100 does not fit the table's DECIMAL(4,2)`,
		4: `row 4, column "l[1]": "x1" is not a number for the table's DECIMAL(4,2)`,
		5: `row 5, column "m[0].value": -99.995 does not fit the table's DECIMAL(4,2)`,
	}
	want := []map[string]any{
		{"id": int64(0), "d": "1.24", "s": map[string]any{"d": "-1.24"}, "l": []any{"99.99", "-99.99"}, "m": map[string]any{"k": "10.00"}},
		{"id": int64(6), "d": "7.00", "s": map[string]any{"d": "0.50"}, "l": []any{"0.01"}},
		{"id": int64(7)},
	}
	for transport, res := range results {
		checkFailedRows(t, transport, res, wantFailed)
		if !reflect.DeepEqual(stored[transport], want) {
			t.Errorf("%s stored %v, want %v", transport, stored[transport], want)
		}
	}
}

// A STRUCT field of the Arrow null type (pyarrow's struct<x: null> from
// dicts whose x is always None) is all nulls of the table's type on both
// transports: stored without it where the field is nullable; where it is
// NOT NULL each row whose STRUCT is not null fails naming the field. ARRAY
// elements of the null type: an empty list is stored, a null element
// fails its row.
func TestNullTypeStructFieldTakesTheTableType(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.StructOf(
			arrow.Field{Name: "x", Type: arrow.Null, Nullable: true},
			arrow.Field{Name: "y", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.Null), Nullable: true},
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[
		{"id": 0, "s": {"x": null, "y": 1}, "l": []},
		{"id": 1, "s": null},
		{"id": 2, "s": {"x": null, "y": 2}, "l": [null]}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	for _, tc := range []struct {
		name    string
		ddl     string
		failed  map[int]string
		storedN []map[string]any
	}{
		{"nullable", "id BIGINT, s STRUCT<x: DECIMAL(10,2), y: BIGINT>, l ARRAY<STRUCT<a: INT>>",
			map[int]string{2: `row 2, column "l[0]": null list element`},
			[]map[string]any{{"id": int64(0), "s": map[string]any{"y": int64(1)}}, {"id": int64(1)}}},
		{"notnull", "id BIGINT, s STRUCT<x: STRUCT<a: INT> NOT NULL, y: BIGINT>, l ARRAY<STRING>",
			map[int]string{0: `row 0, column "s.x": null in a column or field the table declares NOT NULL`, 2: `row 2, column "s.x": null in a column or field the table declares NOT NULL`},
			[]map[string]any{{"id": int64(1)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cols, err := zerobuslocal.ParseColumns(tc.ddl)
			if err != nil {
				t.Fatal(err)
			}
			stored, results := sendBoth(t, srv, "nullfield_"+tc.name, cols, rec)
			for transport, res := range results {
				checkFailedRows(t, transport, res, tc.failed)
				if !reflect.DeepEqual(stored[transport], tc.storedN) {
					t.Errorf("%s stored %v, want %v", transport, stored[transport], tc.storedN)
				}
			}
		})
	}
}

package tests_go

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Columns and STRUCT fields are matched to the table's by name on both
// transports (exact spelling, else the one that differs only in case):
// a batch whose columns come in another order, whose STRUCTs (top level,
// ARRAY elements, MAP values) list their fields in another order, and
// which spells a column "ID" for the table's "id" and a field "B" for the
// table's "b", is stored as the table has it, every row durable. The
// local server refuses a descriptor out of the table's order
// (FIELD_OUT_OF_ORDER), so the protobuf path sends the table's order.

const orderDDL = "id BIGINT NOT NULL, name STRING, s STRUCT<a:BIGINT, b:STRING, c:INT>, " +
	"items ARRAY<STRUCT<a:BIGINT, b:STRING, c:INT>>, m MAP<STRING,STRUCT<a:BIGINT, b:STRING, c:INT>>"

// reorderedRows: the table's columns reversed, "ID" for id, each STRUCT's
// fields as c, B, a.
func reorderedRows(t *testing.T, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	str := arrow.BinaryTypes.String
	s := arrow.StructOf(
		arrow.Field{Name: "c", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "B", Type: str, Nullable: true},
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "m", Type: arrow.MapOf(str, s), Nullable: true},
		{Name: "items", Type: arrow.ListOf(s), Nullable: true},
		{Name: "s", Type: s, Nullable: true},
		{Name: "name", Type: str, Nullable: true},
		{Name: "ID", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	var rows []string
	for i := range 6 {
		st := func(tag string, k int) string {
			return `{"c": ` + itoa(k) + `, "B": "` + tag + itoa(i) + `", "a": ` + itoa(100*i+k) + `}`
		}
		sv, items, m, name := st("s", 1), `[`+st("i", 2)+`, `+st("j", 3)+`]`, `[{"key": "k`+itoa(i)+`", "value": `+st("m", 4)+`}]`, `"n`+itoa(i)+`"`
		if i == 4 { // nulls at every level
			sv, items, m, name = "null", `[{"c": null, "B": null, "a": null}]`, `[{"key": "k", "value": {"c": null, "B": "x", "a": null}}]`, "null"
		}
		rows = append(rows, `{"m": `+m+`, "items": `+items+`, "s": `+sv+`, "name": `+name+`, "ID": `+itoa(i)+`}`)
	}
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader("["+strings.Join(rows, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// orderWant is row i as the table stores it, in protojson form (int64 as
// text, int32 as a number, unset fields absent).
func orderWant(i int) map[string]any {
	st := func(tag string, k int) map[string]any {
		return map[string]any{"a": itoa(100*i + k), "b": tag + itoa(i), "c": float64(k)}
	}
	if i == 4 {
		return map[string]any{"id": itoa(i), "items": []any{map[string]any{}}, "m": map[string]any{"k": map[string]any{"b": "x"}}}
	}
	return map[string]any{
		"id": itoa(i), "name": "n" + itoa(i), "s": st("s", 1),
		"items": []any{st("i", 2), st("j", 3)},
		"m":     map[string]any{"k" + itoa(i): st("m", 4)},
	}
}

func TestColumnsAndStructFieldsMatchedByName(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			const table = "main.default.column_order"
			createTable(t, srv, table, orderDDL)
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			w := newWrapper(t, cfg)
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			rec := reorderedRows(t, mem)
			if err := w.CheckSchema(testCtx(t), rec.Schema()); err != nil {
				t.Fatalf("CheckSchema: %v", err)
			}
			res, err := w.SendBatch(testCtx(t), rec)
			rec.Release()
			if err != nil {
				t.Fatalf("SendBatch: %v", err)
			}
			checkInvariant(t, res, 6)
			if res.SuccessfulCount != 6 || res.FailedCount != 0 || !slices.Equal(res.SuccessfulRowIndices(), []int{0, 1, 2, 3, 4, 5}) {
				t.Fatalf("result %+v, failed %v; want all 6 rows durable", res, res.FailedRows)
			}
			stored := storedNested(t, srv, table)
			if len(stored) != 6 {
				t.Fatalf("%d rows stored, want 6: %v", len(stored), stored)
			}
			for i := range 6 {
				if diff := cmp.Diff(orderWant(i), stored[itoa(i)]); diff != "" {
					t.Errorf("stored row %d (-want +got):\n%s", i, diff)
				}
			}
			if err := w.Close(testCtx(t)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A STRUCT field the table lacks is still refused on both transports,
// naming it, and nothing is stored.
func TestFieldNotInTableStillRefusedByName(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			const table = "main.default.column_order_extra"
			createTable(t, srv, table, "id BIGINT NOT NULL, s STRUCT<a:BIGINT, b:STRING>")
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			w := newWrapper(t, cfg)
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			schema := arrow.NewSchema([]arrow.Field{
				{Name: "s", Type: arrow.StructOf(
					arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
					arrow.Field{Name: "zz_extra", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
					arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
				), Nullable: true},
				{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			}, nil)
			rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[{"s": {"b": "x", "zz_extra": 1, "a": 2}, "id": 1}]`))
			if err != nil {
				t.Fatal(err)
			}
			res, err := w.SendBatch(testCtx(t), rec)
			rec.Release()
			if err == nil && res.FailedCount == 0 {
				t.Fatalf("sent a field the table lacks: %+v", res)
			}
			msg := ""
			if err != nil {
				msg = err.Error()
			} else {
				msg = res.FailedRows[0].Err.Error()
			}
			t.Logf("refusal: %s", msg)
			if !strings.Contains(msg, "zz_extra") {
				t.Errorf("refusal %q does not name the field zz_extra", msg)
			}
			if n := len(srv.Rows(table)); n != 0 {
				t.Errorf("%d rows stored, want none", n)
			}
		})
	}
}

// A nullable column and a nullable STRUCT field (also of an ARRAY's STRUCT
// elements) the batch lacks are sent as nulls on both transports, the
// batch's columns in another order; every row durable.
func TestMissingNullableColumnAndFieldSentAsNulls(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			const table = "main.default.column_order_missing"
			createTable(t, srv, table, "id BIGINT NOT NULL, name STRING, s STRUCT<a:BIGINT, b:STRING>, items ARRAY<STRUCT<a:BIGINT, b:STRING>>")
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			w := newWrapper(t, cfg)
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			onlyB := arrow.StructOf(arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true})
			schema := arrow.NewSchema([]arrow.Field{
				{Name: "items", Type: arrow.ListOf(onlyB), Nullable: true},
				{Name: "s", Type: onlyB, Nullable: true},
				{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			}, nil)
			rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[
				{"items": [{"b": "i0"}], "s": {"b": "s0"}, "id": 0},
				{"items": null, "s": null, "id": 1}
			]`))
			if err != nil {
				t.Fatal(err)
			}
			res, err := w.SendBatch(testCtx(t), rec)
			rec.Release()
			if err != nil {
				t.Fatalf("SendBatch: %v", err)
			}
			checkInvariant(t, res, 2)
			if res.SuccessfulCount != 2 {
				t.Fatalf("result %+v, failed %v; want both rows durable", res, res.FailedRows)
			}
			want := map[string]map[string]any{
				"0": {"id": "0", "s": map[string]any{"b": "s0"}, "items": []any{map[string]any{"b": "i0"}}},
				"1": {"id": "1"},
			}
			if diff := cmp.Diff(want, storedNested(t, srv, table)); diff != "" {
				t.Errorf("stored rows (-want +got):\n%s", diff)
			}
		})
	}
}

// Without the catalog (the lookup refused) the protobuf descriptor
// follows the batch as before: columns out of the table's order are
// refused by the server, FIELD_OUT_OF_ORDER, and nothing is stored.
func TestProtobufWithoutTheCatalogKeepsTheBatchOrder(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.column_order_no_catalog"
	createTable(t, srv, table, "id BIGINT NOT NULL, name STRING")
	cfg := serverConfig(srv, table)
	cfg.UnityCatalogURL, _ = catalogFront(t, srv, func(rw http.ResponseWriter, _ *http.Request) {
		http.Error(rw, `{"error_code":"NOPE","message":"no"}`, http.StatusForbidden)
	})
	w := newWrapper(t, cfg)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[{"name": "a", "id": 1}]`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.SendBatch(testCtx(t), rec)
	rec.Release()
	if err == nil || !strings.Contains(err.Error(), "FIELD_OUT_OF_ORDER") {
		t.Fatalf("SendBatch: %v, want the server's FIELD_OUT_OF_ORDER", err)
	}
	if n := len(srv.Rows(table)); n != 0 {
		t.Errorf("%d rows stored, want none", n)
	}
}

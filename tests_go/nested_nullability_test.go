package tests_go

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// NOT NULL fields inside STRUCTs (also STRUCT elements of an ARRAY and
// STRUCT values of a MAP) take the table's nullability over protobuf as
// over Flight: all-nullable data (pandas, Parquet) is sent, a null in a
// NOT NULL nested field fails its row alone naming the field's path, a
// null STRUCT is fine, and the descriptor's nested fields stay optional
// (the service wants STRUCT fields optional).

const nestedNotNullDDL = "id BIGINT NOT NULL, addr STRUCT<zip:STRING NOT NULL, city:STRING>, " +
	"items ARRAY<STRUCT<sku:STRING NOT NULL, qty:INT>>, m MAP<STRING,STRUCT<x:INT NOT NULL>>"

// nestedNullableRows: every field nullable, as pandas or Parquet give it.
// Row 3 has a null zip, row 5 a null sku in its second item, row 7 a null
// x in its map value; row 8's addr is null (allowed: the STRUCT column is
// nullable).
func nestedNullableRows(t *testing.T, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	str := arrow.BinaryTypes.String
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "addr", Type: arrow.StructOf(arrow.Field{Name: "zip", Type: str, Nullable: true}, arrow.Field{Name: "city", Type: str, Nullable: true}), Nullable: true},
		{Name: "items", Type: arrow.ListOf(arrow.StructOf(arrow.Field{Name: "sku", Type: str, Nullable: true}, arrow.Field{Name: "qty", Type: arrow.PrimitiveTypes.Int32, Nullable: true})), Nullable: true},
		{Name: "m", Type: arrow.MapOf(str, arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true})), Nullable: true},
	}, nil)
	var rows []string
	for i := range 10 {
		zip, sku, x, addr := `"z`+itoa(i)+`"`, `"s`+itoa(i)+`"`, itoa(i), ""
		switch i {
		case 3:
			zip = "null"
		case 5:
			sku = "null"
		case 7:
			x = "null"
		}
		addr = `{"zip": ` + zip + `, "city": "c` + itoa(i) + `"}`
		if i == 8 {
			addr = "null"
		}
		rows = append(rows, `{"id": `+itoa(i)+`, "addr": `+addr+`, "items": [{"sku": "a", "qty": 1}, {"sku": `+sku+`, "qty": null}], "m": [{"key": "k", "value": {"x": `+x+`}}]}`)
	}
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader("["+strings.Join(rows, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func itoa(i int) string { return strconv.Itoa(i) }

// storedNested reads back the stored rows by id in protojson form.
func storedNested(t *testing.T, srv *zerobuslocal.Server, table string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, r := range srv.Rows(table) {
		b, err := protojson.Marshal(r.Message)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		id, _ := m["id"].(string)
		out[id] = m
	}
	return out
}

func TestNestedNotNullFromTheTable(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		srv := startServer(t, zerobuslocal.Options{})
		const table = "main.default.nested_not_null"
		createTable(t, srv, table, nestedNotNullDDL)
		cfg := serverConfig(srv, table)
		cfg.Transport = transport
		dir := t.TempDir()
		cfg.DebugProtobufEnabled, cfg.DebugOutputDir = transport == core.TransportProtobuf, dir
		w := newWrapper(t, cfg)
		mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
		rec := nestedNullableRows(t, mem)
		if err := w.CheckSchema(testCtx(t), rec.Schema()); err != nil {
			t.Fatalf("%s: CheckSchema: %v", transport, err)
		}
		res, err := w.SendBatch(testCtx(t), rec)
		rec.Release()
		mem.AssertSize(t, 0)
		checkInvariant(t, res, 10)
		type failure struct {
			Row    int
			Column string
		}
		var got []failure
		for _, fr := range res.FailedRows {
			var ce *core.ConversionError
			// One reason on both transports, saying what to do.
			const reason = "null in a column or field the table declares NOT NULL; fill the value, or make the table's column or field nullable"
			if fr.State != core.RowNotWritten || !errors.As(fr.Err, &ce) || ce.Reason != reason {
				t.Fatalf("%s: failed row %+v (%v), want a ConversionError with reason %q, not written", transport, fr, fr.Err, reason)
			}
			got = append(got, failure{fr.Index, ce.Column})
		}
		want := []failure{{3, "addr.zip"}, {5, "items[1].sku"}, {7, "m[0].value.x"}}
		if res.SuccessfulCount != 7 || !cmp.Equal(want, got) {
			t.Fatalf("%s: %v (%v), failed %v, want 7 stored and %v", transport, res, err, got, want)
		}
		stored := storedNested(t, srv, table)
		if len(stored) != 7 {
			t.Fatalf("%s: %d rows stored, want 7: %v", transport, len(stored), stored)
		}
		for _, i := range []int{0, 1, 2, 4, 6, 8, 9} {
			r := stored[itoa(i)]
			wantRow := map[string]any{
				"id":    itoa(i),
				"addr":  map[string]any{"zip": "z" + itoa(i), "city": "c" + itoa(i)},
				"items": []any{map[string]any{"sku": "a", "qty": 1.0}, map[string]any{"sku": "s" + itoa(i)}},
				"m":     map[string]any{"k": map[string]any{"x": float64(i)}},
			}
			if i == 8 {
				delete(wantRow, "addr")
			}
			if diff := cmp.Diff(wantRow, r); diff != "" {
				t.Errorf("%s: stored row %d (-want +got):\n%s", transport, i, diff)
			}
		}
		if err := w.Close(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		if transport != core.TransportProtobuf {
			continue
		}
		desc, _, err := core.ReadDebugProtoFile(filepath.Join(dir, "zerobus", "proto", table+".proto"))
		if err != nil {
			t.Fatal(err)
		}
		labels := map[string]string{}
		for _, f := range desc.GetField() {
			labels[f.GetName()] = f.GetLabel().String()
		}
		for _, m := range desc.GetNestedType() {
			for _, f := range m.GetField() {
				labels[m.GetName()+"."+f.GetName()] = f.GetLabel().String()
			}
		}
		opt, req, rep := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.String(), descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.String(), descriptorpb.FieldDescriptorProto_LABEL_REPEATED.String()
		wantLabels := map[string]string{"id": req, "addr": opt, "items": rep, "m": rep,
			"Addr.zip": opt, "Addr.city": opt, "Items.sku": opt, "Items.qty": opt, "MEntry.key": opt, "MEntry.value": opt, "MValue.x": opt}
		if diff := cmp.Diff(wantLabels, labels); diff != "" {
			t.Errorf("descriptor labels (-want +got):\n%s", diff)
		}
	}
}

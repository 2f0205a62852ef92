package tests_go

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// VARIANT columns given as JSON text go over Flight in the Variant
// encoding; the server stores each as the JSON a PROTO stream would have
// sent. Text that is not one JSON document, or repeats a key, is not
// written and names its row and column, on both transports with the same
// reason (the protobuf path checks the text of a column the catalog says
// is VARIANT by the rule Flight encodes it by); every other row is stored.
func TestFlightVariantFromJSONText(t *testing.T) {
	reasons := map[string]map[int]string{} // transport → row → reason
	t.Cleanup(func() {
		if pb, fl := reasons[core.TransportProtobuf], reasons[core.TransportArrowFlight]; !t.Failed() && !reflect.DeepEqual(pb, fl) {
			t.Errorf("failed rows over protobuf %q, over Flight %q: want the same rows and reasons", pb, fl)
		}
	})
	for _, transport := range []string{core.TransportArrowFlight, core.TransportProtobuf} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.variant_" + transport
			createTable(t, srv, table, "id BIGINT NOT NULL, doc VARIANT")
			// Row 8 is not UTF-8: Go's JSON would take it as U+FFFD over Flight
			// while the protobuf path fails it.
			docs := []string{`{"a": 1, "b": [true, null, "x"], "c": {"d": 2.5}}`, "", `not json`, `42.5`, `"text"`, `{"k": 1} {"k": 2}`, `[]`, `{"k": 1, "k": 2}`, "\"\xff\""}
			valid := []bool{true, false, true, true, true, true, true, true, true}
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			schema := arrow.NewSchema([]arrow.Field{
				{Name: "id", Type: arrow.PrimitiveTypes.Int64},
				{Name: "doc", Type: arrow.BinaryTypes.String, Nullable: true},
			}, nil)
			b := array.NewRecordBuilder(mem, schema)
			defer b.Release()
			for i := range docs {
				b.Field(0).(*array.Int64Builder).Append(int64(i))
			}
			b.Field(1).(*array.StringBuilder).AppendValues(docs, valid)
			rec := b.NewRecordBatch()
			defer rec.Release()
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			w := newWrapper(t, cfg)
			res, _ := w.SendBatch(testCtx(t), rec)
			checkInvariant(t, res, len(docs))
			bad := map[int]string{2: "VARIANT value is not valid JSON", 5: "VARIANT value is not valid JSON", 7: "VARIANT value: failed to parse JSON: disallowed duplicate key found: k",
				8: "the string value is not valid UTF-8 (byte 1 of 3 is 0xff)"}
			if res.SuccessfulCount != len(docs)-len(bad) || len(res.FailedRows) != len(bad) {
				t.Fatalf("result %v, want rows 2, 5, 7 and 8 not written", res)
			}
			reasons[transport] = map[int]string{}
			for _, fr := range res.FailedRows {
				var ce *core.ConversionError
				if bad[fr.Index] == "" || fr.State != core.RowNotWritten || !errors.As(fr.Err, &ce) || ce.Row != fr.Index || ce.Column != "doc" ||
					!strings.HasPrefix(ce.Reason, bad[fr.Index]) {
					t.Fatalf("row %d: %v (%v), want a not-written ConversionError naming column doc and %q", fr.Index, fr.Err, fr.State, bad[fr.Index])
				}
				reasons[transport][fr.Index] = ce.Reason
			}
			stored := map[int64]any{}
			for _, r := range srv.Rows(table) {
				id, _ := field(r.Message, "id")
				v, ok := field(r.Message, "doc")
				if !ok {
					stored[id.Int()] = nil
					continue
				}
				var x any
				if err := json.Unmarshal([]byte(v.String()), &x); err != nil {
					t.Fatalf("row %d stored %q, not JSON: %v", id.Int(), v.String(), err)
				}
				stored[id.Int()] = x
			}
			if len(stored) != len(docs)-len(bad) {
				t.Fatalf("stored %d rows, want %d", len(stored), len(docs)-len(bad))
			}
			for i, d := range docs {
				if bad[i] != "" {
					if _, ok := stored[int64(i)]; ok {
						t.Fatalf("row %d stored, want it not written", i)
					}
					continue
				}
				var want any
				if valid[i] {
					if err := json.Unmarshal([]byte(d), &want); err != nil {
						t.Fatal(err)
					}
				}
				if got, ok := stored[int64(i)]; !ok || !reflect.DeepEqual(got, want) {
					t.Fatalf("row %d stored %#v, want %#v", i, got, want)
				}
			}
		})
	}
}

// A VARIANT column cannot take a column of another type over Flight: the
// schema check names the column and says what it takes, and nothing is sent.
func TestFlightVariantRejectsOtherTypes(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.variant_int"
	createTable(t, srv, table, "id BIGINT NOT NULL, doc VARIANT")
	mem := memory.DefaultAllocator
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "doc", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(1)
	b.Field(1).(*array.Int64Builder).Append(2)
	rec := b.NewRecordBatch()
	defer rec.Release()
	w := newWrapper(t, flightConfig(srv, table))
	res, err := w.SendBatch(testCtx(t), rec)
	checkInvariant(t, res, 1)
	if err == nil || !strings.Contains(err.Error(), `"doc"`) || !strings.Contains(err.Error(), "JSON text") {
		t.Fatalf("SendBatch: %v, want a schema error naming doc and JSON text", err)
	}
	if n := len(srv.Rows(table)); n != 0 {
		t.Fatalf("stored %d rows", n)
	}
}

// nestedVariantRows is one batch for a table with VARIANTs inside a STRUCT,
// an ARRAY and a MAP, given as JSON text: good values, nulls at every level,
// text that is not JSON at each depth, and nulls protobuf cannot hold.
func nestedVariantRows(t *testing.T, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	item := arrow.StructOf(arrow.Field{Name: "v", Type: arrow.BinaryTypes.String, Nullable: true})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "payload", Type: arrow.StructOf(
			arrow.Field{Name: "v", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "items", Type: arrow.ListOf(item), Nullable: true},
		), Nullable: true},
		{Name: "vs", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	rows := []string{
		`{"id": 0, "payload": {"v": "{\"a\": [1, 2.5, \"é\"], \"b\": {\"c\": null}}", "items": [{"v": "1"}, {"v": "[true, false]"}]},
		  "vs": ["{}", "-3", "\"s\""], "m": [{"key": "k1", "value": "{\"z\": 12345678901234567890}"}, {"key": "k2", "value": "null"}]}`,
		`{"id": 1, "payload": null, "vs": null, "m": null}`,
		`{"id": 2, "payload": {"v": null, "items": null}, "vs": [], "m": []}`,
		`{"id": 3, "payload": {"v": "2", "items": [{"v": null}, {"v": "3"}]}, "vs": ["4"], "m": [{"key": "k", "value": "5"}]}`,
		`{"id": 4, "payload": {"v": "6", "items": [{"v": "7"}, {"v": "not json"}]}, "vs": [], "m": []}`,
		`{"id": 5, "payload": {"v": "8", "items": []}, "vs": ["{\"k\": 1, \"k\": 2}"], "m": []}`,
		`{"id": 6, "payload": null, "vs": [], "m": [{"key": "a", "value": "9"}, {"key": "b", "value": "[1,"}]}`,
		`{"id": 7, "payload": null, "vs": ["10", null], "m": []}`,
		`{"id": 8, "payload": null, "vs": [], "m": [{"key": "a", "value": null}]}`,
		`{"id": 9, "payload": {"v": "11", "items": [null]}, "vs": [], "m": []}`,
		`{"id": 10, "payload": {"v": "{\"x\": 1} {\"x\": 2}", "items": []}, "vs": [], "m": []}`,
	}
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for _, r := range rows {
		if err := b.UnmarshalJSON([]byte(r)); err != nil {
			t.Fatalf("%s: %v", r, err)
		}
	}
	return b.NewRecordBatch()
}

// exactJSON decodes JSON text keeping numbers' digits (json.Number).
func exactJSON(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return v
}

// storedNormalized is every stored row of table as JSON values keyed by id,
// each VARIANT's JSON text parsed (so that spacing and key order do not
// count).
func storedNormalized(t *testing.T, srv *zerobuslocal.Server, table string) map[string]any {
	t.Helper()
	var parse func(v any) any
	parse = func(v any) any {
		switch x := v.(type) {
		case string:
			if json.Valid([]byte(x)) {
				return exactJSON(t, x)
			}
		case []any:
			for i := range x {
				x[i] = parse(x[i])
			}
		case map[string]any:
			for k := range x {
				x[k] = parse(x[k])
			}
		}
		return v
	}
	out := map[string]any{}
	for _, r := range srv.Rows(table) {
		b, err := protojson.Marshal(r.Message)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := exactJSON(t, string(b)).(map[string]any)
		id, _ := m["id"].(string)
		out[id] = parse(m)
	}
	return out
}

// A VARIANT inside a STRUCT, ARRAY or MAP, given as JSON text, goes over
// Flight in the Variant encoding and is stored exactly as the protobuf
// transport stores the same batch, row by row. Text that does not parse
// fails its row only over Flight (the protobuf path sends the text as it
// is), naming the row and the path; nulls protobuf cannot hold fail the
// same rows with the same paths on both transports.
//
// Text that does not parse fails the same rows with the same paths and
// reasons on both transports too: the protobuf path checks each VARIANT
// the catalog declares (convert.Options.TableVariant).
func TestFlightNestedVariantFromJSONText(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const ddl = "id BIGINT NOT NULL, payload STRUCT<v: VARIANT, items: ARRAY<STRUCT<v: VARIANT>>>, vs ARRAY<VARIANT>, m MAP<STRING, VARIANT>"
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := nestedVariantRows(t, mem)
	defer rec.Release()
	type outcome struct {
		failed  map[int]string // row → column path
		reasons map[int]string // row → reason
		stored  map[string]any
	}
	got := map[string]outcome{}
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.nested_variant_" + transport
		createTable(t, srv, table, ddl)
		cfg := serverConfig(srv, table)
		cfg.Transport = transport
		res, _ := newWrapper(t, cfg).SendBatch(testCtx(t), rec)
		checkInvariant(t, res, int(rec.NumRows()))
		o := outcome{failed: map[int]string{}, reasons: map[int]string{}}
		for _, fr := range res.FailedRows {
			var ce *core.ConversionError
			if fr.State != core.RowNotWritten || !errors.As(fr.Err, &ce) || ce.Row != fr.Index {
				t.Fatalf("%s row %d: %v (%v), want a not-written ConversionError naming the row", transport, fr.Index, fr.Err, fr.State)
			}
			o.failed[fr.Index] = ce.Column
			o.reasons[fr.Index] = ce.Reason
			if fr.Index >= 4 && fr.Index <= 6 || fr.Index == 10 {
				if !strings.HasPrefix(ce.Reason, "VARIANT value") {
					t.Fatalf("%s row %d: %v, want a VARIANT/JSON reason", transport, fr.Index, ce)
				}
			}
		}
		o.stored = storedNormalized(t, srv, table)
		got[transport] = o
	}
	pb, fl := got[core.TransportProtobuf], got[core.TransportArrowFlight]
	want := map[int]string{4: "payload.items[1].v", 5: "vs[0]", 6: "m[1].value", 10: "payload.v",
		7: "vs[1]", 8: "m[0].value", 9: "payload.items[0]"}
	if !reflect.DeepEqual(pb.failed, want) {
		t.Fatalf("protobuf failed rows %v, want %v", pb.failed, want)
	}
	if !reflect.DeepEqual(fl.failed, want) {
		t.Fatalf("arrow_flight failed rows %v, want %v", fl.failed, want)
	}
	for _, r := range []int{4, 5, 6, 10} {
		if pb.reasons[r] != fl.reasons[r] {
			t.Fatalf("row %d: reason over protobuf %q, over Flight %q: want the same", r, pb.reasons[r], fl.reasons[r])
		}
	}
	if len(pb.stored) != 4 || len(fl.stored) != 4 {
		t.Fatalf("stored %d rows over protobuf, %d over Flight; want 4 and 4", len(pb.stored), len(fl.stored))
	}
	for id, row := range fl.stored {
		if !reflect.DeepEqual(row, pb.stored[id]) {
			t.Fatalf("row %s stored over Flight as\n%v\nover protobuf as\n%v", id, row, pb.stored[id])
		}
	}
	// The values themselves, once: row 0 as given, row 3's null item field absent.
	r0, _ := json.Marshal(fl.stored["0"])
	const want0 = `{"id":0,"m":{"k1":{"z":12345678901234567890},"k2":null},` +
		`"payload":{"items":[{"v":1},{"v":[true,false]}],"v":{"a":[1,2.5,"é"],"b":{"c":null}}},"vs":[{},-3,"s"]}`
	if string(r0) != want0 {
		t.Fatalf("row 0 stored as %s, want %s", r0, want0)
	}
	r3, _ := json.Marshal(fl.stored["3"])
	if string(r3) != `{"id":3,"m":{"k":5},"payload":{"items":[{},{"v":3}],"v":2},"vs":[4]}` {
		t.Fatalf("row 3 stored as %s", r3)
	}
}

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

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// VARIANT columns given as JSON text go over Flight in the Variant
// encoding; the server stores each as the JSON a PROTO stream would have
// sent. Text that is not one JSON document, or repeats a key, is not
// written and names its row and column; every other row is stored.
func TestFlightVariantFromJSONText(t *testing.T) {
	for _, transport := range []string{core.TransportArrowFlight, core.TransportProtobuf} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.variant_" + transport
			createTable(t, srv, table, "id BIGINT NOT NULL, doc VARIANT")
			docs := []string{`{"a": 1, "b": [true, null, "x"], "c": {"d": 2.5}}`, "", `not json`, `42.5`, `"text"`, `{"k": 1} {"k": 2}`, `[]`}
			valid := []bool{true, false, true, true, true, true, true}
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
			if transport == core.TransportProtobuf {
				// The protobuf path sends the text as it is (the service
				// parses it); every row is stored.
				if res.SuccessfulCount != len(docs) {
					t.Fatalf("result %v", res)
				}
				return
			}
			bad := map[int]bool{2: true, 5: true}
			if res.SuccessfulCount != len(docs)-len(bad) || len(res.FailedRows) != len(bad) {
				t.Fatalf("result %v, want rows 2 and 5 not written", res)
			}
			for _, fr := range res.FailedRows {
				var ce *core.ConversionError
				if !bad[fr.Index] || fr.State != core.RowNotWritten || !errors.As(fr.Err, &ce) || ce.Row != fr.Index || ce.Column != "doc" ||
					!strings.Contains(ce.Error(), "JSON") {
					t.Fatalf("row %d: %v (%v), want a not-written ConversionError naming column doc and JSON", fr.Index, fr.Err, fr.State)
				}
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
				if bad[i] {
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

package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A STRUCT field the table's STRUCT lacks (at the top level, as an ARRAY
// element, as a MAP value) is refused before any stream opens on both
// transports, with the same *ConversionError wrapping a
// *SchemaMismatchError; protobuf opened a stream for the server to refuse
// it (a TransmissionError) before (s15 review-conversion). A nested field
// the batch leaves out stays the server's to judge: a nullable one is
// stored as null on both.
func TestNestedStructFieldMismatchOnBothTransports(t *testing.T) {
	srv := startLocal(t)
	cases := []struct {
		name, ddl, batchType, row string
		refused                   bool
	}{
		{"extra", "v STRUCT<a: INT>", "struct<b: int64>", `{"v": {"b": 1}}`, true},
		{"extra beside", "v STRUCT<a: INT>", "struct<a: int32, b: int64>", `{"v": {"a": 1, "b": 2}}`, true},
		{"array element", "v ARRAY<STRUCT<a: INT>>", "list<struct<b: int64>>", `{"v": [{"b": 1}]}`, true},
		{"map value", "v MAP<STRING, STRUCT<a: INT>>", "map<string, struct<b: int64>>", `{"v": [{"key": "k", "value": {"b": 1}}]}`, true},
		{"left out", "v STRUCT<a: INT, c: STRING>", "struct<a: int32>", `{"v": {"a": 7}}`, false},
	}
	types := map[string]arrow.DataType{
		"struct<b: int64>":           arrow.StructOf(arrow.Field{Name: "b", Type: arrow.PrimitiveTypes.Int64, Nullable: true}),
		"struct<a: int32, b: int64>": arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true}, arrow.Field{Name: "b", Type: arrow.PrimitiveTypes.Int64, Nullable: true}),
		"list<struct<b: int64>>":     arrow.ListOf(arrow.StructOf(arrow.Field{Name: "b", Type: arrow.PrimitiveTypes.Int64, Nullable: true})),
		"map<string, struct<b: int64>>": arrow.MapOf(arrow.BinaryTypes.String,
			arrow.StructOf(arrow.Field{Name: "b", Type: arrow.PrimitiveTypes.Int64, Nullable: true})),
		"struct<a: int32>": arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true}),
	}
	for i, c := range cases {
		for _, transport := range []string{TransportProtobuf, TransportArrowFlight} {
			t.Run(c.name+"/"+transport, func(t *testing.T) {
				table := fmt.Sprintf("main.default.nested_%d_%s", i, transport)
				alterTable(t, srv, table, c.ddl)
				cfg := localConfig(srv, table)
				cfg.Transport = transport
				w, err := New(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = w.Close(context.Background()) }()
				schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: types[c.batchType], Nullable: true}}, nil)
				rec, _, err := array.RecordFromJSON(memory.NewGoAllocator(), schema, strings.NewReader("["+c.row+"]"))
				if err != nil {
					t.Fatal(err)
				}
				defer rec.Release()
				streams := srv.Stats().StreamsCreated + srv.Stats().StreamsRejected
				res, err := w.SendBatch(context.Background(), rec)
				if !c.refused {
					if err != nil || len(srv.Rows(table)) != 1 {
						t.Fatalf("SendBatch = %v, %v; stored %d rows; want the row stored", res, err, len(srv.Rows(table)))
					}
					return
				}
				var ce *ConversionError
				var sm *SchemaMismatchError
				if !errors.As(err, &ce) || !errors.As(err, &sm) || len(sm.Columns) != 1 || sm.Columns[0].Column != "v" {
					t.Fatalf("err = %v (%T); want a ConversionError naming column v's mismatch", err, err)
				}
				if !strings.Contains(sm.Columns[0].Reason, `field "b" is not in the table's STRUCT`) {
					t.Errorf("reason = %q; want it to name field b", sm.Columns[0].Reason)
				}
				if res.NotWrittenCount != 1 {
					t.Errorf("result = %v; want the row not written", res)
				}
				if n := srv.Stats().StreamsCreated + srv.Stats().StreamsRejected - streams; n != 0 {
					t.Errorf("%d streams asked for a batch the table's columns refuse", n)
				}
				if n := len(srv.Rows(table)); n != 0 {
					t.Errorf("stored %d rows, want 0", n)
				}
			})
		}
	}
}

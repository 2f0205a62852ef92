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

// With the table's columns read from Unity Catalog, a batch whose column
// does not go into the table's type, or that has a column the table lacks,
// fails before any stream opens on both transports alike: a
// *ConversionError (kind conversion) wrapping a *SchemaMismatchError, and
// DetailsOf naming the columns. Over protobuf it was the server's
// TransmissionError with no columns (s14 review-goapi2 finding 2). A column
// the protobuf field takes as it is (an int64 of microseconds into a
// TIMESTAMP, a date32 into an INT: the service compares field types) is
// still sent over protobuf, as before.
func TestSchemaMismatchUpFrontBothTransports(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, a INT, t TIMESTAMP, s STRUCT<x: BIGINT, y: STRING>")
	if err != nil {
		t.Fatal(err)
	}
	str := arrow.BinaryTypes.String
	bad := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "a", Type: str, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}), Nullable: true},
		{Name: "zz", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, bad, strings.NewReader(`[{"id": 1, "a": "x", "s": {"x": true}, "zz": 1}, {"id": 2}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	type outcome struct {
		kind    core.ErrorKind
		columns []string
		reasons []string
	}
	got := map[string]outcome{}
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.s14_mismatch_" + transport
		if err := srv.CreateTableColumns(table, cols); err != nil {
			t.Fatal(err)
		}
		cfg := serverConfig(srv, table)
		cfg.Transport = transport
		w := newWrapper(t, cfg)
		for _, call := range []string{"CheckSchema", "SendBatch"} {
			var err error
			if call == "CheckSchema" {
				err = w.CheckSchema(testCtx(t), bad)
			} else {
				var res *core.TransmissionResult
				res, err = w.SendBatch(testCtx(t), rec)
				if len(res.FailedRows) != 2 || res.FailedRows[0].State != core.RowNotWritten {
					t.Errorf("%s: failed rows %+v, want both not written", transport, res.FailedRows)
				}
			}
			var sm *core.SchemaMismatchError
			var ce *core.ConversionError
			if !errors.As(err, &sm) || !errors.As(err, &ce) || ce.Row != -1 {
				t.Fatalf("%s %s: %v (%T), want a ConversionError wrapping a SchemaMismatchError", transport, call, err, err)
			}
			o := outcome{kind: core.KindOf(err), columns: core.DetailsOf(err).Columns}
			for _, c := range sm.Columns {
				o.reasons = append(o.reasons, c.Column+" "+c.BatchType+" "+c.TableType)
			}
			t.Logf("%s %s: %v", transport, call, err)
			if call == "SendBatch" {
				got[transport] = o
			}
		}
		if n := len(srv.Rows(table)); n != 0 {
			t.Errorf("%s: %d rows stored", transport, n)
		}
	}
	want := outcome{kind: core.KindConversion, columns: []string{"a", "s", "zz"}}
	for transport, o := range got {
		if o.kind != want.kind || !reflect.DeepEqual(o.columns, want.columns) {
			t.Errorf("%s: kind %s columns %v, want %s %v", transport, o.kind, o.columns, want.kind, want.columns)
		}
	}
	if !reflect.DeepEqual(got[core.TransportProtobuf].reasons, got[core.TransportArrowFlight].reasons) {
		t.Errorf("mismatches differ: protobuf %v, arrow_flight %v", got[core.TransportProtobuf].reasons, got[core.TransportArrowFlight].reasons)
	}

	// What protobuf took before still goes: an int64 into TIMESTAMP (its
	// microseconds), a date32 into INT (its days).
	ok := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "a", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "t", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	rec2, _, err := array.RecordFromJSON(mem, ok, strings.NewReader(`[{"id": 1, "a": "1970-01-11", "t": 1000000}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec2.Release()
	table := "main.default.s14_mismatch_pb_ok"
	if err := srv.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
	w := newWrapper(t, serverConfig(srv, table))
	if err := w.CheckSchema(testCtx(t), ok); err != nil {
		t.Fatalf("protobuf CheckSchema: %v", err)
	}
	if res, err := w.SendBatch(testCtx(t), rec2); err != nil || !res.Success {
		t.Fatalf("protobuf SendBatch: %v %+v", err, res)
	}
	rows := srv.Rows(table)
	if len(rows) != 1 {
		t.Fatalf("%d rows stored", len(rows))
	}
	m := msgToMap(rows[0].Message)
	if m["a"] != int64(10) && m["a"] != int32(10) || m["t"] != int64(1000000) {
		t.Errorf("stored %#v, want a=10 t=1000000", m)
	}
}

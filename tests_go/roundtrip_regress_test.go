package tests_go

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Regressions found by TestRoundTripRandom that show end to end (the
// others are unit tests beside their fix, named in their comments).

// A decimal map key goes to a MAP<STRING, _> column as its exact text on
// both transports. Found by TestRoundTripRandom (seed 86): the protobuf
// path refused the schema ("protobuf map keys must be integers, booleans or
// strings") while Flight sent the text.
func TestDecimalMapKeysOnBothTransports(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	mt := arrow.MapOf(&arrow.Decimal128Type{Precision: 5, Scale: 2}, arrow.PrimitiveTypes.Int32)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "m", Type: mt, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(1)
	mb := b.Field(1).(*array.MapBuilder)
	mb.Append(true)
	mb.KeyBuilder().(*array.Decimal128Builder).Append(decimal128.FromI64(150))
	mb.ItemBuilder().(*array.Int32Builder).Append(7)
	mb.KeyBuilder().(*array.Decimal128Builder).Append(decimal128.FromI64(-5))
	mb.ItemBuilder().(*array.Int32Builder).Append(8)
	rec := b.NewRecordBatch()
	defer rec.Release()
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.deckey_" + tr
		createTable(t, srv, table, "id BIGINT NOT NULL, m MAP<STRING, INT>")
		cfg := serverConfig(srv, table)
		cfg.Transport = tr
		res, err := newWrapper(t, cfg).SendBatch(testCtx(t), rec)
		if err != nil {
			t.Fatalf("%s: %v", tr, err)
		}
		checkInvariant(t, res, 1)
		rows := srv.Rows(table)
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows stored", tr, len(rows))
		}
		if got, want := msgToMap(rows[0].Message)["m"], map[string]any{"1.50": int64(7), "-0.05": int64(8)}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: m stored as %v, want %v", tr, got, want)
		}
	}
}

// A second batch read from Arrow IPC whose schema has a large list of
// timestamps with a zone is sent with the plan of the first, built in
// memory (the same schema by fingerprint). Found by TestRoundTripRandom (a
// long run, seed 1796544938935388793): arrow-go compares large lists with
// reflect.DeepEqual, which sees the zone a timestamp type caches once it
// has been read, the plan's schema check refused the batch ("record batch
// schema does not match the plan") and every row of it failed.
func TestLargeListBatchFromIPCAfterOneInMemory(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.large_list_ipc"
	createTable(t, srv, table, "id BIGINT NOT NULL, docs ARRAY<STRUCT<m: MAP<TINYINT, BIGINT>, at: TIMESTAMP>>")
	w := newWrapper(t, serverConfig(srv, table))
	st := arrow.StructOf(arrow.Field{Name: "m", Type: arrow.MapOf(arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int64), Nullable: true},
		arrow.Field{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "Asia/Tokyo"}, Nullable: true})
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "docs", Type: arrow.LargeListOf(st), Nullable: true}}, nil)
	for id := int64(0); id < 2; id++ {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		b.Field(0).(*array.Int64Builder).Append(id)
		lb := b.Field(1).(*array.LargeListBuilder)
		lb.Append(true)
		sb := lb.ValueBuilder().(*array.StructBuilder)
		sb.Append(true)
		mb := sb.FieldBuilder(0).(*array.MapBuilder)
		mb.Append(true)
		mb.KeyBuilder().(*array.Int8Builder).Append(1)
		mb.ItemBuilder().(*array.Int64Builder).Append(id)
		sb.FieldBuilder(1).(*array.TimestampBuilder).Append(arrow.Timestamp(id))
		rec := b.NewRecordBatch()
		b.Release()
		if id == 0 {
			// Code that reads the zone (formatting the values, say) caches it
			// in the type, which the IPC reader's new type has not.
			if _, err := st.Field(1).Type.(*arrow.TimestampType).GetZone(); err != nil {
				t.Fatal(err)
			}
		} else {
			rec = rtViaIPC(t, memory.DefaultAllocator, rec)
		}
		res, err := w.SendBatch(testCtx(t), rec)
		rec.Release()
		if err != nil {
			t.Fatalf("batch %d: %v", id, err)
		}
		checkInvariant(t, res, 1)
	}
	if got := storedIDs(t, srv, table); len(got) != 2 {
		t.Fatalf("stored ids %v, want 0 and 1", got)
	}
}

// A column of Arrow's null type (pandas' all-None object column) whose
// table type holds a VARIANT inside a STRUCT, an ARRAY or a MAP takes the
// table's type with the VARIANT as its JSON text on both transports, as a
// VARIANT column of the null type does. Found by TestRoundTripRandom
// (seed 1796544938935388793 with null-type STRUCT fields on; a STRUCT
// field of the null type, n.v, too): over
// protobuf the descriptor described the VARIANT as the struct of its
// binary encoding and the service refused the whole batch
// (TYPE_INCOMPATIBLE: field "s.x" has type struct, the table column needs
// string).
func TestNullTypeColumnWithVariantInside(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.Null, Nullable: true}, {Name: "l", Type: arrow.Null, Nullable: true},
		{Name: "m", Type: arrow.Null, Nullable: true},
		{Name: "n", Type: arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			arrow.Field{Name: "v", Type: arrow.Null, Nullable: true}), Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for id := int64(0); id < 2; id++ {
		b.Field(0).(*array.Int64Builder).Append(id)
		for c := 1; c < 4; c++ {
			b.Field(c).AppendNull()
		}
		nb := b.Field(4).(*array.StructBuilder) // {a: 7, v: null}
		nb.Append(true)
		nb.FieldBuilder(0).(*array.Int32Builder).Append(7)
		nb.FieldBuilder(1).AppendNull()
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.null_variant_" + tr
		createTable(t, srv, table, "id BIGINT NOT NULL, s STRUCT<a: INT, x: VARIANT>, l ARRAY<STRUCT<v: VARIANT>>, "+
			"m MAP<STRING, VARIANT>, n STRUCT<a: INT, v: STRUCT<x: VARIANT>>")
		cfg := serverConfig(srv, table)
		cfg.Transport = tr
		res, err := newWrapper(t, cfg).SendBatch(testCtx(t), rec)
		if err != nil {
			t.Errorf("%s: %v", tr, err)
			continue
		}
		checkInvariant(t, res, 2)
		if res.FailedCount > 0 {
			t.Errorf("%s: row %d failed: %v", tr, res.FailedRows[0].Index, res.FailedRows[0].Err)
			continue
		}
		for _, r := range srv.Rows(table) {
			got := msgToMap(r.Message)
			if n, ok := got["n"].(map[string]any); len(got) != 2 || !ok || len(n) != 1 || n["a"] != int64(7) {
				t.Errorf("%s: stored %v, want the id and n {a: 7}", tr, got)
			}
		}
		if got := storedIDs(t, srv, table); len(got) != 2 {
			t.Errorf("%s: stored ids %v, want 0 and 1", tr, got)
		}
	}
}

// A nullable STRUCT field the batch leaves out (or gives as Arrow's null
// type) inside ARRAY elements or MAP values, whose table type is an ARRAY
// or MAP of STRING or BINARY, in a batch whose lists and maps are all
// empty or null: stored with the field null on both transports. Found by
// TestRoundTripRandom (a long run, seed 1796565302455463390: a batch of
// two empty maps): over Flight, arrow-go's MakeArrayOfNull builds a
// zero-length list of large_binary whose child's offsets buffer is too
// short for 64-bit offsets, and the IPC writer panicked in SendBatch
// ("index out of range [0] with length 0").
func TestMissingFieldInEmptyListsAndMaps(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	for _, c := range []struct {
		name string
		f2   *arrow.Field // nil: left out
	}{{"left out", nil}, {"null type", &arrow.Field{Name: "f2", Type: arrow.Null, Nullable: true}}} {
		fs := []arrow.Field{{Name: "f3", Type: arrow.PrimitiveTypes.Int32, Nullable: true}}
		if c.f2 != nil {
			fs = append(fs, *c.f2)
		}
		st := arrow.StructOf(fs...)
		schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			{Name: "m", Type: arrow.MapOf(arrow.FixedWidthTypes.Boolean, st), Nullable: true},
			{Name: "l", Type: arrow.ListOf(st), Nullable: true}}, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for id := int64(0); id < 3; id++ {
			b.Field(0).(*array.Int64Builder).Append(id)
			if id == 2 {
				b.Field(1).AppendNull()
				b.Field(2).AppendNull()
				continue
			}
			b.Field(1).(*array.MapBuilder).Append(true) // empty
			b.Field(2).(*array.ListBuilder).Append(true)
		}
		rec := b.NewRecordBatch()
		b.Release()
		for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
			table := fmt.Sprintf("main.default.empty_nested_%s_%d", tr, len(fs))
			createTable(t, srv, table, "id BIGINT NOT NULL, m MAP<BOOLEAN, STRUCT<f2: MAP<STRING, BINARY>, f3: INT>>, "+
				"l ARRAY<STRUCT<f2: ARRAY<STRING>, f3: INT>>")
			cfg := serverConfig(srv, table)
			cfg.Transport = tr
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Errorf("%s, %s: SendBatch panicked: %v", c.name, tr, r)
					}
				}()
				res, err := newWrapper(t, cfg).SendBatch(testCtx(t), rec)
				if err != nil {
					t.Errorf("%s, %s: %v", c.name, tr, err)
					return
				}
				checkInvariant(t, res, 3)
				if got := storedIDs(t, srv, table); len(got) != 3 {
					t.Errorf("%s, %s: stored ids %v, want 0, 1, 2", c.name, tr, got)
				}
				for _, r := range srv.Rows(table) {
					if got := msgToMap(r.Message); len(got) != 1 {
						t.Errorf("%s, %s: stored %v, want the id only (empty maps and lists store nothing)", c.name, tr, got)
					}
				}
			}()
		}
		rec.Release()
	}
}

package zerobuslocal_test

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

const readBackDDL = "id BIGINT NOT NULL, at TIMESTAMP, local TIMESTAMP_NTZ, day DATE, price DECIMAL(10,2), " +
	"loc STRUCT<at:TIMESTAMP,p:DECIMAL(5,1)>, days ARRAY<DATE>, m MAP<STRING,TIMESTAMP>"

// The same row in its protobuf JSON form (the table's descriptor) ...
const readBackProtoJSON = `{"id": 1, "at": 1795424400000000, "local": 1795424400000000, "day": 20780, "price": "12.30",
	"loc": {"at": 1795424400000001, "p": "-3.5"}, "days": [0, 20780], "m": {"k": 1795424400000000}}`

// ... and in the Arrow form a Flight stream to the table sends.
const readBackFlightJSON = `[{"id": 1, "at": 1795424400000000, "local": 1795424400000000, "day": 20780, "price": "12.30",
	"loc": {"at": 1795424400000001, "p": "-3.5"}, "days": [0, 20780], "m": [{"key": "k", "value": 1795424400000000}]}]`

var readBackFlightSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "local", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "price", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "loc", Type: arrow.StructOf(
		arrow.Field{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		arrow.Field{Name: "p", Type: arrow.BinaryTypes.LargeString, Nullable: true}), Nullable: true},
	{Name: "days", Type: arrow.ListOf(arrow.FixedWidthTypes.Date32), Nullable: true},
	{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}), Nullable: true},
}, nil)

// wantReadBack is the read-back schema of readBackDDL: the Unity Catalog
// types typed, the rest as the descriptor gives them.
const wantReadBack = `schema:
  fields: 8
    - id: type=int64
    - at: type=timestamp[us, tz=UTC], nullable
    - local: type=timestamp[us], nullable
    - day: type=date32, nullable
    - price: type=decimal(10, 2), nullable
    - loc: type=struct<at: timestamp[us, tz=UTC], p: decimal(5, 1)>, nullable
    - days: type=list<item: date32, nullable>
    - m: type=map<utf8, timestamp[us, tz=UTC], items_nullable>`

const wantReadBackJSON = `[{"at":"2026-11-23T09:00:00Z","day":"2026-11-23","days":["1970-01-01","2026-11-23"],"id":1,` +
	`"loc":{"at":"2026-11-23T09:00:00.000001Z","p":"-3.5"},"local":"2026-11-23T09:00:00Z",` +
	`"m":[{"key":"k","value":"2026-11-23T09:00:00Z"}],"price":"12.3"}]`

func readBack(t *testing.T, s *zerobuslocal.Server, table string) (schema, rows string) {
	t.Helper()
	rec, err := s.ArrowBatch(table, memory.DefaultAllocator)
	if err != nil {
		t.Fatalf("ArrowBatch(%s): %v", table, err)
	}
	defer rec.Release()
	var sb strings.Builder
	if err := array.RecordToJSON(rec, &sb); err != nil {
		t.Fatal(err)
	}
	return rec.Schema().String(), "[" + strings.Join(strings.Fields(strings.TrimSpace(sb.String())), ",") + "]"
}

func sendProtoJSON(t *testing.T, s *zerobuslocal.Server, table, js string) {
	t.Helper()
	desc, _ := s.TableDescriptor(table)
	md, err := protoarrow.MessageDescriptor(desc)
	if err != nil {
		t.Fatal(err)
	}
	m := dynamicpb.NewMessage(md)
	if err := protojson.Unmarshal([]byte(js), m); err != nil {
		t.Fatal(err)
	}
	st := openStream(t, dial(t, s), token(t, s, table), table)
	st.create(table, desc, zerobuspb.RecordType_PROTO)
	st.send(recordReq(0, encode(t, m)))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
}

// A table created with Unity Catalog columns reads back its TIMESTAMP,
// TIMESTAMP_NTZ, DATE and DECIMAL columns typed, nested ones too, the same
// whether the rows came on a PROTO stream or a Flight stream; a table
// created from the same descriptor alone reads back the descriptor's types.
func TestArrowBatchTypedFromColumns(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const protoTable, flightTable, descTable = "main.default.p", "main.default.f", "main.default.d"
	for _, name := range []string{protoTable, flightTable} {
		if err := s.CreateTableColumns(name, mustColumns(t, readBackDDL)); err != nil {
			t.Fatal(err)
		}
	}
	sendProtoJSON(t, s, protoTable, readBackProtoJSON)
	schema, rows := readBack(t, s, protoTable)
	if diff := cmp.Diff(wantReadBack, schema); diff != "" {
		t.Errorf("PROTO table schema (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantReadBackJSON, rows); diff != "" {
		t.Errorf("PROTO table rows (-want +got):\n%s", diff)
	}

	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, readBackFlightSchema, strings.NewReader(readBackFlightJSON))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	f := openFlight(t, s, token(t, s, flightTable), flightTable)
	f.sendSchema(readBackFlightSchema)
	f.expect(-1, 0)
	f.send(rec, 0)
	f.expect(0, 1)
	_ = f.c.CloseSend()
	if err := f.drain(); err != nil {
		t.Fatal(err)
	}
	fschema, frows := readBack(t, s, flightTable)
	if fschema != schema || frows != rows {
		t.Errorf("Flight table reads back\n%s\n%s\nPROTO table\n%s\n%s", fschema, frows, schema, rows)
	}

	desc, _ := s.TableDescriptor(protoTable)
	if err := s.CreateTable(descTable, desc); err != nil {
		t.Fatal(err)
	}
	sendProtoJSON(t, s, descTable, readBackProtoJSON)
	dschema, _ := readBack(t, s, descTable)
	for _, want := range []string{"at: type=int64", "day: type=int32", "price: type=utf8", "loc: type=struct<at: int64, p: utf8>"} {
		if !strings.Contains(dschema, want) {
			t.Errorf("descriptor-only table schema lacks %q:\n%s", want, dschema)
		}
	}
}

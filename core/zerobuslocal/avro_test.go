package zerobuslocal_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/linkedin/goavro/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

const avroDDL = "id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>, day DATE, at TIMESTAMP, price DECIMAL(10,2), " +
	"attrs MAP<STRING,BIGINT>, loc STRUCT<lat:DOUBLE>, small SMALLINT"

const avroSchema = `{"type": "record", "name": "Event", "namespace": "t", "fields": [
  {"name": "id", "type": "long"},
  {"name": "name", "type": ["null", "string"]},
  {"name": "tags", "type": {"type": "array", "items": "string"}},
  {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}]},
  {"name": "at", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
  {"name": "price", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}]},
  {"name": "attrs", "type": {"type": "map", "values": "long"}},
  {"name": "loc", "type": ["null", {"type": "record", "name": "Loc", "fields": [{"name": "lat", "type": ["null", "double"]}]}]},
  {"name": "small", "type": ["null", "int"]}
]}`

func avroCreateReq(table, schema string) *req {
	return &req{Payload: &zerobuspb.EphemeralStreamRequest_CreateStream{CreateStream: &zerobuspb.CreateIngestStreamRequest{
		TableName: proto.String(table), RecordType: zerobuspb.RecordType_AVRO.Enum(), AvroSchema: proto.String(schema)}}}
}

func avroRecordReq(off int64, rec []byte) *req {
	return &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
		OffsetId: proto.Int64(off), Record: &zerobuspb.IngestRecordRequest_AvroEncodedRecord{AvroEncodedRecord: rec}}}}
}

func avroBatchReq(off int64, recs ...[]byte) *req {
	return &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: &zerobuspb.IngestRecordBatchRequest{
		OffsetId: proto.Int64(off), Batch: &zerobuspb.IngestRecordBatchRequest_AvroBatch{AvroBatch: &zerobuspb.AvroRecordBatch{Records: recs}}}}}
}

func avroEvent(t testing.TB, codec *goavro.Codec, id int64, name string) []byte {
	t.Helper()
	native := map[string]any{
		"id":    id,
		"name":  goavro.Union("string", name),
		"tags":  []any{"a", name},
		"day":   goavro.Union("int.date", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)),
		"at":    goavro.Union("long.timestamp-micros", time.UnixMicro(1_700_000_000_000_001+id).UTC()),
		"price": goavro.Union("bytes.decimal", big.NewRat(-12345+id, 100)),
		"attrs": map[string]any{"k": id * 10},
		"loc":   goavro.Union("t.Loc", map[string]any{"lat": goavro.Union("double", 1.5)}),
		"small": nil,
	}
	b, err := codec.BinaryFromNative(nil, native)
	if err != nil {
		t.Fatalf("Avro encode: %v", err)
	}
	return b
}

func TestAvroStream(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, avroDDL)); err != nil {
		t.Fatal(err)
	}
	codec, err := goavro.NewCodec(avroSchema)
	if err != nil {
		t.Fatal(err)
	}
	st := openStream(t, dial(t, s), token(t, s, testTable), testTable)
	st.send(avroCreateReq(testTable, avroSchema))
	if st.recv().GetCreateStreamResponse() == nil {
		t.Fatal("no create response")
	}
	st.send(avroRecordReq(0, avroEvent(t, codec, 1, "one")))
	st.expectAck(0)
	st.send(avroBatchReq(1, avroEvent(t, codec, 2, "two"), avroEvent(t, codec, 3, "three")))
	st.expectAck(1)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	rows := s.Rows(testTable)
	var got []string
	for _, r := range rows {
		b, _ := protojson.MarshalOptions{UseProtoNames: true}.Marshal(r.Message)
		got = append(got, string(b))
	}
	norm := func(js []string) []string {
		out := make([]string, len(js))
		for i, j := range js {
			var v any
			_ = jsonUnmarshal(j, &v)
			out[i] = jsonMarshal(v)
		}
		return out
	}
	want := []string{
		`{"id":"1","name":"one","tags":["a","one"],"day":19724,"at":"1700000000000002","price":"-123.44","attrs":{"k":"10"},"loc":{"lat":1.5}}`,
		`{"id":"2","name":"two","tags":["a","two"],"day":19724,"at":"1700000000000003","price":"-123.43","attrs":{"k":"20"},"loc":{"lat":1.5}}`,
		`{"id":"3","name":"three","tags":["a","three"],"day":19724,"at":"1700000000000004","price":"-123.42","attrs":{"k":"30"},"loc":{"lat":1.5}}`,
	}
	if diff := cmp.Diff(norm(want), norm(got)); diff != "" {
		t.Errorf("stored rows (-want +got):\n%s", diff)
	}
	if rows[1].Offset != 1 || rows[2].Index != 1 {
		t.Errorf("positions: %+v", rows[2])
	}
}

func TestAvroRejections(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, avroDDL)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, testTable)
	cc := dial(t, s)
	codec, _ := goavro.NewCodec(avroSchema)
	createFails := func(schema string, code codes.Code, substr string) {
		t.Helper()
		st := openStream(t, cc, tok, testTable)
		st.send(avroCreateReq(testTable, schema))
		wantStatus(t, st.drain(), code, substr)
	}
	createFails(`{"type": "record"`, codes.InvalidArgument, "invalid Avro schema")
	createFails(`"long"`, codes.InvalidArgument, "must be a record")
	createFails(`{"type": "record", "name": "E", "fields": [{"name": "id", "type": ["null", "long"]}]}`, codes.InvalidArgument,
		`field "id" is nullable, the table column is NOT NULL`)
	createFails(`{"type": "record", "name": "E", "fields": [{"name": "id", "type": "string"}]}`, codes.InvalidArgument,
		`field "id" has type string, the table column needs bigint`)
	createFails(`{"type": "record", "name": "E", "fields": [{"name": "id", "type": "long"}, {"name": "u", "type": ["int", "string"]}]}`,
		codes.InvalidArgument, `unions other than`)

	st := openStream(t, cc, tok, testTable)
	st.send(avroCreateReq(testTable, avroSchema))
	st.recv()
	good := avroEvent(t, codec, 1, "ok")
	st.send(avroBatchReq(0, good, good[:len(good)-3]))
	wantStatus(t, st.drain(), codes.InvalidArgument, "ingest_record_batch at offset 0, record 1 of 2: not Avro binary")

	// Invalid UTF-8 in a string: a per-record error.
	bad := avroEvent(t, codec, 1, "\xff\xfe")
	st = openStream(t, cc, tok, testTable)
	st.send(avroCreateReq(testTable, avroSchema))
	st.recv()
	st.send(avroBatchReq(0, good, bad))
	wantStatus(t, st.drain(), codes.InvalidArgument, `record 1 of 2: field "name": string is not valid UTF-8`)

	// A protobuf record on an AVRO stream.
	st = openStream(t, cc, tok, testTable)
	st.send(avroCreateReq(testTable, avroSchema))
	st.recv()
	st.send(recordReq(0, []byte{0x08, 0x01}))
	wantStatus(t, st.drain(), codes.InvalidArgument, "protobuf records on a AVRO stream")
	if n := s.RecordCount(testTable); n != 0 {
		t.Errorf("RecordCount: got %d, want 0", n)
	}
}

func TestAvroAutoCreate(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	st := openStream(t, dial(t, s), token(t, s, testTable), testTable)
	st.send(avroCreateReq(testTable, avroSchema))
	st.recv()
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	cols, _ := s.TableColumns(testTable)
	var got []string
	for _, c := range cols {
		got = append(got, c.Name+" "+c.Type.String()+map[bool]string{true: "", false: " not null"}[c.Nullable])
	}
	want := []string{"id bigint not null", "name string", "tags array<string> not null", "day date", "at timestamp",
		"price decimal(10,2)", "attrs map<string,bigint> not null", "loc struct<lat:double>", "small int"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("columns from the Avro schema (-want +got):\n%s", diff)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func jsonMarshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A corrupt Avro record announcing a huge array is a per-record error, not
// an out-of-memory crash.
func TestAvroHugeBlockCount(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, avroDDL)); err != nil {
		t.Fatal(err)
	}
	st := openStream(t, dial(t, s), token(t, s, testTable), testTable)
	st.send(avroCreateReq(testTable, avroSchema))
	st.recv()
	// id 0, name null, then tags: an array block of 2^31-1 items (zigzag varint).
	rec := []byte{0x00, 0x00}
	rec = binary.AppendUvarint(rec, uint64(math.MaxInt32)<<1)
	st.send(avroRecordReq(0, rec))
	wantStatus(t, st.finish(), codes.InvalidArgument, "record 0 of 1: not Avro binary")
}

// Corrupted Avro records are rejected per request; the server stays up and
// stores only valid rows.
func TestAvroRandomCorruption(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, avroDDL)); err != nil {
		t.Fatal(err)
	}
	codec, _ := goavro.NewCodec(avroSchema)
	cc := dial(t, s)
	tok := token(t, s, testTable)
	rng := rand.New(rand.NewPCG(3, 4))
	good := avroEvent(t, codec, 5, "five")
	for i := 0; i < 200; i++ {
		bad := bytes.Clone(good)
		for j := 0; j < 1+rng.IntN(4); j++ {
			bad[rng.IntN(len(bad))] = byte(rng.IntN(256))
		}
		st := openStream(t, cc, tok, testTable)
		st.send(avroCreateReq(testTable, avroSchema))
		st.recv()
		st.send(avroRecordReq(0, bad))
		_ = st.finish() // stored or rejected, never a crash
	}
	for _, r := range s.Rows(testTable) {
		if _, err := proto.Marshal(r.Message); err != nil {
			t.Fatalf("stored row %d does not marshal: %v", r.Seq, err)
		}
	}
	st := openStream(t, cc, tok, testTable)
	st.send(avroCreateReq(testTable, avroSchema))
	st.recv()
	st.send(avroRecordReq(0, good))
	st.expectAck(0)
}

// storedAvroRecord sends rec on a new AVRO stream of schema to table and
// returns the row the server stored, as protojson's map.
func storedAvroRecord(t *testing.T, s *zerobuslocal.Server, table, schema string, rec []byte) map[string]any {
	t.Helper()
	st := openStream(t, dial(t, s), token(t, s, table), table)
	st.send(avroCreateReq(table, schema))
	st.recv()
	st.send(avroRecordReq(0, rec))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	got, err := protojson.Marshal(s.Rows(table)[0].Message)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Every Avro timestamp type is stored in microseconds: goavro has no
// local-timestamp-* types and hands their longs over as they are, so a
// local-timestamp-millis TIMESTAMP_NTZ was stored in milliseconds (found by
// tests_py/test_official_sdk_random.py). Also in an ARRAY and at the edges
// of the type's range.
func TestAvroTimestampUnits(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const table = "main.default.avro_units"
	if err := s.CreateTableColumns(table, mustColumns(t, "a TIMESTAMP_NTZ, b TIMESTAMP_NTZ, c TIMESTAMP, d TIMESTAMP, e ARRAY<TIMESTAMP_NTZ>")); err != nil {
		t.Fatal(err)
	}
	schema := `{"type": "record", "name": "R", "fields": [
	  {"name": "a", "type": ["null", {"type": "long", "logicalType": "local-timestamp-millis"}]},
	  {"name": "b", "type": ["null", {"type": "long", "logicalType": "local-timestamp-micros"}]},
	  {"name": "c", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}]},
	  {"name": "d", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
	  {"name": "e", "type": {"type": "array", "items": {"type": "long", "logicalType": "local-timestamp-millis"}}}
	]}`
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	const maxMillis = 253402300799999 // 9999-12-31T23:59:59.999
	rec, err := codec.BinaryFromNative(nil, map[string]any{
		"a": goavro.Union("long", int64(1_700_000_000_123)),
		"b": goavro.Union("long", int64(1_700_000_000_123_456)),
		"c": goavro.Union("long.timestamp-millis", time.UnixMilli(-62135596800000).UTC()),
		"d": goavro.Union("long.timestamp-micros", time.UnixMicro(1).UTC()),
		"e": []any{int64(maxMillis), int64(-1)},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := storedAvroRecord(t, s, table, schema, rec)
	want := map[string]any{"a": "1700000000123000", "b": "1700000000123456", "c": "-62135596800000000", "d": "1",
		"e": []any{"253402300799999000", "-1000"}}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("stored timestamps (-want +got):\n%s", diff)
	}
}

// A named record type may be used again by name (valid Avro, what a writer
// schema with two columns of one STRUCT shape often does); it was refused as
// "unknown Avro type" (found by tests_py/test_official_sdk_random.py). A
// record that refers to itself is still refused: it has no column type.
func TestAvroNamedRecordReused(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const table = "main.default.avro_reuse"
	if err := s.CreateTableColumns(table, mustColumns(t, "a STRUCT<x:INT>, b STRUCT<x:INT>, c ARRAY<STRUCT<x:INT>>")); err != nil {
		t.Fatal(err)
	}
	schema := `{"type": "record", "name": "R", "namespace": "t", "fields": [
	  {"name": "a", "type": ["null", {"type": "record", "name": "P", "fields": [{"name": "x", "type": ["null", "int"]}]}]},
	  {"name": "b", "type": ["null", "P"]},
	  {"name": "c", "type": {"type": "array", "items": "t.P"}}
	]}`
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	p := func(x int32) map[string]any { return map[string]any{"x": goavro.Union("int", x)} }
	rec, err := codec.BinaryFromNative(nil, map[string]any{
		"a": goavro.Union("t.P", p(1)), "b": goavro.Union("t.P", p(2)), "c": []any{p(3), p(4)},
	})
	if err != nil {
		t.Fatal(err)
	}
	m := storedAvroRecord(t, s, table, schema, rec)
	want := map[string]any{"a": map[string]any{"x": 1.0}, "b": map[string]any{"x": 2.0}, "c": []any{map[string]any{"x": 3.0}, map[string]any{"x": 4.0}}}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}

	st := openStream(t, dial(t, s), token(t, s, table), table)
	st.send(avroCreateReq(table, `{"type": "record", "name": "N", "fields": [{"name": "a", "type": ["null", "N"]}]}`))
	wantStatus(t, st.drain(), codes.InvalidArgument, "record N refers to itself")
}

// Inside the STRUCTs of an ARRAY or MAP column an Avro schema's fields get
// the same causes as at the top level and in a STRUCT column, as PROTO and
// Arrow schemas do; the whole column used to be TYPE_INCOMPATIBLE (found by
// tests_py/test_official_sdk_random.py).
func TestAvroNestedSchemaCauses(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const table = "main.default.avro_nested_causes"
	if err := s.CreateTableColumns(table, mustColumns(t, "items ARRAY<STRUCT<a:INT NOT NULL,b:STRING>>, m MAP<STRING,STRUCT<x:INT>>")); err != nil {
		t.Fatal(err)
	}
	cc := dial(t, s)
	tok := token(t, s, table)
	schema := func(items, value string) string {
		return `{"type": "record", "name": "R", "fields": [
		  {"name": "items", "type": {"type": "array", "items": {"type": "record", "name": "I", "fields": [` + items + `]}}},
		  {"name": "m", "type": {"type": "map", "values": {"type": "record", "name": "V", "fields": [` + value + `]}}}]}`
	}
	b := `{"name": "b", "type": ["null", "string"]}`
	x := `{"name": "x", "type": ["null", "int"]}`
	for _, tc := range []struct{ schema, substr string }{
		{schema(b, x), `MISSING_REQUIRED_COLUMN: NOT NULL column "items.a" has no field in the Avro schema`},
		{schema(`{"name": "a", "type": "int"}, `+b, x+`, {"name": "zz", "type": "int"}`), `FIELD_NOT_IN_TABLE: field "m.value.zz" is not a column of the table`},
		{schema(b+`, {"name": "a", "type": "int"}`, x), `FIELD_OUT_OF_ORDER: field "items.b" is at position 1, the table has it at 2`},
	} {
		st := openStream(t, cc, tok, table)
		st.send(avroCreateReq(table, tc.schema))
		wantStatus(t, st.drain(), codes.InvalidArgument, tc.substr)
	}
}

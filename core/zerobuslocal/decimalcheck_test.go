package zerobuslocal_test

import (
	"encoding/json"
	"math/big"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/linkedin/goavro/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// storedJSON returns the rows of table as protojson objects.
func storedJSON(t *testing.T, s *zerobuslocal.Server, table string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, r := range s.Rows(table) {
		b, err := protojson.Marshal(r.Message)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// DECIMAL text is stored as the service stores it: rounded half-up to the
// column's scale with exactly s fraction digits; a PROTO record whose
// DECIMAL (a column, a STRUCT field, an ARRAY element, a MAP value) is not
// a decimal number, or too large after rounding, is refused with the whole
// request, naming the record and the field.
func TestDecimalTextStoredRoundedOrRefused(t *testing.T) {
	const table = "main.default.decimals"
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(table, mustColumns(t, "id BIGINT NOT NULL, d DECIMAL(4,2), s STRUCT<d: DECIMAL(4,2)>, l ARRAY<DECIMAL(4,2)>, m MAP<STRING, DECIMAL(4,2)>")); err != nil {
		t.Fatal(err)
	}
	desc, ok := s.TableDescriptor(table)
	if !ok {
		t.Fatal("no descriptor")
	}
	entry := func(v string) func([]byte) []byte { return msgField(5, strField(1, "k"), strField(2, v)) }
	cc := dial(t, s)
	tok := token(t, s, table)
	good := rawEvent(1, strField(2, "1.235"), msgField(3, strField(1, "-1.235")), strField(4, "99.99"), strField(4, "7"), entry("0.001"))
	plain := rawEvent(2, strField(2, "12.50"))
	for _, tc := range []struct {
		name   string
		bad    []byte
		substr string
	}{
		{"column", rawEvent(3, strField(2, "abc")), `record 1 of 2: field "d": "abc" is not a number for the table's DECIMAL(4,2)`},
		{"too large after rounding", rawEvent(3, strField(2, "99.995")), `record 1 of 2: field "d": 99.995 does not fit the table's DECIMAL(4,2), which holds at most 2 digits before the point (values are rounded half-up to 2 places first); correct or filter the row, or give the column a larger precision`},
		{"STRUCT field", rawEvent(3, msgField(3, strField(1, "100"))), `record 1 of 2: field "s": field "d": 100 does not fit`},
		{"ARRAY element", rawEvent(3, strField(4, "1"), strField(4, "")), `record 1 of 2: field "l": "" is not a number`},
		{"MAP value", rawEvent(3, entry("1e3")), `record 1 of 2: field "m": field "value": 1e3 does not fit`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStream(t, cc, tok, table)
			st.create(table, desc, zerobuspb.RecordType_PROTO)
			st.send(batchReq(0, good, tc.bad))
			wantStatus(t, st.finish(), codes.InvalidArgument, tc.substr)
		})
	}
	if n := s.RecordCount(table); n != 0 {
		t.Fatalf("RecordCount: %d, want 0 (whole requests rejected)", n)
	}
	st := openStream(t, cc, tok, table)
	st.create(table, desc, zerobuspb.RecordType_PROTO)
	st.send(batchReq(0, good, plain))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"id": "1", "d": "1.24", "s": map[string]any{"d": "-1.24"}, "l": []any{"99.99", "7.00"}, "m": map[string]any{"k": "0.00"}},
		{"id": "2", "d": "12.50"},
	}
	if diff := cmp.Diff(want, storedJSON(t, s, table)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	// Raw records and the Arrow view agree with the messages.
	rec, err := s.ArrowBatch(table, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	// DECIMAL(4,2) reads back as decimal128(4,2) holding the stored text's value.
	if d, ok := rec.Column(1).(*array.Decimal128); !ok || d.Value(0).ToString(2) != "1.24" || d.Value(1).ToString(2) != "12.50" {
		t.Errorf("ArrowBatch d: %s %s", rec.Column(1).DataType(), rec.Column(1))
	}

	// JSON records: the same rule on the decoded record.
	st = openStream(t, cc, tok, table)
	st.create(table, nil, zerobuspb.RecordType_JSON)
	st.send(jsonReq(0, `{"id": 3, "d": "1.5"}`, `{"id": 4, "s": {"d": "x"}}`))
	wantStatus(t, st.finish(), codes.InvalidArgument, `record 1 of 2: field "s": field "d": "x" is not a number`)
	st = openStream(t, cc, tok, table)
	st.create(table, nil, zerobuspb.RecordType_JSON)
	st.send(jsonReq(0, `{"id": 3, "d": "-0.004", "l": ["1.5e1"]}`))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	if got := storedJSON(t, s, table); len(got) != 3 || !cmp.Equal(got[2], map[string]any{"id": "3", "d": "0.00", "l": []any{"15.00"}}) {
		t.Errorf("stored JSON row: %v", got)
	}
}

// Avro decimals (bytes of the unscaled value) whose value has more than
// p−s integer digits are refused; others are stored with s digits.
func TestAvroDecimalOutOfRange(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const table = "main.default.avro_decimals"
	if err := s.CreateTableColumns(table, mustColumns(t, "d DECIMAL(4,2)")); err != nil {
		t.Fatal(err)
	}
	schema := `{"type": "record", "name": "R", "fields": [{"name": "d", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 4, "scale": 2}]}]}`
	codec, err := goavro.NewCodec(schema)
	if err != nil {
		t.Fatal(err)
	}
	rec := func(unscaled int64) []byte {
		b, err := codec.BinaryFromNative(nil, map[string]any{"d": goavro.Union("bytes.decimal", big.NewRat(unscaled, 100))})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if got := storedAvroRecord(t, s, table, schema, rec(-123)); got["d"] != "-1.23" {
		t.Errorf("stored %v", got)
	}
	st := openStream(t, dial(t, s), token(t, s, table), table)
	st.send(avroCreateReq(table, schema))
	st.recv()
	st.send(avroBatchReq(0, rec(5), rec(12345)))
	wantStatus(t, st.finish(), codes.InvalidArgument, `record 1 of 2: field "d": 123.45 does not fit the table's DECIMAL(4,2)`)
	if n := s.RecordCount(table); n != 1 {
		t.Errorf("RecordCount %d, want 1", n)
	}
}

// Flight: the DECIMAL text of a batch is stored rounded; a batch holding
// text that cannot be stored is rejected whole, naming row and column.
func TestFlightDecimalText(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, "id BIGINT NOT NULL, d DECIMAL(4,2), s STRUCT<d: DECIMAL(4,2)>")); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "d", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "d", Type: arrow.BinaryTypes.LargeString, Nullable: true}), Nullable: true},
	}, nil)
	batch := func(ds, sds []string) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		sb := b.Field(2).(*array.StructBuilder)
		for i := range ds {
			b.Field(0).(*array.Int64Builder).Append(int64(i + 1))
			b.Field(1).(*array.LargeStringBuilder).Append(ds[i])
			sb.Append(true)
			sb.FieldBuilder(0).(*array.LargeStringBuilder).Append(sds[i])
		}
		return b.NewRecordBatch()
	}
	ok := batch([]string{"1.235", "99.99"}, []string{"0.5", "-99.994"})
	defer ok.Release()
	bad := batch([]string{"1", "2"}, []string{"3", "99.995"})
	defer bad.Release()
	f := openFlight(t, s, token(t, s, testTable), testTable)
	f.sendSchema(schema)
	f.expect(-1, 0)
	f.send(ok, 0)
	f.expect(0, 2)
	f.send(bad, 1)
	wantStatus(t, f.drain(), codes.InvalidArgument, `batch at offset 1: row 1: field "s": field "d": 99.995 does not fit the table's DECIMAL(4,2)`)
	want := []map[string]any{
		{"id": "1", "d": "1.24", "s": map[string]any{"d": "0.50"}},
		{"id": "2", "d": "99.99", "s": map[string]any{"d": "-99.99"}},
	}
	if diff := cmp.Diff(want, storedJSON(t, s, testTable)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

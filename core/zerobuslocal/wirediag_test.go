package zerobuslocal_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A record field sent with a wire type that does not fit its column (an
// INT column as a string, found by tests_py/test_official_sdk_random.py)
// is refused naming the field, its type and both wire types; it used to
// read "carries field numbers not in the descriptor", as Go's decoder keeps
// such a field as an unknown one. A field number the descriptor lacks is
// named by its number.
func TestWrongWireTypeNamesField(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	tok := token(t, s, testTable)
	bytesField := func(num protowire.Number, body []byte) func([]byte) []byte {
		return func(b []byte) []byte {
			b = protowire.AppendTag(b, num, protowire.BytesType)
			return protowire.AppendBytes(b, body)
		}
	}
	varintField := func(num protowire.Number, v uint64) func([]byte) []byte {
		return func(b []byte) []byte {
			b = protowire.AppendTag(b, num, protowire.VarintType)
			return protowire.AppendVarint(b, v)
		}
	}
	loc := func(fields ...func([]byte) []byte) func([]byte) []byte {
		var body []byte
		for _, f := range fields {
			body = f(body)
		}
		return bytesField(5, body)
	}
	good := rawEvent(1, strField(2, "ok"))
	tests := []struct {
		name   string
		bad    []byte
		substr string
	}{
		{"string as varint", rawEvent(2, varintField(2, 7)),
			`record 1 of 2: field "name" (number 2) is string, which is sent with wire type 2 (length-delimited), not wire type 0 (varint)`},
		{"struct field", rawEvent(2, loc(bytesField(1, []byte("x")))),
			`record 1 of 2: field "loc.lat" (number 1) is double, which is sent with wire type 1 (64-bit), not wire type 2 (length-delimited)`},
		{"unknown number", rawEvent(2, varintField(99, 1)),
			`record 1 of 2: field number 99 is not in the stream's descriptor Events`},
		{"unknown nested number", rawEvent(2, loc(varintField(9, 1))),
			`record 1 of 2: field "loc": field number 9 is not in the stream's descriptor Events.Loc`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStream(t, cc, tok, testTable)
			st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
			st.send(batchReq(0, good, tc.bad))
			wantStatus(t, st.finish(), codes.InvalidArgument, tc.substr)
		})
	}
	if n := s.RecordCount(testTable); n != 0 {
		t.Errorf("RecordCount: %d, want 0 (whole requests rejected)", n)
	}
}

// A JSON record of the wrong type is refused naming the column as the table
// does ("n_int"), not by its protojson name ("nInt"), and without
// protojson's "proto:" prefix, whose spacing (a space or U+00A0) varies
// between builds (found by tests_py/test_official_sdk_random.py).
func TestJSONErrorNamesColumn(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const table = "main.default.json_names"
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, n_int INT, st STRUCT<sub_field:INT>")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
	cc := dial(t, s)
	tok := token(t, s, table)
	for _, tc := range []struct{ rec, substr string }{
		{`{"id": 1, "n_int": "abc"}`, `record 1 of 2: JSON does not match table schema json_names: (line 1:20): invalid value for int32 field "n_int": "abc"`},
		{`{"id": 1, "st": {"sub_field": true}}`, `invalid value for int32 field "sub_field": true`},
	} {
		st := openStream(t, cc, tok, table)
		st.create(table, nil, zerobuspb.RecordType_JSON)
		st.send(jsonReq(0, `{"id": 0}`, tc.rec))
		err := st.finish()
		wantStatus(t, err, codes.InvalidArgument, tc.substr)
		if msg := status.Convert(err).Message(); strings.Contains(msg, "proto:") || strings.Contains(msg, "\u00a0") {
			t.Errorf("message %q: want no protojson prefix", msg)
		}
	}
}

package zerobuslocal_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// rawEvent encodes an events record by hand: id, then the given fields.
func rawEvent(id int64, fields ...func([]byte) []byte) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(id))
	for _, f := range fields {
		b = f(b)
	}
	return b
}

func strField(num protowire.Number, s string) func([]byte) []byte {
	return func(b []byte) []byte {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendString(b, s)
	}
}

func mapEntry(key string, v int64) func([]byte) []byte {
	return func(b []byte) []byte {
		e := protowire.AppendTag(nil, 1, protowire.BytesType)
		e = protowire.AppendString(e, key)
		e = protowire.AppendTag(e, 2, protowire.VarintType)
		e = protowire.AppendVarint(e, uint64(v))
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		return protowire.AppendBytes(b, e)
	}
}

// Invalid UTF-8 in a string field is rejected per record, naming it, as
// the service does (proto2 decoding alone would accept it).
func TestInvalidUTF8Rejected(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	tok := token(t, s, testTable)
	good := rawEvent(1, strField(2, "grüße ✓"), strField(3, "日本"), mapEntry("ключ", 5))
	tests := []struct {
		name   string
		bad    []byte
		substr string
	}{
		{"string column", rawEvent(2, strField(2, "a\xffb")), `record 1 of 2: field "name": string is not valid UTF-8`},
		{"array element", rawEvent(2, strField(3, "ok"), strField(3, "\xc3\x28")), `record 1 of 2: field "tags": string is not valid UTF-8`},
		{"map key", rawEvent(2, mapEntry("\xed\xa0\x80", 1)), `record 1 of 2: field "attrs": field "key": string is not valid UTF-8`},
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
	st := openStream(t, cc, tok, testTable)
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	st.send(recordReq(0, good))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	m := s.Rows(testTable)[0].Message
	if got := m.Get(m.Descriptor().Fields().ByName("name")).String(); got != "grüße ✓" {
		t.Errorf("stored name %q", got)
	}

	// JSON records too.
	st = openStream(t, cc, token(t, s, "main.default.j"), "main.default.j")
	st.create("main.default.j", nil, zerobuspb.RecordType_JSON)
	st.send(jsonReq(0, `{"a": "ok"}`, "{\"a\": \"\xff\"}"))
	wantStatus(t, st.finish(), codes.InvalidArgument, "record 1 of 2: the JSON text is not valid UTF-8")
}

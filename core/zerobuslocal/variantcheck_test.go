package zerobuslocal_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// msgField appends a length-delimited field holding the given fields.
func msgField(num protowire.Number, fields ...func([]byte) []byte) func([]byte) []byte {
	return func(b []byte) []byte {
		var m []byte
		for _, f := range fields {
			m = f(m)
		}
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendBytes(b, m)
	}
}

// A PROTO or JSON record whose VARIANT field (a column, a STRUCT field, an
// ARRAY element, a MAP value) holds text that is not one JSON document,
// or an object giving a key twice, is refused: the request is rejected
// whole with INVALID_ARGUMENT naming the record and the field, as for a
// string that is not UTF-8, and nothing is stored. A valid record is
// stored with its text.
func TestInvalidVariantTextRejected(t *testing.T) {
	const table = "main.default.variants"
	s := start(t, zerobuslocal.Options{})
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, v VARIANT, payload STRUCT<v: VARIANT>, vs ARRAY<VARIANT>, m MAP<STRING, VARIANT>")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
	desc, ok := s.TableDescriptor(table)
	if !ok {
		t.Fatal("no descriptor")
	}
	// Fields numbered from 1 in column order; the map entry is {1 key, 2 value}.
	const good = `{"a": [1, 2.5, "x", null]}`
	entry := func(v string) func([]byte) []byte { return msgField(5, strField(1, "k"), strField(2, v)) }
	goodRec := rawEvent(1, strField(2, good), msgField(3, strField(1, good)), strField(4, good), strField(4, "7"), entry(good))
	cc := dial(t, s)
	tok := token(t, s, table)
	for _, tc := range []struct {
		name   string
		bad    []byte
		substr string
	}{
		{"column", rawEvent(2, strField(2, "not json")), `record 1 of 2: field "v": VARIANT value is not valid JSON: invalid character 'o' in literal null`},
		{"two documents", rawEvent(2, strField(2, `{} {}`)), `record 1 of 2: field "v": VARIANT value is not valid JSON: invalid character '{' after top-level value`},
		{"empty", rawEvent(2, strField(2, ``)), `record 1 of 2: field "v": VARIANT value is not valid JSON: unexpected end of JSON input`},
		{"key twice", rawEvent(2, strField(2, `{"a": 1, "a": 2}`)), `record 1 of 2: field "v": VARIANT value: failed to parse JSON: disallowed duplicate key found: a`},
		{"STRUCT field", rawEvent(2, msgField(3, strField(1, `[1,`))), `record 1 of 2: field "payload": field "v": VARIANT value is not valid JSON`},
		{"ARRAY element", rawEvent(2, strField(4, good), strField(4, `tru`)), `record 1 of 2: field "vs": VARIANT value is not valid JSON`},
		{"MAP value", rawEvent(2, entry(`{"k": }`)), `record 1 of 2: field "m": map value: VARIANT value is not valid JSON`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStream(t, cc, tok, table)
			st.create(table, desc, zerobuspb.RecordType_PROTO)
			st.send(batchReq(0, goodRec, tc.bad))
			wantStatus(t, st.finish(), codes.InvalidArgument, tc.substr)
		})
	}
	if n := s.RecordCount(table); n != 0 {
		t.Fatalf("RecordCount: %d, want 0 (whole requests rejected)", n)
	}

	// JSON records: the same check on the decoded record.
	st := openStream(t, cc, tok, table)
	st.create(table, nil, zerobuspb.RecordType_JSON)
	st.send(jsonReq(0, `{"id": 1, "v": "{}"}`, `{"id": 2, "payload": {"v": "[1] x"}}`))
	wantStatus(t, st.finish(), codes.InvalidArgument, `record 1 of 2: field "payload": field "v": VARIANT value is not valid JSON: invalid character 'x' after top-level value`)
	if n := s.RecordCount(table); n != 0 {
		t.Fatalf("RecordCount after JSON: %d, want 0", n)
	}

	// Valid text everywhere is stored as sent.
	st = openStream(t, cc, tok, table)
	st.create(table, desc, zerobuspb.RecordType_PROTO)
	st.send(recordReq(0, goodRec))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	rows := s.Rows(table)
	if len(rows) != 1 {
		t.Fatalf("stored %d rows, want 1", len(rows))
	}
	m := rows[0].Message
	fds := m.Descriptor().Fields()
	if got := m.Get(fds.ByName("v")).String(); got != good {
		t.Errorf("stored v = %q, want %q", got, good)
	}
	if got := m.Get(fds.ByName("vs")).List(); got.Len() != 2 || got.Get(1).String() != "7" {
		t.Errorf("stored vs = %v", got)
	}
}

package zerobuslocal_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A STRUCT's fields are optional in the descriptor (the protocol's rule),
// but a record that leaves out a field the table declares NOT NULL inside a
// STRUCT (also a STRUCT element of an ARRAY or value of a MAP) is refused,
// naming the record and the field's path, as a null there is refused over
// Flight. The descriptor's nested labels stay optional.
func TestNestedNotNullFieldMissingRejected(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const table = "main.default.nested_nn"
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, addr STRUCT<zip:STRING NOT NULL, city:STRING>, " +
		"items ARRAY<STRUCT<sku:STRING NOT NULL, qty:INT>>, m MAP<STRING,STRUCT<x:INT NOT NULL>>")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
	desc, _ := s.TableDescriptor(table)
	for _, nt := range desc.GetNestedType() {
		for _, f := range nt.GetField() {
			if f.GetLabel() != 1 { // LABEL_OPTIONAL
				t.Fatalf("nested field %s.%s is %v, want optional (the protocol's STRUCT rule)", nt.GetName(), f.GetName(), f.GetLabel())
			}
		}
	}
	msg := func(fields ...func([]byte) []byte) []byte {
		var b []byte
		for _, f := range fields {
			b = f(b)
		}
		return b
	}
	sub := func(num protowire.Number, body []byte) func([]byte) []byte {
		return func(b []byte) []byte {
			b = protowire.AppendTag(b, num, protowire.BytesType)
			return protowire.AppendBytes(b, body)
		}
	}
	varint := func(num protowire.Number, v uint64) func([]byte) []byte {
		return func(b []byte) []byte {
			b = protowire.AppendTag(b, num, protowire.VarintType)
			return protowire.AppendVarint(b, v)
		}
	}
	id := func(v uint64) func([]byte) []byte { return varint(1, v) }
	zip := strField(1, "10115")
	city := strField(2, "Berlin")
	good := msg(id(1), sub(2, msg(zip, city)), sub(3, msg(strField(1, "a"), varint(2, 3))), sub(3, msg(strField(1, "b"))),
		sub(4, msg(strField(1, "k"), sub(2, msg(varint(1, 7))))))
	noStruct := msg(id(2)) // a null STRUCT is fine: its fields are not there to check

	tok := token(t, s, table)
	cc := dial(t, s)
	tests := []struct {
		name   string
		bad    []byte
		substr string
	}{
		{"struct field", msg(id(3), sub(2, msg(city))), `record 1 of 2: field "addr": field "zip": null in a NOT NULL field`},
		{"array element", msg(id(3), sub(3, msg(strField(1, "a"))), sub(3, msg(varint(2, 1)))), `record 1 of 2: field "items": field "sku": null in a NOT NULL field`},
		{"map value", msg(id(3), sub(4, msg(strField(1, "k"), sub(2, msg())))), `record 1 of 2: field "m": map value: field "x": null in a NOT NULL field`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStream(t, cc, tok, table)
			st.create(table, desc, zerobuspb.RecordType_PROTO)
			st.send(batchReq(0, good, tc.bad))
			wantStatus(t, st.finish(), codes.InvalidArgument, tc.substr)
		})
	}
	if n := s.RecordCount(table); n != 0 {
		t.Fatalf("RecordCount %d, want 0 (whole requests rejected)", n)
	}
	st := openStream(t, cc, tok, table)
	st.create(table, desc, zerobuspb.RecordType_PROTO)
	st.send(batchReq(0, good, noStruct))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	if n := s.RecordCount(table); n != 2 {
		t.Fatalf("RecordCount %d, want 2", n)
	}

	// JSON records are checked the same way.
	st = openStream(t, cc, tok, table)
	st.create(table, nil, zerobuspb.RecordType_JSON)
	st.send(jsonReq(0, `{"id": 5, "addr": {"zip": "1"}}`, `{"id": 6, "addr": {"city": "x"}}`))
	wantStatus(t, st.finish(), codes.InvalidArgument, `record 1 of 2: field "addr": field "zip": null in a NOT NULL field`)
}

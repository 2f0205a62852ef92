package zerobuslocal_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

func intField(num protowire.Number, v int64) func([]byte) []byte {
	return func(b []byte) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), uint64(v))
	}
}

func subMsg(num protowire.Number, fields ...func([]byte) []byte) func([]byte) []byte {
	return func(b []byte) []byte {
		var m []byte
		for _, f := range fields {
			m = f(m)
		}
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), m)
	}
}

func packedField(num protowire.Number, vals ...int64) func([]byte) []byte {
	return func(b []byte) []byte {
		var p []byte
		for _, v := range vals {
			p = protowire.AppendVarint(p, uint64(v))
		}
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), p)
	}
}

// TINYINT and SMALLINT columns travel as protobuf int32: a value outside
// the column's range (300 in a TINYINT) is refused with the request, as
// the service refuses it, naming the record, the field, the value and the
// type; also in a STRUCT field, an ARRAY's elements (packed or not), a
// MAP's values, and on a JSON stream. The boundary values are stored.
func TestSmallIntegerColumnsRefuseValuesOutsideTheirRange(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const table = "main.default.small_ints"
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, t TINYINT, s SMALLINT, st STRUCT<x: TINYINT>, l ARRAY<TINYINT>, m MAP<STRING, SMALLINT>, i INT")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
	desc, _ := s.TableDescriptor(table)
	cc := dial(t, s)
	tok := token(t, s, table)
	entry := func(v int64) func([]byte) []byte { return subMsg(6, strField(1, "k"), intField(2, v)) }
	good := rawEvent(1, intField(2, -128), intField(3, 32767), subMsg(4, intField(1, 127)), intField(5, 127), intField(5, -128), entry(-32768), intField(7, 1<<31-1))
	for _, tc := range []struct {
		name   string
		bad    []byte
		substr string
	}{
		{"TINYINT over", rawEvent(2, intField(2, 300)), `record 1 of 2: field "t": value 300 is outside the TINYINT range -128 to 127`},
		{"TINYINT under", rawEvent(2, intField(2, -129)), `field "t": value -129 is outside the TINYINT range`},
		{"SMALLINT", rawEvent(2, intField(3, 40000)), `field "s": value 40000 is outside the SMALLINT range -32768 to 32767`},
		{"STRUCT field", rawEvent(2, subMsg(4, intField(1, 128))), `field "st": field "x": value 128 is outside the TINYINT range`},
		{"ARRAY element", rawEvent(2, intField(5, 1), intField(5, 200)), `field "l": value 200 is outside the TINYINT range`},
		{"packed ARRAY element", rawEvent(2, packedField(5, 1, -200)), `field "l": value -200 is outside the TINYINT range`},
		{"MAP value", rawEvent(2, entry(-40000)), `field "m": field "value": value -40000 is outside the SMALLINT range`},
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
	st.send(recordReq(0, good))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	m := s.Rows(table)[0].Message
	fd := m.Descriptor().Fields()
	if tv, sv, lv := m.Get(fd.ByName("t")).Int(), m.Get(fd.ByName("s")).Int(), m.Get(fd.ByName("l")).List(); tv != -128 || sv != 32767 || lv.Len() != 2 || lv.Get(0).Int() != 127 || lv.Get(1).Int() != -128 {
		t.Errorf("stored %v", m)
	}

	st = openStream(t, cc, tok, table)
	st.create(table, nil, zerobuspb.RecordType_JSON)
	st.send(jsonReq(0, `{"id": 1, "t": 5}`, `{"id": 2, "st": {"x": -300}}`))
	wantStatus(t, st.finish(), codes.InvalidArgument, `record 1 of 2: field "st": field "x": value -300 is outside the TINYINT range`)
}

package zerobuslocal_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// The VARIANT, DECIMAL and TINYINT/SMALLINT checks reach their fields at
// any nesting: a MAP inside an ARRAY of STRUCT, a MAP's keys, a STRUCT
// that is a MAP's value. DECIMAL text there is stored rounded; a value
// that cannot be stored is refused with the request, naming the path.
func TestNestedVariantDecimalRangeFields(t *testing.T) {
	const table = "main.default.nested_checks"
	s := start(t, zerobuslocal.Options{})
	ddl := "id BIGINT NOT NULL, " +
		"a ARRAY<STRUCT<m: MAP<STRING, DECIMAL(4,2)>, v: VARIANT, k: MAP<TINYINT, SMALLINT>>>, " +
		"ms MAP<SMALLINT, STRUCT<t: TINYINT, d: DECIMAL(4,2), v: VARIANT>>"
	if err := s.CreateTableColumns(table, mustColumns(t, ddl)); err != nil {
		t.Fatal(err)
	}
	desc, ok := s.TableDescriptor(table)
	if !ok {
		t.Fatal("no descriptor")
	}
	// Fields numbered from 1 in column order (id 1, a 2, ms 3; a's STRUCT:
	// m 1, v 2, k 3; ms's STRUCT: t 1, d 2, v 3); a map entry is {1 key, 2 value}.
	elem := func(fields ...func([]byte) []byte) func([]byte) []byte { return subMsg(2, fields...) }
	decEntry := func(k, v string) func([]byte) []byte { return subMsg(1, strField(1, k), strField(2, v)) }
	msEntry := func(k int64, fields ...func([]byte) []byte) func([]byte) []byte {
		return subMsg(3, intField(1, k), subMsg(2, fields...))
	}
	good := rawEvent(1,
		elem(decEntry("x", "1.235"), strField(2, `{"a": 1}`), subMsg(3, intField(1, -128), intField(2, 32767))),
		elem(decEntry("y", "7")),
		msEntry(-32768, intField(1, 127), strField(2, "-9.995"), strField(3, "[1]")))
	cc := dial(t, s)
	tok := token(t, s, table)
	// send sends r on a new stream (PROTO records of desc; nil: JSON) and
	// returns how the stream ended, after the ack of offset 0 when ack.
	send := func(t *testing.T, desc *descriptorpb.DescriptorProto, r *req, ack bool) error {
		rt := zerobuspb.RecordType_JSON
		if desc != nil {
			rt = zerobuspb.RecordType_PROTO
		}
		st := openStream(t, cc, tok, table)
		st.create(table, desc, rt)
		st.send(r)
		if ack {
			st.expectAck(0)
		}
		return st.finish()
	}
	for _, tc := range []struct {
		name   string
		bad    []byte
		substr string
	}{
		{"DECIMAL in a MAP value in an ARRAY of STRUCT", rawEvent(2, elem(decEntry("x", "1")), elem(decEntry("x", "99.995"))),
			`record 1 of 2: field "a": field "m": field "value": 99.995 does not fit the table's DECIMAL(4,2)`},
		{"VARIANT in a STRUCT in an ARRAY", rawEvent(2, elem(strField(2, `{}`)), elem(strField(2, `{"a":`))),
			`record 1 of 2: field "a": field "v": VARIANT value is not valid JSON: unexpected end of JSON input`},
		{"TINYINT MAP key in an ARRAY of STRUCT", rawEvent(2, elem(subMsg(3, intField(1, 300), intField(2, 1)))),
			`record 1 of 2: field "a": field "k": field "key": value 300 is outside the TINYINT range -128 to 127`},
		{"SMALLINT MAP value in an ARRAY of STRUCT", rawEvent(2, elem(subMsg(3, intField(1, 1), intField(2, -32769)))),
			`record 1 of 2: field "a": field "k": field "value": value -32769 is outside the SMALLINT range -32768 to 32767`},
		{"SMALLINT MAP key", rawEvent(2, msEntry(40000)),
			`record 1 of 2: field "ms": field "key": value 40000 is outside the SMALLINT range -32768 to 32767`},
		{"TINYINT in a MAP's STRUCT value", rawEvent(2, msEntry(1, intField(1, -129))),
			`record 1 of 2: field "ms": field "value": field "t": value -129 is outside the TINYINT range -128 to 127`},
		{"DECIMAL in a MAP's STRUCT value", rawEvent(2, msEntry(1, strField(2, "x"))),
			`record 1 of 2: field "ms": field "value": field "d": "x" is not a number for the table's DECIMAL(4,2)`},
		{"VARIANT in a MAP's STRUCT value", rawEvent(2, msEntry(1, strField(3, "nul"))),
			`record 1 of 2: field "ms": map value: field "v": VARIANT value is not valid JSON`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, send(t, desc, batchReq(0, good, tc.bad), false), codes.InvalidArgument, tc.substr)
		})
	}
	if n := s.RecordCount(table); n != 0 {
		t.Fatalf("RecordCount: %d, want 0 (whole requests rejected)", n)
	}
	if err := send(t, desc, recordReq(0, good), true); err != nil {
		t.Fatal(err)
	}
	// JSON records: the same rules on the decoded record.
	wantStatus(t, send(t, nil, jsonReq(0, `{"id": 2, "a": [{"m": {"z": "0.125"}}]}`, `{"id": 3, "ms": {"5": {"t": 1000}}}`), false),
		codes.InvalidArgument, `record 1 of 2: field "ms": field "value": field "t": value 1000 is outside the TINYINT range -128 to 127`)
	if err := send(t, nil, jsonReq(0, `{"id": 2, "a": [{"m": {"z": "0.125"}}], "ms": {"-1": {"d": "-0.5"}}}`), true); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{
			"id": "1",
			"a": []any{
				map[string]any{"m": map[string]any{"x": "1.24"}, "v": `{"a": 1}`, "k": map[string]any{"-128": float64(32767)}},
				map[string]any{"m": map[string]any{"y": "7.00"}},
			},
			"ms": map[string]any{"-32768": map[string]any{"t": float64(127), "d": "-10.00", "v": "[1]"}},
		},
		{
			"id": "2",
			"a":  []any{map[string]any{"m": map[string]any{"z": "0.13"}}},
			"ms": map[string]any{"-1": map[string]any{"d": "-0.50"}},
		},
	}
	if diff := cmp.Diff(want, storedJSON(t, s, table)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

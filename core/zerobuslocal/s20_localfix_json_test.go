package zerobuslocal_test

import (
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A JSON record that is valid JSON but not an object (null among them) is
// refused, on a raw JSON table and on a table with a schema, naming the
// record's index and what it is in plain words; nothing of the request is
// stored. Text that is not JSON at all is refused as such on a raw table.
func TestJSONRecordMustBeObject(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	const raw, typed = "main.json.raw", "main.json.typed"
	if err := s.CreateTable(typed, eventsDesc()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rec, want string
		tables    []string
	}{
		{`null`, "record 1 of 2 is null; each record must be a JSON object", []string{raw, typed}},
		{" \t\r\n null \n", "record 1 of 2 is null; each record must be a JSON object", []string{raw, typed}},
		{`[{"id": 1}]`, "record 1 of 2 is a JSON array; each record must be a JSON object", []string{raw, typed}},
		{`"{}"`, "record 1 of 2 is a JSON string; each record must be a JSON object", []string{raw, typed}},
		{`-5e3`, "record 1 of 2 is a JSON number; each record must be a JSON object", []string{raw, typed}},
		{`false`, "record 1 of 2 is a JSON boolean; each record must be a JSON object", []string{raw, typed}},
		{`nul`, "record 1 of 2: not valid JSON: invalid character", []string{raw}},
		{`{"a": 1} x`, "record 1 of 2: not valid JSON: invalid character 'x' after top-level value", []string{raw}},
		{``, "record 1 of 2: not valid JSON: unexpected end of JSON input", []string{raw}},
	}
	for _, tc := range tests {
		for _, table := range tc.tables {
			t.Run(fmt.Sprintf("%s %q", table, tc.rec), func(t *testing.T) {
				before := s.RecordCount(table)
				st := openStream(t, cc, token(t, s, table), table)
				st.create(table, nil, zerobuspb.RecordType_JSON)
				st.send(jsonReq(0, `{"id": 1}`))
				st.expectAck(0)
				st.send(jsonReq(1, `{"id": 2}`, tc.rec))
				err := st.finish() // with the record accepted: a clean end
				wantStatus(t, err, codes.InvalidArgument, "ingest_record_batch at offset 1, "+tc.want)
				if msg := status.Convert(err).Message(); strings.Contains(msg, "Go value") || strings.Contains(msg, "map[") {
					t.Errorf("message names Go types: %q", msg)
				}
				if got := s.RecordCount(table) - before; got != 1 {
					t.Errorf("stored %d records, want 1 (the first request; none of the refused one)", got)
				}
			})
		}
	}
	for _, r := range s.Rows(raw) {
		if string(r.Raw) != `{"id": 1}` {
			t.Errorf("raw table row %d: %q, want only the objects sent first", r.Seq, r.Raw)
		}
	}
}

package zerobuslocal_test

import (
	"encoding/json"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestDropCountsDeletedRows: rows removed with their table (DropTable, the
// inspection API's DELETE) are counted in Stats.RowsDeleted, apart from the
// rows evicted by MaxStoredRows (before, they were counted nowhere, so
// records_stored - rows_dropped still counted rows no table held).
func TestDropCountsDeletedRows(t *testing.T) {
	s := start(t, zerobuslocal.Options{MaxStoredRows: 8})
	cc := dial(t, s)
	const other = "main.default.other"
	for _, table := range []string{testTable, other} {
		st := openStream(t, cc, token(t, s, table), table)
		st.create(table, eventsDesc(), zerobuspb.RecordType_PROTO)
		var recs [][]byte
		for i := range 5 {
			recs = append(recs, encode(t, event(t, int64(i), "n")))
		}
		st.send(batchReq(0, recs...))
		ackUpTo(t, st, 0)
		if err := st.finish(); err != nil {
			t.Fatal(err)
		}
	}
	// 10 rows sent, bound 8: two of testTable's were evicted.
	if got, got2 := s.RecordCount(testTable), s.RecordCount(other); got != 3 || got2 != 5 {
		t.Fatalf("rows kept: %d and %d, want 3 and 5", got, got2)
	}
	if !s.DropTable(testTable) {
		t.Fatal("DropTable = false")
	}
	code, _ := httpDo(t, nil, "DELETE", s.InspectURL()+"/tables/"+other, nil)
	if code != 204 {
		t.Fatalf("DELETE %s: %d, want 204", other, code)
	}
	st := s.Stats()
	if st.RecordsStored != 10 || st.RowsDropped != 2 || st.RowsDeleted != 8 {
		t.Fatalf("stats: records_stored %d rows_dropped %d rows_deleted %d, want 10 2 8", st.RecordsStored, st.RowsDropped, st.RowsDeleted)
	}
	code, body := httpDo(t, nil, "GET", s.InspectURL()+"/stats", nil)
	var js map[string]int64
	if err := json.Unmarshal(body, &js); code != 200 || err != nil || js["rows_deleted"] != 8 {
		t.Fatalf("GET /stats: %d %s (%v), want rows_deleted 8", code, body, err)
	}
}

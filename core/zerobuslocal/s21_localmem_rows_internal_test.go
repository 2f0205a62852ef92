package zerobuslocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"
)

// rowsServer is a started server holding table main.mem.rows (id BIGINT
// NOT NULL, name STRING) with blocks of the given sizes stored through
// store, ids from 0 in arrival order, under MaxStoredRows maxRows.
func rowsServer(t *testing.T, maxRows int, sizes ...int) (*Server, *table) {
	t.Helper()
	s, err := Start(t.Context(), Options{MaxStoredRows: maxRows})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	cols, err := ParseColumns("id BIGINT NOT NULL, name STRING")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns("main.mem.rows", cols); err != nil {
		t.Fatal(err)
	}
	tb := s.tables["main.mem.rows"]
	src := &source{streamID: "stream-test", md: tb.md, tableMD: tb.md, v: tb.validator}
	id := 0
	var a arena
	for off, n := range sizes {
		recs := make([][]byte, n)
		for i := range recs {
			var r []byte
			r = protowire.AppendTag(r, 1, protowire.VarintType)
			r = protowire.AppendVarint(r, uint64(id))
			r = protowire.AppendTag(r, 2, protowire.BytesType)
			r = protowire.AppendString(r, fmt.Sprintf("name <%d> & \"%d\"", id, id%7)) // HTML-escaped and quoted in JSON
			recs[i] = r
			id++
		}
		b := &block{src: src, offset: int64(off)}
		b.buf, b.spans = a.copyRecords(recs)
		s.store(tb, b)
	}
	return s, tb
}

// wantRowsJSON is what GET .../rows answered before it was streamed: the
// RowJSON of every row of Rows, encoded as one array.
func wantRowsJSON(t *testing.T, s *Server, name string) []byte {
	t.Helper()
	rows := s.Rows(name)
	out := make([]RowJSON, len(rows))
	for i, row := range rows {
		rj, err := rowJSON(row)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = rj
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(out); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// noDecodedKept fails if a block of tb keeps decoded messages.
func noDecodedKept(t *testing.T, s *Server, tb *table, after string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, b := range tb.blocks {
		if b.msgs != nil {
			t.Errorf("after %s: block %d keeps %d decoded messages, want none", after, i, len(b.msgs))
		}
	}
}

// TestRowsAnswerStreamedAndNotKept: GET .../rows of a table large enough to
// be decoded on several goroutines (many pieces, a first block partly
// evicted) answers the same bytes as the whole array did, in order; and
// neither it nor Rows nor ArrowBatch leaves decoded messages on the stored
// blocks (before, the first read cached them, about 9 times the raw size,
// for as long as the rows were kept).
func TestRowsAnswerStreamedAndNotKept(t *testing.T) {
	sizes := []int{3000, 1, 2500, 0, 4000, 1024, 1025, 700}
	total := 0
	for _, n := range sizes {
		total += n
	}
	keep := total - 1234 // evicts the first block's first 1234 rows
	s, tb := rowsServer(t, keep, sizes...)
	if tb.skip != 1234 || tb.count != keep {
		t.Fatalf("table: skip %d count %d, want 1234 %d", tb.skip, tb.count, keep)
	}

	resp, err := http.Get(s.InspectURL() + "/tables/main.mem.rows/rows")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET rows: %d %q, want 200 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	noDecodedKept(t, s, tb, "GET rows")
	var rows []RowJSON
	if err := json.Unmarshal(got, &rows); err != nil {
		t.Fatalf("GET rows: not a JSON array: %v", err)
	}
	if len(rows) != keep {
		t.Fatalf("GET rows: %d rows, want %d", len(rows), keep)
	}
	for i, r := range rows {
		var rec struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		}
		if err := json.Unmarshal(r.Record, &rec); err != nil {
			t.Fatalf("row %d record %s: %v", i, r.Record, err)
		}
		id := 1234 + i
		if wantName := fmt.Sprintf("name <%d> & \"%d\"", id, id%7); rec.ID != fmt.Sprint(id) || rec.Name != wantName || r.Seq != int64(id+1) {
			t.Fatalf("row %d: id %q name %q seq %d, want %d %q %d", i, rec.ID, rec.Name, r.Seq, id, wantName, id+1)
		}
	}
	if want := wantRowsJSON(t, s, "main.mem.rows"); !bytes.Equal(got, want) {
		t.Errorf("GET rows: %d bytes differing from the whole-array answer (%d bytes)", len(got), len(want))
	}
	noDecodedKept(t, s, tb, "Rows")

	rec, err := s.ArrowBatch("main.mem.rows", memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	ids := rec.Column(0).(*array.Int64)
	if ids.Len() != keep || ids.Value(0) != 1234 || ids.Value(keep-1) != int64(total-1) {
		t.Fatalf("ArrowBatch ids: %d rows, first %d last %d; want %d, 1234, %d", ids.Len(), ids.Value(0), ids.Value(keep-1), keep, total-1)
	}
	noDecodedKept(t, s, tb, "ArrowBatch")

	// An empty table answers [] as before.
	if err := s.CreateTable("main.mem.empty", tb.desc); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeRowsJSON(&buf, s.tables["main.mem.empty"].snapshot()); err != nil || buf.String() != "[]\n" {
		t.Fatalf("empty table: %q %v, want \"[]\\n\"", buf.String(), err)
	}
}

// failingWriter fails from its nth write on.
type failingWriter struct {
	n   int
	buf bytes.Buffer
}

var errWriterGone = errors.New("client gone")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n <= 0 {
		return 0, errWriterGone
	}
	w.n--
	return w.buf.Write(p)
}

// TestRowsAnswerStopsOnWriteError: a client that goes away mid-answer ends
// the writing with its error (its workers are done when it returns), after
// the pieces written so far.
func TestRowsAnswerStopsOnWriteError(t *testing.T) {
	s, tb := rowsServer(t, 0, 20000)
	w := &failingWriter{n: 3} // "[" and two pieces
	s.mu.Lock()
	br := tb.snapshot()
	s.mu.Unlock()
	if err := writeRowsJSON(w, br); !errors.Is(err, errWriterGone) {
		t.Fatalf("writeRowsJSON: %v, want the writer's error", err)
	}
	var rows []RowJSON
	if err := json.Unmarshal(append(w.buf.Bytes(), ']'), &rows); err != nil || len(rows) != 2*decodePieceRows {
		t.Fatalf("written before the error: %d rows (%v), want %d", len(rows), err, 2*decodePieceRows)
	}
}

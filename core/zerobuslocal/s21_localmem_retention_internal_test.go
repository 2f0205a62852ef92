package zerobuslocal

import (
	"fmt"
	"testing"
)

// retentionServer is a Server with only what appendBlock and forget use.
func retentionServer(maxRows int) *Server {
	return &Server{opts: &Options{MaxStoredRows: maxRows}, tables: map[string]*table{}}
}

// rawBlock is a block of n rows of a raw JSON table (no decoding needed).
func rawBlock(n int) *block {
	return &block{src: &source{}, buf: make([]byte, n), spans: make([]span, n), json: true}
}

// queued counts the retention queue's live entries per table name.
func queued(s *Server) map[string]int {
	out := map[string]int{}
	for _, e := range s.retained.queue[s.retained.head:] {
		out[e.t.name]++
	}
	return out
}

// TestDropTableLeavesNothingQueued: DropTable takes the table's blocks off
// the retention queue (before, the queue kept them, and their memory, until
// eviction reached them, which never happened while drops kept the row
// count under the bound), and rows of the other tables are still evicted
// oldest first with exact counts.
func TestDropTableLeavesNothingQueued(t *testing.T) {
	s := retentionServer(100)
	tabs := map[string]*table{}
	for _, n := range []string{"a.b.one", "a.b.two", "a.b.three"} {
		tabs[n] = &table{name: n}
		s.tables[n] = tabs[n]
	}
	one, two, three := tabs["a.b.one"], tabs["a.b.two"], tabs["a.b.three"]
	// Interleaved: one, two, one, two, one (10 rows each).
	var twoBlocks []*block
	for i := range 5 {
		tb := one
		if i%2 == 1 {
			tb = two
		}
		b := rawBlock(10)
		if tb == two {
			twoBlocks = append(twoBlocks, b)
		}
		s.store(tb, b)
	}
	if !s.DropTable("a.b.one") {
		t.Fatal("DropTable(a.b.one) = false")
	}
	if got := queued(s); got["a.b.one"] != 0 || got["a.b.two"] != 2 || len(got) != 1 {
		t.Fatalf("queue after the drop: %v, want only a.b.two's 2 blocks", got)
	}
	if s.retained.rows != 20 {
		t.Fatalf("retained rows after the drop: %d, want 20 (a.b.two's)", s.retained.rows)
	}
	for i := len(s.retained.queue); i < cap(s.retained.queue); i++ {
		if e := s.retained.queue[:cap(s.retained.queue)][i]; e.t != nil || e.b != nil {
			t.Fatalf("queue slot %d past the end still holds table %q", i, e.t.name)
		}
	}

	// 95 more rows to a.b.three: 115 > 100, so the 15 oldest rows of the
	// server go: a.b.two's first block (10) and 5 rows of its second.
	s.store(three, rawBlock(95))
	if two.count != 5 || two.evicted != 15 || three.count != 95 || three.evicted != 0 {
		t.Fatalf("after eviction: two count %d evicted %d, three count %d evicted %d; want 5 15 95 0",
			two.count, two.evicted, three.count, three.evicted)
	}
	if len(two.blocks) != 1 || two.blocks[0] != twoBlocks[1] || two.skip != 5 {
		t.Fatalf("a.b.two keeps %d blocks, skip %d; want its second block with 5 rows skipped", len(two.blocks), two.skip)
	}
	if got := s.stats.rowsDropped.Load(); got != 15 {
		t.Fatalf("rows dropped: %d, want 15 (the dropped table's rows are not evictions)", got)
	}
	if s.retained.rows != 100 || fmt.Sprint(queued(s)) != "map[a.b.three:1 a.b.two:1]" {
		t.Fatalf("retained rows %d, queue %v; want 100 and one block each of two and three", s.retained.rows, queued(s))
	}
}

// TestDropCyclesStayBounded: creating a table, filling it and dropping it,
// over and over under MaxStoredRows, leaves the queue empty each time
// (before, it grew by every dropped table's blocks).
func TestDropCyclesStayBounded(t *testing.T) {
	s := retentionServer(1000)
	for cycle := range 50 {
		name := fmt.Sprintf("a.b.t%d", cycle)
		tb := &table{name: name}
		s.tables[name] = tb
		for range 8 {
			s.store(tb, rawBlock(50))
		}
		if !s.DropTable(name) {
			t.Fatalf("cycle %d: DropTable = false", cycle)
		}
		if n := len(s.retained.queue) - s.retained.head; n != 0 || s.retained.rows != 0 {
			t.Fatalf("cycle %d: %d blocks queued, %d rows counted after the drop; want 0 and 0", cycle, n, s.retained.rows)
		}
	}
	if got := s.stats.rowsDropped.Load(); got != 0 {
		t.Fatalf("rows dropped by MaxStoredRows: %d, want 0 (never over the bound)", got)
	}
}

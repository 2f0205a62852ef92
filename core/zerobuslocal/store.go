package zerobuslocal

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// Storage: every accepted request message becomes one block. A block keeps
// the raw records in one buffer: the received message itself when
// serverCodec parsed it without copying, else a range of its stream's arena
// (no allocation per record either way). PROTO, Avro and Flight records
// are decoded into dynamic messages only when a read asks (Rows, ArrowBatch
// for a stream whose descriptor is not the table's, GET .../rows), and the
// decoded messages are the reader's: nothing keeps them, since they take
// about 9 times the raw size. Records were fully validated on ingest, so
// decoding cannot fail. Only JSON records keep the messages decoded on
// ingest (msgs), which hold the values as the table stores them.

// source is what the blocks of one RPC share.
type source struct {
	streamID string
	// md is the descriptor PROTO records are encoded with; tableMD the
	// table's. When they differ, decoded messages are copied by name.
	md, tableMD protoreflect.MessageDescriptor
	v           *protoarrow.Validator // validated the records, against md
}

type block struct {
	src      *source
	offset   int64 // wire offset of the request message
	firstSeq int64 // Seq of record 0
	json     bool
	buf      []byte // holds the records (and maybe protobuf framing)
	spans    []span // record i is buf[spans[i].start:spans[i].end]

	msgs []*dynamicpb.Message // JSON records decoded on ingest (nil entries for raw JSON tables); nil otherwise
}

func (b *block) len() int { return len(b.spans) }

func (b *block) record(i int) []byte {
	s := b.spans[i]
	return b.buf[s.start:s.end:s.end]
}

// row is record i as a Row, without its Message (see message).
func (b *block) row(i int) Row {
	return Row{StreamID: b.src.streamID, Offset: b.offset, Index: i, Seq: b.firstSeq + int64(i), Raw: b.record(i), JSON: b.json}
}

// message returns record i decoded with the table's descriptor (nil for a
// raw JSON table): the one kept from ingest, or a new one the caller owns.
func (b *block) message(i int) *dynamicpb.Message {
	if b.msgs != nil {
		return b.msgs[i]
	}
	if b.src.tableMD == nil || b.json {
		return nil
	}
	m, err := decodeRecord(b.src, b.record(i))
	if err != nil {
		// Validated on ingest: this is a bug, not bad input.
		panic(fmt.Sprintf("zerobuslocal: stored record %d of stream %s offset %d no longer decodes: %v", i, b.src.streamID, b.offset, err))
	}
	return m
}

// decodeRecord decodes one validated PROTO record into a message of the
// table's descriptor.
func decodeRecord(src *source, rec []byte) (*dynamicpb.Message, error) {
	m, err := src.v.Decode(rec)
	if err != nil || src.md == src.tableMD {
		return m, err
	}
	out := dynamicpb.NewMessage(src.tableMD)
	copyByName(out, m)
	return out, nil
}

// A read of at least parallelReadRows rows is decoded on readWorkers
// goroutines, decodePieceRows rows at a time.
const (
	parallelReadRows = 8192
	decodePieceRows  = 1024
)

// readWorkers is how many goroutines decode a large read.
func readWorkers() int { return min(runtime.GOMAXPROCS(0), 8) }

// inParallel calls fn(k) for every k in [0, n): on readWorkers goroutines
// when parallel, else in order on this one.
func inParallel(n int, parallel bool, fn func(k int)) {
	workers := min(readWorkers(), n)
	if !parallel || workers < 2 {
		for k := range n {
			fn(k)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := int(next.Add(1) - 1); k < n; k = int(next.Add(1) - 1) {
				fn(k)
			}
		}()
	}
	wg.Wait()
}

// piece is rows from..to-1 of one block: the unit a large read is split
// into, so that its decoding runs on several goroutines.
type piece struct {
	b        *block
	from, to int
}

// pieces splits the rows of br into pieces of at most n rows, in order.
func (br blockRange) pieces(n int) []piece {
	var out []piece
	for bi, b := range br.blocks {
		from := 0
		if bi == 0 {
			from = br.skip
		}
		for ; from < b.len(); from += n {
			out = append(out, piece{b, from, min(from+n, b.len())})
		}
	}
	return out
}

// Arena chunk sizes: a stream's first chunk is small so that many short
// streams stay cheap; chunks double up to maxChunk. Blocks bigger than half
// a chunk get a buffer of their own.
const (
	minChunk = 4 << 10
	maxChunk = 4 << 20
)

// arena hands out append-only byte ranges; owned by one RPC goroutine.
type arena struct {
	chunk []byte
}

// copyRecords copies records back to back into arena memory and returns
// the buffer and their spans in it.
func (a *arena) copyRecords(records [][]byte) ([]byte, []span) {
	total := 0
	for _, r := range records {
		total += len(r)
	}
	var buf []byte
	switch {
	case total > maxChunk/2:
		buf = make([]byte, 0, total)
	default:
		if cap(a.chunk)-len(a.chunk) < total {
			size := min(maxChunk, max(minChunk, 2*cap(a.chunk)))
			for size < total {
				size *= 2
			}
			a.chunk = make([]byte, 0, size)
		}
		start := len(a.chunk)
		a.chunk = a.chunk[:start+total]
		buf = a.chunk[start : start : start+total]
	}
	spans := make([]span, len(records))
	for i, r := range records {
		start := uint32(len(buf))
		buf = append(buf, r...)
		spans[i] = span{start, uint32(len(buf))}
	}
	return buf, spans
}

// blockRange is a snapshot of the blocks of a table: rows first..first+n of
// the concatenation.
type blockRange struct {
	blocks []*block
	skip   int // rows of blocks[0] already dropped
	count  int
}

func (t *table) snapshot() blockRange {
	return blockRange{blocks: append([]*block(nil), t.blocks...), skip: t.skip, count: t.count}
}

// each calls fn for every row of the range in order.
func (br blockRange) each(fn func(b *block, i int)) {
	for bi, b := range br.blocks {
		i := 0
		if bi == 0 {
			i = br.skip
		}
		for ; i < b.len(); i++ {
			fn(b, i)
		}
	}
}

// Retention (Options.MaxStoredRows) is global: the server keeps every
// stored block in one arrival-order queue (retained) and, when the rows of
// all tables together exceed the bound, drops the oldest rows first,
// whatever their table, so memory is bounded however many tables there are.
// A quiet table may be emptied by busy ones; its evicted rows are counted
// (table.evicted, Stats.RowsDropped).

// retainedBlock is one stored block in arrival order.
type retainedBlock struct {
	t *table
	b *block
}

// retention is the server's arrival-order queue of stored blocks (s.mu).
type retention struct {
	queue []retainedBlock
	head  int // queue[:head] are gone
	rows  int // rows stored in all tables (while MaxStoredRows > 0)
}

// appendBlock adds b to t (s.mu held) and, over the server's
// MaxStoredRows, drops the oldest rows of the server.
func (s *Server) appendBlock(t *table, b *block) {
	b.firstSeq = s.seq + 1
	s.seq += int64(b.len())
	t.blocks = append(t.blocks, b)
	t.count += b.len()
	limit := s.opts.MaxStoredRows
	if limit <= 0 {
		return
	}
	rt := &s.retained
	rt.queue = append(rt.queue, retainedBlock{t, b})
	rt.rows += b.len()
	for rt.rows > limit && rt.head < len(rt.queue) {
		e := rt.queue[rt.head]
		if len(e.t.blocks) == 0 || e.t.blocks[0] != e.b {
			// Not its table's oldest block: a guard only (forget takes a
			// dropped table's blocks off the queue).
			rt.queue[rt.head] = retainedBlock{}
			rt.head++
			continue
		}
		left := e.b.len() - e.t.skip
		drop := min(left, rt.rows-limit)
		rt.rows -= drop
		e.t.count -= drop
		e.t.evicted += int64(drop)
		s.stats.rowsDropped.Add(int64(drop))
		if drop < left {
			e.t.skip += drop
			break
		}
		e.t.skip = 0
		e.t.blocks[0] = nil
		e.t.blocks = e.t.blocks[1:]
		if cap(e.t.blocks) > 64 && len(e.t.blocks) < cap(e.t.blocks)/4 {
			e.t.blocks = append([]*block(nil), e.t.blocks...)
		}
		rt.queue[rt.head] = retainedBlock{}
		rt.head++
	}
	if rt.head > 1024 && rt.head > len(rt.queue)/2 {
		rt.queue = append([]retainedBlock(nil), rt.queue[rt.head:]...)
		rt.head = 0
	}
}

// forget takes the rows of a dropped table off the table and, with
// MaxStoredRows, off the retention queue and count (s.mu held), so that
// nothing the server keeps still holds the table's blocks: a snapshot a
// concurrent read took (Rows, ArrowBatch) keeps them until it is done.
func (s *Server) forget(t *table) {
	s.stats.rowsDeleted.Add(int64(t.count))
	if s.opts.MaxStoredRows > 0 {
		rt := &s.retained
		rt.rows -= t.count
		live := rt.queue[:rt.head]
		for _, e := range rt.queue[rt.head:] {
			if e.t != t {
				live = append(live, e)
			}
		}
		clear(rt.queue[len(live):])
		rt.queue = rt.queue[:len(live)]
	}
	t.blocks, t.skip, t.count = nil, 0, 0
}

package convert

import (
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// Batch is the result of encoding one record batch.
//
// # Buffers and their lifetime
//
// The records live in the encoder's chunk buffers, each record preceded by
// its ProtoEncodedRecordBatch framing (tag and length), so that Frames can
// hand any run of records to the network as a request body without copying
// them. The chunk buffers and the Records and Rows arrays are regions of
// the encoder's arena, outside the Go heap (see arena.go). A Batch holds
// one reference when Encode returns it; Retain adds one and Release drops
// one. When the last is dropped the regions go back to the arena for later
// Encode calls, so that nothing of the Batch may be used after that. A
// Batch that is never released gives its regions back once the garbage
// collector finds it unreachable (a cleanup): releasing is an optimisation,
// never required. Because the regions are not Go memory, Records, Rows and
// the records' bytes are valid only while the Batch itself is reachable:
// keep the Batch (not only its slices) while using them, and copy what must
// outlive it.
type Batch struct {
	// Records are the encoded records of the rows that succeeded, in row
	// order. Each is a slice (capacity = length) of a chunk buffer owned by
	// the Batch; nothing else writes to it until the last Release.
	Records [][]byte
	// Rows[i] is the index, in the batch given to Encode, of the row encoded
	// as Records[i].
	Rows []int
	// Errors are the rows that could not be encoded, in row order.
	Errors []*RowError
	// Bytes is the sum of len(Records[i]).
	Bytes int

	chunks []batchChunk
	refs   atomic.Int32
	// own holds the arena regions of Records, Rows and the chunks; the
	// Batch's cleanup returns them if it is never released.
	own *owned
}

// batchChunk is one worker's output: its buffer of framed records (back to
// back) and the index in Records of its first record.
type batchChunk struct {
	buf   []byte
	first int
}

var batchPool = sync.Pool{New: func() any {
	b := &Batch{own: new(owned)}
	// A Batch never released returns its regions once it is unreachable.
	runtime.AddCleanup(b, (*owned).release, b.own)
	return b
}}

// newBatch assembles the workers' outputs; the scratches move to the Batch.
func newBatch(ws []worker, rows int) *Batch {
	b := batchPool.Get().(*Batch)
	b.refs.Store(1)
	nerr := 0
	for k := range ws {
		nerr += len(ws[k].errs)
		b.Bytes += ws[k].bytes
	}
	if nerr > 0 {
		b.Errors = make([]*RowError, 0, nerr)
	}
	if rows == nerr {
		for k := range ws {
			b.Errors = append(b.Errors, ws[k].errs...)
			ws[k].sc.put()
		}
		return b
	}
	// Records and Rows share one region; the frame lengths are not needed
	// once the records are found (a record's frame ends where its bytes do).
	n := rows - nerr
	meta := arena.get(n * int(unsafe.Sizeof([]byte(nil))+unsafe.Sizeof(int(0))))
	b.own.add(meta)
	p := unsafe.Pointer(unsafe.SliceData(meta.mem))
	b.Records = unsafe.Slice((*[]byte)(p), n)[:0]
	b.Rows = unsafe.Slice((*int)(unsafe.Add(p, n*int(unsafe.Sizeof([]byte(nil))))), n)[:0]
	for k := range ws {
		w := &ws[k]
		b.own.add(w.sc.bufR)
		b.chunks = append(b.chunks, batchChunk{buf: w.sc.buf, first: len(b.Records)})
		buf, prev := w.sc.buf, 0
		base := unsafe.Pointer(unsafe.SliceData(buf))
		for r := w.lo; r < w.hi; r++ {
			n := w.sc.lens[r-w.lo]
			if n < 0 {
				continue
			}
			end := prev + int(n)
			body := prev + framing(buf[prev:end])
			// unsafe.Slice keeps the record's address even when it is
			// empty (buf[body:end:end] would not), for frameEnd.
			b.Records = append(b.Records, unsafe.Slice((*byte)(unsafe.Add(base, body)), end-body))
			b.Rows = append(b.Rows, r)
			prev = end
		}
		b.Errors = append(b.Errors, w.errs...)
		arena.put(w.sc.lensR)
	}
	return b
}

// framing returns the length of the tag and length that start a framed
// record (the varint's last byte is the first below 0x80).
func framing(frame []byte) int {
	k := 2
	for frame[k-1] >= 0x80 {
		k++
	}
	return k
}

// Frames returns Records[i:j] as the body of one ProtoEncodedRecordBatch
// (each record preceded by its field tag and length, back to back), in as
// many byte slices as the records span chunk buffers (one, usually). The
// slices alias the Batch's buffers: the same lifetime rules apply.
func (b *Batch) Frames(i, j int) [][]byte {
	var out [][]byte
	for k, c := range b.chunks {
		next := len(b.Records)
		if k+1 < len(b.chunks) {
			next = b.chunks[k+1].first
		}
		lo, hi := max(i, c.first), min(j, next)
		if lo >= hi {
			continue
		}
		start := b.frameEnd(c, lo) - framedSize(len(b.Records[lo]))
		end := b.frameEnd(c, hi-1)
		out = append(out, c.buf[start:end:end])
	}
	return out
}

// frameEnd is the end offset of record i's frame in chunk c's buffer: where
// the record's bytes end.
func (b *Batch) frameEnd(c batchChunk, i int) int {
	r := b.Records[i]
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(r)))-uintptr(unsafe.Pointer(unsafe.SliceData(c.buf)))) + len(r)
}

// framedSize is the size of a record of n bytes with its framing.
func framedSize(n int) int { return 1 + protowire.SizeVarint(uint64(n)) + n }

// FramedSize returns the size of Frames(i, j) in bytes.
func (b *Batch) FramedSize(i, j int) int {
	n := 0
	for _, r := range b.Records[i:j] {
		n += framedSize(len(r))
	}
	return n
}

// Retain adds a reference to the Batch's buffers. Safe for concurrent use.
func (b *Batch) Retain() { b.refs.Add(1) }

// Release drops a reference; the last one returns the buffers to the arena
// (see Batch). Releasing more often than retained (plus the one from
// Encode) panics. Safe for concurrent use.
func (b *Batch) Release() {
	switch n := b.refs.Add(-1); {
	case n > 0:
		return
	case n < 0:
		panic("convert: Batch released more often than retained")
	}
	if b.own == nil {
		return // an empty batch's Batch, not from the pool
	}
	b.own.release()
	clear(b.chunks)
	clear(b.Errors)
	*b = Batch{chunks: b.chunks[:0], own: b.own}
	batchPool.Put(b)
}

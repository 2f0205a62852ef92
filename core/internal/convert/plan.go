package convert

import (
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Plan converts record batches of one Arrow schema into protobuf records of
// one message type. It is immutable once built and safe for concurrent use
// by any number of goroutines.
type Plan struct {
	schema *arrow.Schema
	desc   *descriptorpb.DescriptorProto
	md     protoreflect.MessageDescriptor
	cols   []*node
	opts   Options

	// from says which batch column each of cols reads (-1: none, the node
	// is allNull); nil: cols[c] reads column c (Options.TableFields).
	from []int
}

func newPlan(schema *arrow.Schema, desc *descriptorpb.DescriptorProto, md protoreflect.MessageDescriptor, cols []*node, opts Options) *Plan {
	for _, n := range cols {
		setTags(n)
	}
	return &Plan{schema: schema, desc: desc, md: md, cols: cols, opts: opts}
}

// setTags precomputes the field tag of every node.
func setTags(n *node) {
	if n == nil {
		return
	}
	n.tag = protowire.EncodeTag(n.num, wireType(n.ptype))
	setTags(n.inner)
	setTags(n.elem)
	setTags(n.key)
	setTags(n.val)
	for _, c := range n.fields {
		setTags(c)
	}
}

// buildMessageDescriptor validates msg as the only message of a proto2 file
// without a package, which is how the Zerobus server reads it.
func buildMessageDescriptor(msg *descriptorpb.DescriptorProto) (protoreflect.MessageDescriptor, error) {
	fdp := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("zerobus_record.proto"),
		Syntax:      proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{msg},
	}
	fd, err := protodesc.NewFile(fdp, new(protoregistry.Files))
	if err != nil {
		return nil, err
	}
	return fd.Messages().Get(0), nil
}

// Schema returns the Arrow schema the plan encodes.
func (p *Plan) Schema() *arrow.Schema { return p.schema }

// Descriptor returns the self-contained proto2 message descriptor to send in
// CreateIngestStreamRequest.descriptor_proto. The caller must not modify it.
func (p *Plan) Descriptor() *descriptorpb.DescriptorProto { return p.desc }

// MessageDescriptor returns Descriptor resolved as the only message of a
// proto2 file without a package, ready for dynamicpb.
func (p *Plan) MessageDescriptor() protoreflect.MessageDescriptor { return p.md }

// Encode converts every row of rec into one protobuf record. Rows that
// cannot be encoded are reported in Batch.Errors and do not stop the others.
// The error is non-nil only when rec's schema does not match the plan's
// (ErrSchemaMismatch: same column names and types are required; nullability
// and metadata may differ) or when the Arrow data is malformed
// (ErrInvalidData).
//
// Encode reads rec only during the call and does not retain or release it:
// the caller keeps ownership. The Batch's buffers come from the encoder's
// arena (see doc.go, Memory); the caller may hand them back with
// Batch.Release once nothing uses them. Large batches (at least 2*4096 rows) are split
// into chunks encoded on up to Options.Parallelism goroutines; Encode
// returns only after all of them finish. Safe for concurrent use.
func (p *Plan) Encode(rec arrow.RecordBatch) (*Batch, error) {
	if rec == nil {
		return nil, fmt.Errorf("%w: record batch is nil", ErrSchemaMismatch)
	}
	if err := p.checkSchema(rec.Schema()); err != nil {
		return nil, err
	}
	rows := int(rec.NumRows())
	if rows == 0 {
		b := &Batch{}
		b.refs.Store(1)
		return b, nil
	}
	n := chunkCount(rows, p.opts.parallelism())
	if n > 1 {
		for _, col := range rec.Columns() {
			warmNullCounts(col, 0)
		}
	}
	ws := make([]worker, n)
	var wg sync.WaitGroup
	for k := range ws {
		w := &ws[k]
		w.lo, w.hi = rows*k/n, rows*(k+1)/n
		if k == n-1 {
			w.run(p, rec)
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run(p, rec)
		}()
	}
	wg.Wait()
	for k := range ws {
		if err := ws[k].err; err != nil {
			for i := range ws {
				ws[i].sc.put()
			}
			return nil, err
		}
	}
	return newBatch(ws, rows), nil
}

// chunkCount returns how many chunks to split rows into.
func chunkCount(rows, par int) int {
	if par <= 1 || rows < 2*parallelMinRows {
		return 1
	}
	return min(par, rows/parallelMinRows)
}

// checkSchema verifies that s has the plan's column names and types.
func (p *Plan) checkSchema(s *arrow.Schema) error {
	if s == p.schema {
		return nil
	}
	if s.NumFields() != p.schema.NumFields() {
		return fmt.Errorf("%w: the batch has %d columns, the plan %d", ErrSchemaMismatch, s.NumFields(), p.schema.NumFields())
	}
	for i := range s.NumFields() {
		got, want := s.Field(i), p.schema.Field(i)
		if got.Name != want.Name {
			return fmt.Errorf("%w: column %d is named %q, the plan expects %q", ErrSchemaMismatch, i, got.Name, want.Name)
		}
		if !sameType(got.Type, want.Type) {
			return fmt.Errorf("%w: column %q is %s, the plan expects %s", ErrSchemaMismatch, got.Name, got.Type, want.Type)
		}
	}
	return nil
}

// sameType reports whether a batch column of type got fits a plan made for
// want: arrow.TypeEqual, or the same fingerprint, by which core keys its
// plans. arrow-go v18 compares large lists, large list views and
// dictionaries with reflect.DeepEqual, so a large list of an extension
// type read again (a second batch, from IPC) was unequal to the first and
// its whole batch failed.
func sameType(got, want arrow.DataType) bool {
	if arrow.TypeEqual(got, want) {
		return true
	}
	fp := got.Fingerprint()
	return fp != "" && fp == want.Fingerprint()
}

// worker encodes rows [lo, hi) of a batch into its scratch buffer.
type worker struct {
	lo, hi int
	sc     scratch
	bytes  int // record bytes, without framing
	errs   []*RowError
	err    error // bind failure or recovered panic (malformed data)
}

// scratch is a worker's output: framed records in an arena region, and
// each row's frame length (-1 for a failed row; a frame is below 2 GiB,
// see maxRecordLimit) in another.
type scratch struct {
	buf   []byte
	bufR  *region
	lens  []int32
	lensR *region
}

// put returns the scratch's regions to the arena.
func (s *scratch) put() {
	arena.put(s.bufR)
	arena.put(s.lensR)
	*s = scratch{}
}

// grow moves buf (the records so far: in s.bufR, or in Go memory if an
// encoder's append outgrew the region) into a region of at least size
// bytes, doubling when buf is still in its region.
func (s *scratch) grow(buf []byte, size int) []byte {
	if unsafe.SliceData(buf) == unsafe.SliceData(s.bufR.mem) {
		size = max(size, 2*cap(buf))
	} else {
		size = max(size, cap(buf))
	}
	r := arena.get(size)
	buf = append(r.mem[:0], buf...)
	arena.put(s.bufR)
	s.bufR = r
	return buf
}

func (w *worker) run(p *Plan, rec arrow.RecordBatch) {
	rows := w.hi - w.lo
	w.sc.lensR = arena.get(rows * int(unsafe.Sizeof(int32(0))))
	w.sc.bufR = arena.get(minRegion)
	defer func() {
		if r := recover(); r != nil {
			w.err = fmt.Errorf("%w: %v", ErrInvalidData, r)
		}
	}()
	var bd binder
	defer bd.release()
	encs := make([]encoder, len(p.cols))
	for c, n := range p.cols {
		var col arrow.Array // nil for a table column the batch lacks (allNull)
		switch {
		case p.from == nil:
			col = rec.Column(c)
		case p.from[c] >= 0:
			col = rec.Column(p.from[c])
		}
		e, err := bd.bind(n, col)
		if err != nil {
			w.err = err
			return
		}
		encs[c] = e
	}
	lens := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(w.sc.lensR.mem))), rows)
	buf := w.sc.bufR.mem[:0]
	base := unsafe.SliceData(buf)
	limit := p.opts.MaxRecordBytes
	const sample = 64
	lenBytes := 1 // varint bytes guessed for the next record's length
	need := 64    // room kept free before a record: twice the last one's size
	for r := w.lo; r < w.hi; r++ {
		// Each record is written framed as a ProtoEncodedRecordBatch.records
		// element (tag, length, record), so that any run of records is a
		// request body as it is (see Batch.Frames). The length's room is
		// guessed from the previous record; a wrong guess moves the record.
		start := len(buf)
		if cap(buf)-start < need || unsafe.SliceData(buf) != base {
			// Grow in the arena, and move back into it a buffer that an
			// encoder's append moved to the Go heap.
			buf = w.sc.grow(buf, start+need)
			base = unsafe.SliceData(buf)
		}
		buf = buf[:start+1+lenBytes]
		body := len(buf)
		var f *fail
		for _, e := range encs {
			if buf, f = e.enc(buf, r); f != nil {
				break
			}
		}
		if f == nil && len(buf)-body > limit {
			f = p.tooLarge(encs, r, len(buf)-body)
		}
		if f != nil {
			buf = buf[:start]
			lens[r-w.lo] = -1
			w.errs = append(w.errs, &RowError{Row: r, Column: f.path, Reason: f.reason, Err: f.err})
			continue
		}
		n := len(buf) - body
		if k := protowire.SizeVarint(uint64(n)); k != lenBytes {
			buf = moveRecord(buf, body, k-lenBytes)
			lenBytes = k
		}
		buf[start] = recordTag
		protowire.AppendVarint(buf[start+1:start+1], uint64(n))
		w.bytes += n
		lens[r-w.lo] = int32(len(buf) - start)
		need = 64 + 2*(len(buf)-start)
		if r-w.lo == sample-1 && rows > sample {
			// Reserve room for the whole chunk from the first rows' average,
			// so that a cold buffer grows once rather than log(n) times.
			if est := len(buf) / sample * rows * 9 / 8; est > cap(buf) {
				buf = w.sc.grow(buf, est)
				base = unsafe.SliceData(buf)
			}
		}
	}
	if unsafe.SliceData(buf) != base {
		buf = w.sc.grow(buf, len(buf))
	}
	w.sc.buf, w.sc.lens = buf, lens
}

// recordTag is the tag of ProtoEncodedRecordBatch.records (field 1, bytes).
var recordTag = byte(protowire.EncodeTag(1, protowire.BytesType))

// moveRecord moves the record that starts at body (and ends at len(b)) by
// d bytes, to make its length prefix d bytes longer (d < 0: shorter).
func moveRecord(b []byte, body, d int) []byte {
	end := len(b)
	if d > 0 {
		b = slices.Grow(b, d)[:end+d]
		copy(b[body+d:], b[body:end])
		return b
	}
	copy(b[body+d:], b[body:end])
	return b[:end+d]
}

// tooLarge builds the failure for an oversize record, naming the column
// that contributes most.
func (p *Plan) tooLarge(encs []encoder, r, size int) *fail {
	var tmp []byte
	best, bestN := 0, -1
	for c, e := range encs {
		tmp, _ = e.enc(tmp[:0], r)
		if len(tmp) > bestN {
			best, bestN = c, len(tmp)
		}
	}
	return &fail{
		path: p.cols[best].name,
		reason: fmt.Sprintf("the encoded record is %d bytes, over the %d-byte limit (this column alone is %d bytes); shrink or split the value, or raise max_record_bytes (Config.MaxRecordBytes) for servers that accept 10 MiB",
			size, p.opts.MaxRecordBytes, bestN),
		err: ErrRecordTooLarge,
	}
}

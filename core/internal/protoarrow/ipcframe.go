package protoarrow

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// The framing around VerifyIPCMessage and VerifyIPCFooter for Arrow IPC
// bytes read from a file: where the footer and blocks lie in an IPC file,
// each message's prefix in a stream, the bytes left for a body. The command
// line checks its input files with it, the debug file reader its Arrow
// files, before arrow-go reads them.

// frameError is an *IPCMetadataError about what.
func frameError(what, format string, args ...any) error {
	return &IPCMetadataError{What: what, Reason: fmt.Sprintf(format, args...)}
}

// VerifyIPCFile checks the footer, schema and every block's message
// metadata of the Arrow IPC file f (size bytes) before arrow-go opens it,
// and that each compressed batch decompresses to at most
// BatchDecodedLimit of its body (for a reader that frees each batch before
// it reads the next). Its errors name the footer or the block ("record
// batch 3") with offsets and lengths; a malformed file's wrap
// ErrIPCMetadata.
func VerifyIPCFile(f io.ReaderAt, size int64) error {
	const magic, tail = 8, 10 // "ARROW1\0\0" ... int32 footer length, "ARROW1"
	if size < magic+tail {
		return frameError("the file", "%d bytes are too short for an Arrow IPC file", size)
	}
	var t [4]byte
	if _, err := f.ReadAt(t[:], size-tail); err != nil {
		return err
	}
	flen := int64(int32(binary.LittleEndian.Uint32(t[:])))
	if flen <= 0 || flen > size-magic-tail {
		return frameError("the footer", "a length of %d does not fit in the %d-byte file", flen, size)
	}
	footerAt := size - tail - flen
	buf := make([]byte, flen)
	if _, err := f.ReadAt(buf, footerAt); err != nil {
		return err
	}
	dicts, batches, views, err := verifyIPCFooter(buf)
	if err != nil {
		return err
	}
	for _, kind := range []struct {
		name   string
		blocks []IPCBlock
	}{{"dictionary batch", dicts}, {"record batch", batches}} {
		for k, b := range kind.blocks {
			off, metaLen, bodyLen := b.Offset, b.MetaLen, b.BodyLen
			what := fmt.Sprintf("%s %d", kind.name, k)
			if off < magic || metaLen < 8 || bodyLen < 0 || off > footerAt || metaLen > footerAt-off || bodyLen > footerAt-off-metaLen {
				return frameError(what, "the footer places it at offset %d (%d + %d bytes), outside the file's %d bytes of data",
					off, metaLen, bodyLen, footerAt)
			}
			meta := make([]byte, metaLen)
			if _, err := f.ReadAt(meta, off); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			prefix := 8
			if binary.LittleEndian.Uint32(meta) != 0xFFFFFFFF {
				prefix = 4 // before Arrow 0.15: no continuation marker
			}
			v := newIPCVerifier(meta[prefix:], what)
			v.views = views
			if _, err := v.message(bodyLen); err != nil {
				return err
			}
			if len(v.buffers) > 0 {
				body := make([]byte, bodyLen)
				if _, err := f.ReadAt(body, off+metaLen); err != nil {
					return fmt.Errorf("%s: %w", what, err)
				}
				if _, err := v.decodedBody(body, what, size, nil); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// NewIPCStreamVerifier returns a reader that passes the Arrow IPC stream r
// (size bytes long) through, checking each message's metadata, and that its
// body fits in the bytes left, before handing the message on: hand it to
// ipc.NewReader instead of r. Each compressed batch may decompress to at
// most BatchDecodedLimit of its body: for a reader that frees each batch
// before it reads the next (NewIPCHeldStreamVerifier for one that keeps
// them). Its errors name the message ("the schema", "message 2", counting
// the schema as message 0) with offsets and lengths; those about
// malformed or truncated metadata wrap ErrIPCMetadata. For a stream of
// unknown size (a pipe) pass math.MaxInt64: a compressed body is then read
// as it arrives (readBody), never allocated at its declared length.
func NewIPCStreamVerifier(r io.Reader, size int64) io.Reader {
	return &ipcStreamVerifier{r: bufio.NewReaderSize(r, 1<<16), left: size, size: size, budget: -1}
}

// NewIPCHeldStreamVerifier is NewIPCStreamVerifier for a reader that keeps
// every batch in memory: the compressed batches may also decompress to at
// most DecodedLimit(size) bytes in all.
func NewIPCHeldStreamVerifier(r io.Reader, size int64) io.Reader {
	limit := DecodedLimit(size)
	return &ipcStreamVerifier{r: bufio.NewReaderSize(r, 1<<16), left: size, size: size, limit: limit, budget: limit}
}

type ipcStreamVerifier struct {
	r       *bufio.Reader
	views   *ipcViews // the schema's, once read
	left    int64     // bytes of the stream not yet read
	pending []byte
	body    int64 // body bytes to pass through
	n       int   // messages seen
	batches int   // record batches seen
	size    int64 // the stream's
	limit   int64 // held: DecodedLimit(size)
	budget  int64 // held: what the compressed buffers still may decompress to; -1: no bound in all
	done    bool
	err     error
}

func (s *ipcStreamVerifier) Read(p []byte) (int, error) {
	for len(s.pending) == 0 && s.body == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.done {
			return s.r.Read(p)
		}
		s.err = s.next()
	}
	if len(s.pending) > 0 {
		n := copy(p, s.pending)
		s.pending = s.pending[n:]
		return n, nil
	}
	if int64(len(p)) > s.body {
		p = p[:s.body]
	}
	n, err := s.r.Read(p)
	s.body -= int64(n)
	s.left -= int64(n)
	if err == io.EOF && s.body > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// next reads the framing and metadata of the next message into pending.
func (s *ipcStreamVerifier) next() error {
	what := fmt.Sprintf("message %d", s.n)
	if s.n == 0 {
		what = "the schema"
	}
	head := make([]byte, 4, 8)
	if n, err := io.ReadFull(s.r, head); err != nil {
		if err == io.EOF {
			s.done = true
			return nil
		}
		if err == io.ErrUnexpectedEOF {
			return frameError(what, "the stream ends %d bytes into its 4-byte length prefix", n)
		}
		return err
	}
	mlen := binary.LittleEndian.Uint32(head)
	if mlen == 0xFFFFFFFF {
		head = head[:8]
		if n, err := io.ReadFull(s.r, head[4:]); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return frameError(what, "the stream ends %d bytes into its length prefix", 4+n)
			}
			return err
		}
		mlen = binary.LittleEndian.Uint32(head[4:])
	}
	s.left -= int64(len(head))
	if mlen == 0 { // end of stream
		s.pending, s.done = head, true
		return nil
	}
	s.n++
	if int64(mlen) > s.left {
		return frameError(what, "%d bytes of metadata, but only %d bytes of the stream are left", mlen, s.left)
	}
	meta, err := readBody(s.r, int64(mlen), s.size < math.MaxInt64)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return frameError(what, "the stream ends %d bytes into its %d bytes of metadata", len(meta), mlen)
		}
		return err
	}
	s.left -= int64(mlen)
	v := newIPCVerifier(meta, what)
	v.views = s.views
	body, err := v.message(s.left)
	if err != nil {
		return err
	}
	if v.schemaViews != nil {
		s.views = v.schemaViews
	}
	if v.kind == headerRecordBatch {
		defer func() { s.batches++ }()
	}
	if len(v.buffers) == 0 {
		s.pending, s.body = append(head, meta...), body
		return nil
	}
	// A compressed batch: read its body now to check its buffers' lengths.
	b, err := readBody(s.r, body, s.size < math.MaxInt64)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return frameError(what, "the stream ends %d bytes into its %d-byte body", len(b), body)
		}
		return err
	}
	s.left -= body
	if v.kind == headerRecordBatch {
		what = fmt.Sprintf("record batch %d (%s)", s.batches, what)
	}
	var budget *int64
	if s.budget >= 0 {
		budget = &s.budget
	}
	if _, err := v.decodedBody(b, what, s.size, budget); err != nil {
		if se := (*IPCDecodedSizeError)(nil); errors.As(err, &se) && !se.Batch {
			se.Limit = s.limit
		}
		return err
	}
	s.pending = append(append(head, meta...), b...)
	return nil
}

// readBody reads the n bytes of a body (or metadata) from r. When n was checked against
// the stream's size (sized), or is at most bodyChunk, they are read into
// one allocation; otherwise the buffer grows with the bytes that arrive, so
// a length that lies (a stream of unknown size, e.g. a pipe, has nothing to
// check it against) costs the bytes the stream really holds, not the
// length. On a short stream it returns what was read and
// io.ErrUnexpectedEOF.
func readBody(r io.Reader, n int64, sized bool) ([]byte, error) {
	if sized || n <= bodyChunk {
		b := make([]byte, n)
		k, err := io.ReadFull(r, b)
		return b[:k], err
	}
	var buf bytes.Buffer
	k, err := io.CopyN(&buf, r, n)
	if err == io.EOF && k < n {
		err = io.ErrUnexpectedEOF
	}
	return buf.Bytes(), err
}

// bodyChunk is the longest body readBody allocates at once.
const bodyChunk = 64 << 20

// decodedBody is compressedBody for the body of batch what of a file of
// size bytes: it may decompress to at most BatchDecodedLimit of its size
// and, when budget is not nil, to what is left of *budget (which it then
// lowers). The bound that refuses it names itself in the error.
func (v *ipcVerifier) decodedBody(body []byte, what string, size int64, budget *int64) (int64, error) {
	limit := BatchDecodedLimit(int64(len(body)))
	batch := budget == nil || *budget >= limit
	if !batch {
		limit = *budget
	}
	decoded, err := v.compressedBody(body, limit)
	if se := (*IPCDecodedSizeError)(nil); errors.As(err, &se) {
		se.What, se.FileSize, se.Batch, se.BodySize = what, size, batch, int64(len(body))
	}
	if err != nil {
		return 0, err
	}
	if budget != nil {
		*budget -= decoded
	}
	return decoded, nil
}

// compressedBody checks the buffers of a compressed batch's body: arrow-go
// allocates the uncompressed length each buffer starts with before it
// decompresses, so each must be what its data decompresses to (counted,
// not kept; a zstd frame's window is bounded too, so arrow-go's decoder
// never allocates more than these checks allowed). The declared lengths'
// sum, returned, must be at most maxUncompressed (>= 0), checked before
// any decompression.
func (v *ipcVerifier) compressedBody(body []byte, maxUncompressed int64) (int64, error) {
	var total int64
	for _, b := range v.buffers {
		if b.BodyLen < 8 {
			continue // refused below
		}
		if want := int64(binary.LittleEndian.Uint64(body[b.Offset:])); want > 0 {
			total += min(want, maxUncompressed+1) // no overflow: stops growing past the limit
		}
		if total > maxUncompressed {
			return 0, &IPCDecodedSizeError{Limit: maxUncompressed}
		}
	}
	for k, b := range v.buffers {
		if b.BodyLen == 0 {
			continue
		}
		if b.BodyLen < 8 {
			return 0, v.fail("compressed buffer %d: %d bytes, too short for its uncompressed length", k, b.BodyLen)
		}
		data := body[b.Offset : b.Offset+b.BodyLen]
		want := int64(binary.LittleEndian.Uint64(data))
		if want == -1 { // stored uncompressed
			continue
		}
		if want < 0 {
			return 0, v.fail("compressed buffer %d: an uncompressed length of %d bytes", k, want)
		}
		got, err := decompressedLen(v.codec, data[8:], want)
		if err != nil {
			return 0, v.fail("compressed buffer %d (offset %d, %d bytes): %v", k, b.Offset, b.BodyLen, err)
		}
		if got != want {
			return 0, v.fail("compressed buffer %d (offset %d, %d bytes) declares %d uncompressed bytes, its data holds %s",
				k, b.Offset, b.BodyLen, want, map[bool]string{true: fmt.Sprint(got), false: "more"}[got <= want])
		}
	}
	return total, nil
}

// decompressedLen decompresses data with codec, counting at most want+1
// bytes. The decoders are pooled: a new zstd decoder per buffer cost more
// than the decompression itself (a batch has dozens of buffers).
func decompressedLen(codec int, data []byte, want int64) (int64, error) {
	var r io.Reader
	switch codec {
	case codecZstd:
		d := zstdDecoders.Get().(*zstdCounter)
		defer zstdDecoders.Put(d)
		if d.err != nil {
			return 0, d.err
		}
		if err := d.dec.Reset(bytes.NewReader(data)); err != nil {
			return 0, err
		}
		defer d.dec.Reset(nil) //nolint:errcheck // drops the reference to data
		r = d.dec
	default: // codecLZ4Frame
		lr := lz4Readers.Get().(*lz4.Reader)
		defer lz4Readers.Put(lr)
		lr.Reset(bytes.NewReader(data))
		defer lr.Reset(nil)
		r = lr
	}
	n, err := io.CopyN(io.Discard, r, want+1)
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// zstdCounter is a pooled zstd decoder (or the error of making one). Its
// window, and the memory it may take, is bounded by the largest window a
// standard level uses (level 22: 2^27), so arrow-go's decoder, which reads
// the same frames afterwards, never meets one these checks did not allow.
type zstdCounter struct {
	dec *zstd.Decoder
	err error
}

var (
	zstdDecoders = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(1<<27), zstd.WithDecoderMaxMemory(1<<27))
		return &zstdCounter{dec: d, err: err}
	}}
	lz4Readers = sync.Pool{New: func() any { return lz4.NewReader(nil) }}
)

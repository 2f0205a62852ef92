package cli

// Input files of `zerobus send`: format detection and streaming readers for
// Arrow IPC (file and stream formats), Parquet and CSV. Every reader yields
// record batches of at most -batch-rows rows and never holds a whole file in
// memory.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	encsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	english "github.com/zerobus-wrapper/zerobus-wrapper/internal/plural"
)

// Input formats accepted by -format.
const (
	formatAuto    = "auto"
	formatArrow   = "arrow"
	formatParquet = "parquet"
	formatCSV     = "csv"
)

// csvNullValues are the CSV cells read as null in non-string columns (string
// columns keep them as text).
var csvNullValues = []string{"", "NULL", "null", "NA", "N/A"}

// batchReader is the part of array.RecordReader the send loop uses. The
// batch returned by RecordBatch is owned by the reader and valid until the
// next call to Next; Retain it to keep it longer.
type batchReader interface {
	Next() bool
	RecordBatch() arrow.RecordBatch
	Err() error
}

// input is one open input file.
type input struct {
	path   string
	format string // formatArrow, formatParquet or formatCSV (resolved)
	detail string // e.g. "Arrow IPC stream", for the summary
	schema *arrow.Schema
	rows   int64 // total rows, -1 if unknown before reading
	// stream: read front to back, once (standard input, a pipe): opened
	// by the check before sending (openStream), and nothing re-reads it.
	stream bool
	// rowGroups are the rows of each Parquet row group (nil for other formats).
	rowGroups []int64
	// batchRows is the most rows a Parquet batch holds: one batch may span
	// several row groups.
	batchRows int64
	// readRowGroup reads Parquet row group i alone to its end, returning
	// whether it decodes (nil for other formats): where uses it to find
	// which row group of a failed batch is the corrupt one.
	readRowGroup func(i int) error

	reader batchReader
	closer []func() error

	// done/total measure how much of the file has been read, in units of
	// the format (rows, bytes or batches); total 0 means unknown. done is
	// written by the reading goroutine and read by the progress display.
	done  atomic.Int64
	total int64
}

// fraction is the part of the file read so far, in [0, 1].
func (in *input) fraction() float64 {
	if in.total <= 0 {
		return 0
	}
	return min(1, float64(in.done.Load())/float64(in.total))
}

// Close releases the readers and closes the file.
func (in *input) Close() error {
	var errs []error
	for i := len(in.closer) - 1; i >= 0; i-- {
		err := func() (err error) {
			defer recoverDecode(&err, "closing "+in.path)
			return in.closer[i]()
		}()
		if err != nil {
			errs = append(errs, err)
		}
	}
	in.closer = nil
	return errors.Join(errs...)
}

// inputOptions are the reading settings shared by every input.
type inputOptions struct {
	format         string // -format
	batchRows      int64
	csvInferRows   int
	csvNoInference bool
	// csvInferWait: -csv-infer-rows was given, so a CSV stream input's
	// types wait for that many rows (or its end) however it pauses; without
	// it a pause ends the sample (see csvStallAfter).
	csvInferWait bool
	// csvTable gives the table's column types (-csv-types auto or table);
	// nil, or its schema nil, when the types are inferred.
	csvTable *csvTableTypes
	mem      memory.Allocator
}

// detectFormat returns the format of path: from -format unless "auto", else
// from the extension, else from the first bytes of the file.
func detectFormat(path, flagFormat string) (string, error) {
	switch flagFormat {
	case formatArrow, formatParquet, formatCSV:
		return flagFormat, nil
	case formatAuto, "":
	default:
		return "", fmt.Errorf("-format %q: must be auto, arrow, parquet or csv", flagFormat)
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".arrow", ".arrows", ".ipc", ".feather":
		return formatArrow, nil
	case ".parquet", ".pq":
		return formatParquet, nil
	case ".csv":
		return formatCSV, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PAR1")):
		return formatParquet, nil
	case bytes.HasPrefix(head, []byte("ARROW1")), bytes.HasPrefix(head, []byte{0xff, 0xff, 0xff, 0xff}):
		return formatArrow, nil
	}
	return "", fmt.Errorf("%s: cannot tell the format from the extension or the content; use -format arrow|parquet|csv", path)
}

// openInput opens path for streaming.
func openInput(ctx context.Context, path string, o inputOptions) (*input, error) {
	format, err := detectFormat(path, o.format)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	o.mem = &boundedAllocator{mem: o.mem, limit: max(minAllocLimit, allocLimitFactor*st.Size())}
	in := &input{path: path, format: format, rows: -1}
	err = func() (err error) {
		defer recoverDecode(&err, "opening the file")
		switch format {
		case formatArrow:
			return openArrow(in, o)
		case formatParquet:
			return openParquet(ctx, in, o)
		default:
			return openCSV(in, o)
		}
	}()
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	in.reader = &guardedBatches{src: in.reader, where: in.where}
	return in, nil
}

// recoverDecode turns a panic of the Arrow, Parquet or CSV decoders (they
// panic on some corrupt input, e.g. "snappy: corrupt input") into *err.
// Deferred; what says where it happened.
func recoverDecode(err *error, what string) {
	if p := recover(); p != nil {
		*err = decodePanic(what, p)
	}
}

func decodePanic(where string, p any) error {
	return fmt.Errorf("%s: the data cannot be decoded, the file is corrupt or truncated (%v)", where, p)
}

// A single buffer the readers of a file of n bytes allocate may hold at
// most max(minAllocLimit, allocLimitFactor*n) bytes: a corrupt length in a
// file (an Arrow IPC block, a Parquet page header) otherwise asks for
// terabytes and the process dies of it, beyond any recover.
const (
	minAllocLimit    = 1 << 30
	allocLimitFactor = 64
)

// boundedAllocator panics (recovered by recoverDecode / guardedBatches)
// when asked for a buffer over limit bytes.
type boundedAllocator struct {
	mem   memory.Allocator
	limit int64
}

func (b *boundedAllocator) check(size int) {
	if int64(size) > b.limit || size < 0 {
		panic(fmt.Sprintf("a length in the file asks for a buffer of %d bytes, over the %d allowed for this file", size, b.limit))
	}
}

func (b *boundedAllocator) Allocate(size int) []byte {
	b.check(size)
	return b.mem.Allocate(size)
}

func (b *boundedAllocator) Reallocate(size int, buf []byte) []byte {
	b.check(size)
	return b.mem.Reallocate(size, buf)
}

func (b *boundedAllocator) Free(buf []byte) { b.mem.Free(buf) }

// guardedBatches is the reader of every input: a panic while decoding a
// batch becomes its Err (naming where, from the input's where), and it
// reads no further.
type guardedBatches struct {
	src   batchReader
	where func(rowsRead int64) string
	rows  int64 // rows returned so far
	err   error
}

func (g *guardedBatches) Next() (ok bool) {
	if g.err != nil {
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			g.err, ok = decodePanic(g.where(g.rows), p), false
		}
	}()
	if !g.src.Next() {
		return false
	}
	g.rows += g.src.RecordBatch().NumRows()
	return true
}

func (g *guardedBatches) RecordBatch() arrow.RecordBatch { return g.src.RecordBatch() }

func (g *guardedBatches) Err() error {
	if g.err != nil {
		return g.err
	}
	return g.src.Err()
}

// where names the part of the file being read after rowsRead rows were
// returned: the Parquet row group, the Arrow IPC file's record batch, else
// the row number (rows count from 0, as everywhere in send's output).
//
// A Parquet batch that failed may span several row groups (-batch-rows is
// larger than a row group): each of them is then read alone, and the first
// that does not decode is named; when none fails alone, the range.
func (in *input) where(rowsRead int64) string {
	switch {
	case in.rowGroups != nil:
		var firsts []int64 // first row of each row group
		first := int64(0)
		for _, n := range in.rowGroups {
			firsts = append(firsts, first)
			first += n
		}
		group := func(row int64) int { // the row group holding row, or -1
			for i, n := range in.rowGroups {
				if row < firsts[i]+n {
					return i
				}
			}
			return -1
		}
		g0 := group(rowsRead)
		if g0 < 0 {
			break
		}
		last := min(rowsRead+max(in.batchRows, 1), first) - 1 // the last row the failed batch could hold
		g1 := max(group(last), g0)
		named := func(i int) string {
			return fmt.Sprintf("row group %d (rows %d..%d)", i, firsts[i], firsts[i]+in.rowGroups[i]-1)
		}
		if g0 == g1 {
			return named(g0)
		}
		if in.readRowGroup != nil {
			for i := g0; i <= g1; i++ {
				if in.readRowGroup(i) != nil {
					return named(i)
				}
			}
		}
		return fmt.Sprintf("row groups %d..%d (rows %d..%d)", g0, g1, firsts[g0], firsts[g1]+in.rowGroups[g1]-1)
	case in.detail == "Arrow IPC file":
		return fmt.Sprintf("record batch %d (from row %d)", in.done.Load(), rowsRead)
	}
	return fmt.Sprintf("reading from row %d", rowsRead)
}

// skipBOM moves f past a leading UTF-8 byte order mark, which Excel's "CSV
// UTF-8" and other Windows tools write, and returns its length (0 when there
// is none; f is then back at its start). Without it the first column's name
// began with U+FEFF and every row failed as a bad column name.
func skipBOM(f *os.File) (int64, error) {
	var b [3]byte
	n, err := io.ReadFull(f, b[:])
	if n == len(b) && b == [3]byte{0xEF, 0xBB, 0xBF} {
		return int64(n), nil
	}
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return 0, err
	}
	_, err = f.Seek(0, io.SeekStart)
	return 0, err
}

// errCause is an error of arrow-go shown by its last cause, without the
// package prefixes of each layer ("arrow/ipc: could not read message
// schema: arrow/ipc: ...: the schema: 1651663207 bytes of metadata, but
// only 4 bytes of the stream are left" reads "1651663207 bytes of metadata,
// but only 4 bytes of the stream are left"); errors.Is and As see the error.
type errCause struct{ err error }

func (e errCause) Error() string {
	msg := e.err.Error()
	for _, p := range []string{"arrow/ipc: ", "parquet: "} {
		if i := strings.LastIndex(msg, p); i >= 0 {
			msg = msg[i+len(p):]
		}
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg[:i], "could not read") {
		msg = msg[i+2:]
	}
	return msg
}

func (e errCause) Unwrap() error { return e.err }

// parquetOpenError is the error of a Parquet file at path that arrow-go
// could not open (err): a file that does not start with Parquet's "PAR1"
// is said to be of another kind, with what it starts with; otherwise err's
// last cause.
func parquetOpenError(path string, err error) error {
	head := make([]byte, 4)
	n := 0
	if f, ferr := os.Open(path); ferr == nil {
		n, _ = io.ReadFull(f, head)
		f.Close()
	}
	if string(head[:n]) != "PAR1" {
		return notFormat("a Parquet file", head[:n], err)
	}
	return fmt.Errorf("not a readable Parquet file: %w", errCause{err})
}

// notCSV is the error of a file read as CSV (by its extension or -format
// csv) that starts as a Parquet or Arrow IPC file does: it says which and
// the -format to give.
func notCSV(head []byte) error {
	var like, format string
	switch {
	case bytes.HasPrefix(head, []byte("PAR1")):
		like, format = "a Parquet file", formatParquet
	case bytes.HasPrefix(head, []byte("ARROW1")), bytes.HasPrefix(head, []byte{0xff, 0xff, 0xff, 0xff}):
		like, format = "an Arrow IPC file or stream", formatArrow
	default:
		return nil
	}
	return fmt.Errorf("not a CSV file: it looks like %s (it starts with %q); give -format %s", like, head[:min(len(head), 6)], format)
}

// notFormat is the error of a file that is not of the format what
// ("a Parquet file") at all: it names what the file starts with and says
// to give -format; err, arrow-go's reading of the other kind's bytes, is in
// the chain but not the text.
func notFormat(what string, head []byte, err error) error {
	return &wrongFormatError{
		msg: fmt.Sprintf("not %s (it starts with %q); give -format if the extension is wrong", what, head),
		err: err,
	}
}

type wrongFormatError struct {
	msg string
	err error
}

func (e *wrongFormatError) Error() string { return e.msg }
func (e *wrongFormatError) Unwrap() error { return e.err }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// openArrow opens an Arrow IPC file (random access, "ARROW1" magic) or an
// Arrow IPC stream, and re-chunks its batches to at most o.batchRows rows.
func openArrow(in *input, o inputOptions) error {
	f, err := os.Open(in.path)
	if err != nil {
		return err
	}
	in.closer = append(in.closer, f.Close)
	magic := make([]byte, 6)
	n, _ := io.ReadFull(f, magic)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		return err
	}
	var src batchReader
	if n == 6 && string(magic) == "ARROW1" {
		// arrow-go trusts the metadata's lengths: check them first.
		if err := core.VerifyIPCFile(f, st.Size()); err != nil {
			return fmt.Errorf("not a readable Arrow IPC file: %w", err)
		}
		fr, err := ipc.NewFileReader(f, ipc.WithAllocator(o.mem))
		if err != nil {
			return fmt.Errorf("not a readable Arrow IPC file: %w", err)
		}
		in.closer = append(in.closer, fr.Close)
		in.detail = "Arrow IPC file"
		in.schema = fr.Schema()
		in.total = int64(fr.NumRecords())
		fb := &ipcFileBatches{fr: fr, done: &in.done}
		in.closer = append(in.closer, func() error { fb.release(); return nil })
		src = fb
	} else {
		in.total = st.Size()
		vr := countingReader{core.NewIPCStreamVerifier(f, st.Size()), &in.done}
		r, err := ipc.NewReader(vr, ipc.WithAllocator(o.mem))
		if err != nil {
			if n < 4 || string(magic[:4]) != "\xff\xff\xff\xff" {
				// neither "ARROW1" nor a stream's continuation marker: another
				// kind of file, whose bytes arrow-go read as lengths
				return notFormat("an Arrow IPC file or stream", magic[:n], err)
			}
			return fmt.Errorf("not a readable Arrow IPC stream or file: %w", errCause{err})
		}
		in.closer = append(in.closer, func() error { r.Release(); return nil })
		in.detail = "Arrow IPC stream"
		in.schema = r.Schema()
		src = &validatedBatches{src: r, v: core.NewArrowValidator(), after: afterStreamEnd(vr, false)}
	}
	// arrow-go trusts the offsets and lengths of a body: each batch is
	// validated before any value of it is read.
	if _, ok := src.(*validatedBatches); !ok {
		src = &validatedBatches{src: src, v: core.NewArrowValidator()}
	}
	rb := &rebatcher{src: src, n: o.batchRows, mem: o.mem}
	in.closer = append(in.closer, func() error { rb.release(); return nil })
	in.reader = rb
	return nil
}

// ipcFileBatches iterates the batches of an Arrow IPC file.
type ipcFileBatches struct {
	fr   *ipc.FileReader
	i    int
	cur  arrow.RecordBatch
	err  error
	done *atomic.Int64 // batches read
}

func (r *ipcFileBatches) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil || r.i >= r.fr.NumRecords() {
		return false
	}
	rec, err := r.fr.RecordBatchAt(r.i)
	if err != nil {
		r.err = fmt.Errorf("reading record batch %d: %w", r.i, err)
		return false
	}
	r.i++
	r.done.Store(int64(r.i))
	r.cur = rec
	return true
}

// release drops the current batch (reading stopped before the end).
func (r *ipcFileBatches) release() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
}

func (r *ipcFileBatches) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *ipcFileBatches) Err() error                     { return r.err }

// validatedBatches passes the batches of an Arrow IPC input through
// core.ArrowValidator; a damaged one is its Err, naming the batch and the
// column and row in it, and it reads no further.
type validatedBatches struct {
	src  batchReader
	v    *core.ArrowValidator
	n    int   // batches returned
	rows int64 // rows in them
	err  error
	// after, if set, checks the input once src ended without an error
	// (afterStreamEnd); its error is the reader's.
	after func() error
}

func (b *validatedBatches) Next() bool {
	if b.err != nil || !b.src.Next() {
		if b.err == nil && b.after != nil && b.src.Err() == nil {
			b.err, b.after = b.after(), nil
			if b.err != nil {
				b.err = fmt.Errorf("after record batch %d (row %d): %w", b.n, b.rows, b.err)
			}
		}
		return false
	}
	rec := b.src.RecordBatch()
	if err := b.v.Record(rec); err != nil {
		b.err = fmt.Errorf("record batch %d (from row %d): %w", b.n, b.rows, err)
		if !errors.Is(err, core.ErrValidatorFailure) { // a bug of ours, not damage
			b.err = fmt.Errorf("%w; the file is damaged from this batch on", b.err)
		}
		return false
	}
	b.n++
	b.rows += rec.NumRows()
	return true
}

func (b *validatedBatches) RecordBatch() arrow.RecordBatch { return b.src.RecordBatch() }

func (b *validatedBatches) Err() error {
	if b.err != nil {
		return b.err
	}
	return b.src.Err()
}

// rebatcher turns the batches of src into batches of exactly n rows (the
// last one may be shorter): bigger batches are sliced (zero-copy), smaller
// ones concatenated.
type rebatcher struct {
	src     batchReader
	n       int64
	mem     memory.Allocator
	pending []arrow.RecordBatch // retained; rows not yet returned
	rows    int64               // rows in pending
	cur     arrow.RecordBatch
	err     error
	eof     bool
}

func (r *rebatcher) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	for !r.eof && r.err == nil && r.rows < r.n {
		if !r.src.Next() {
			r.eof = true
			r.err = r.src.Err()
			break
		}
		rec := r.src.RecordBatch()
		if rec.NumRows() == 0 {
			continue
		}
		rec.Retain()
		r.pending = append(r.pending, rec)
		r.rows += rec.NumRows()
	}
	if r.err != nil || r.rows == 0 {
		return false
	}
	take := min(r.n, r.rows)
	var parts []arrow.RecordBatch
	for left := take; left > 0; {
		p := r.pending[0]
		if p.NumRows() <= left {
			parts = append(parts, p)
			r.pending = r.pending[1:]
			left -= p.NumRows()
			continue
		}
		parts = append(parts, p.NewSlice(0, left))
		rest := p.NewSlice(left, p.NumRows())
		p.Release()
		r.pending[0] = rest
		left = 0
	}
	r.rows -= take
	if len(parts) == 1 {
		r.cur = parts[0]
		return true
	}
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	cols := make([]arrow.Array, parts[0].NumCols())
	chunk := make([]arrow.Array, len(parts))
	for c := range cols {
		for i, p := range parts {
			chunk[i] = p.Column(c)
		}
		col, err := array.Concatenate(chunk, r.mem)
		if err != nil {
			for _, done := range cols[:c] {
				done.Release()
			}
			r.err = fmt.Errorf("joining small batches (column %q): %w", parts[0].ColumnName(c), err)
			return false
		}
		cols[c] = col
	}
	r.cur = array.NewRecordBatch(parts[0].Schema(), cols, take)
	for _, c := range cols {
		c.Release()
	}
	return true
}

func (r *rebatcher) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *rebatcher) Err() error                     { return r.err }

func (r *rebatcher) release() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	for _, p := range r.pending {
		p.Release()
	}
	r.pending, r.rows = nil, 0
}

// openParquet opens a Parquet file; the total row count comes from its
// metadata and batches are read -batch-rows at a time.
func openParquet(ctx context.Context, in *input, o inputOptions) error {
	f, err := os.Open(in.path)
	if err != nil {
		return err
	}
	// Pages are streamed through a small buffer instead of reading each
	// column chunk whole: memory follows -batch-rows, not the row group size.
	props := parquet.NewReaderProperties(o.mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = 1 << 20
	pf, err := file.NewParquetReader(f, file.WithReadProps(props))
	if err != nil {
		f.Close()
		return parquetOpenError(in.path, err)
	}
	in.closer = append(in.closer, pf.Close) // closes f too
	if err := checkParquetChunks(pf, f); err != nil {
		return err
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: o.batchRows}, o.mem)
	if err != nil {
		return fmt.Errorf("cannot map the Parquet schema to Arrow: %w", err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return fmt.Errorf("cannot read the Parquet file: %w", err)
	}
	in.closer = append(in.closer, func() error { rr.Release(); return nil })
	in.detail = fmt.Sprintf("Parquet, %d row groups", pf.NumRowGroups())
	in.schema = rr.Schema()
	in.rows = pf.NumRows()
	in.total = in.rows
	for i := range pf.NumRowGroups() {
		in.rowGroups = append(in.rowGroups, pf.MetaData().RowGroup(i).NumRows())
	}
	in.batchRows = o.batchRows
	in.readRowGroup = func(i int) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = decodePanic(fmt.Sprintf("row group %d", i), p)
			}
		}()
		rg, err := fr.GetRecordReader(context.WithoutCancel(ctx), nil, []int{i})
		if err != nil {
			return err
		}
		defer rg.Release()
		for rg.Next() {
		}
		return rg.Err()
	}
	in.reader = &countingBatches{src: rr, done: &in.done}
	return nil
}

// checkParquetChunks checks that every column chunk of pf lies inside the
// file: the Parquet reader would otherwise panic on a corrupt offset in a
// goroutine of its own, where the caller cannot recover it.
func checkParquetChunks(pf *file.Reader, f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	for rg := range pf.NumRowGroups() {
		md := pf.MetaData().RowGroup(rg)
		for c := range md.NumColumns() {
			cc, err := md.ColumnChunk(c)
			if err != nil {
				return fmt.Errorf("row group %d, column %d: %w", rg, c, err)
			}
			start, n := cc.DataPageOffset(), cc.TotalCompressedSize()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 {
				start = min(start, cc.DictionaryPageOffset())
			}
			if start < 0 || n < 0 || start > size || n > size-start {
				return fmt.Errorf("row group %d, column %d: the metadata places its data at bytes %d..%d, outside the file (%d bytes): the file is corrupt",
					rg, c, start, start+n, size)
			}
		}
	}
	return nil
}

// countingBatches counts the rows read from src.
type countingBatches struct {
	src  batchReader
	done *atomic.Int64
}

func (c *countingBatches) Next() bool {
	if !c.src.Next() {
		return false
	}
	c.done.Add(c.src.RecordBatch().NumRows())
	return true
}

func (c *countingBatches) RecordBatch() arrow.RecordBatch { return c.src.RecordBatch() }
func (c *countingBatches) Err() error                     { return c.src.Err() }

// openCSV opens a CSV file with a header line. Column types are inferred
// from the first o.csvInferRows data rows (see inferCSVTypes) unless
// o.csvNoInference, which reads every column as a string.
func openCSV(in *input, o inputOptions) error {
	ts, err := o.csvTable.tableSchema()
	if err != nil {
		return err
	}
	header, types, err := inferCSVTypes(in.path, o.csvInferRows, o.csvNoInference)
	if err != nil {
		return err
	}
	var tc *csvTableCols
	if ts != nil {
		if tc, err = o.csvTable.matchCSVTable(in.path, header, types, ts); err != nil {
			return err
		}
		o.csvTable.sampleFallback(in.path, header, types, tc, o.csvInferRows)
		types = tc.types
	}
	f, err := os.Open(in.path)
	if err != nil {
		return err
	}
	in.closer = append(in.closer, f.Close)
	st, err := f.Stat()
	if err != nil {
		return err
	}
	in.total = st.Size()
	bom, err := skipBOM(f)
	if err != nil {
		return err
	}
	in.done.Add(bom)
	// The types are known (inferCSVTypes, or the table's): the inferring
	// reader panicked on a file without data rows.
	readCSVTyped(in, f, header, types, tc, o, false)
	return nil
}

// readCSV makes in read CSV from src (its header first) as columns header
// of types (inferred already), in batches of o.batchRows; stream: src is
// read once (a pipe), so errors cannot point back into it. A src that is
// *csvSegments is read a segment at a time, each ending a batch.
//
// With the table's column types (o.csvTable), the columns are read as those
// instead of types; a header that does not match the table makes the
// first Next fail (nothing is read).
func readCSV(in *input, src io.Reader, header []string, types []arrow.DataType, o inputOptions, stream bool) *csvBatches {
	ts, err := o.csvTable.tableSchema()
	var tc *csvTableCols
	if err == nil && ts != nil {
		if tc, err = o.csvTable.matchCSVTable(in.path, header, types, ts); err == nil {
			types = tc.types
		}
	}
	c := readCSVTyped(in, src, header, types, tc, o, stream)
	if err != nil {
		c.err = err
	}
	return c
}

// readCSVTyped is readCSV with the types decided: tc is the table's
// columns they come from (nil: inferred).
func readCSVTyped(in *input, src io.Reader, header []string, types []arrow.DataType, tc *csvTableCols, o inputOptions, stream bool) *csvBatches {
	fields := make([]arrow.Field, len(header))
	for i, name := range header {
		fields[i] = arrow.Field{Name: name, Type: types[i], Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	open := func() *csv.Reader {
		return csv.NewReader(countingReader{src, &in.done}, schema,
			csv.WithHeader(true),
			csv.WithChunk(int(o.batchRows)),
			csv.WithNullReader(false, csvNullValues...),
			csv.WithAllocator(o.mem),
		)
	}
	c := &csvBatches{r: open(), reopen: open, header: header, types: types, table: tc, inferRows: o.csvInferRows, path: in.path, stream: stream}
	if seg, ok := src.(*csvSegments); ok {
		c.segments = seg
		c.sample, c.sampleRows = completeRecords(seg.sample)
		seg.sample = nil
	}
	in.closer = append(in.closer, func() error { c.r.Release(); return nil })
	in.detail = "CSV"
	in.schema = schema
	in.reader = c
	return c
}

// csvBatches checks the arrow CSV reader's error after every chunk: that
// reader returns a chunk holding a null in place of a cell it could not parse
// and reports the error only afterwards, and such a chunk must not be sent.
//
// Its messages number rows as every output of send does (the summary,
// -json, the per-row results): data rows from 0, the first line after the
// header being row 0. They also give the file line (from 1, the header is
// line 1), which differs from row+2 once a quoted cell spans lines.
type csvBatches struct {
	r         *csv.Reader
	header    []string
	types     []arrow.DataType // of each column
	table     *csvTableCols    // the table's columns the types are; nil: inferred
	inferRows int              // -csv-infer-rows
	path      string
	rows      int64 // data rows returned so far
	err       error
	// stream: the input is read once (a pipe): the rows and lines of an
	// error are not found by reading it again, and the message says so.
	stream bool
	// inferred says which rows the types were inferred from when a pause
	// ended the sample before -csv-infer-rows rows came (", here the 3 rows
	// that had come when the input paused for 1s"); "" otherwise.
	inferred string
	// segments: a stream input cut where it pauses (nil for a file): at a
	// cut r returns the rows it has, and a reader of the next segment,
	// from reopen, takes its place; lineOffset turns the lines r numbers
	// into the input's.
	segments   *csvSegments
	reopen     func() *csv.Reader
	lineOffset int
	// sample is a stream input's text that the types were taken with (its
	// header, the sample rows and what was read ahead of them), to its
	// last full line, holding sampleRows data rows: kept until the rows
	// read pass them, a cell there that does not read as its type is named
	// by row and line as a file's is (see sampleBadCell). nil for a file.
	sample     []byte
	sampleRows int64
}

// completeRecords is b up to its last line end (a record cut where
// inference stopped reading is left out; one cut inside a quoted cell is a
// malformed last record, which ends csvMisfits) and the data rows in it.
func completeRecords(b []byte) ([]byte, int64) {
	b = b[:bytes.LastIndexByte(b, '\n')+1]
	var rows int64
	if cr, _, err := csvRecords(bytes.NewReader(b)); err == nil {
		for ; ; rows++ {
			if _, err := cr.Read(); err != nil {
				break
			}
		}
	}
	return b, rows
}

func (c *csvBatches) Next() bool {
	if c.err != nil {
		return false
	}
	ok := c.r.Next()
	for !ok && c.r.Err() == nil && c.segments != nil && c.segments.cut {
		c.lineOffset = c.segments.resume()
		c.r.Release()
		c.r = c.reopen()
		ok = c.r.Next()
	}
	if err := c.r.Err(); err != nil {
		var pe *encsv.ParseError
		if errors.As(err, &pe) && c.lineOffset != 0 { // the lines of the input, not of the segment
			pe.StartLine += c.lineOffset
			pe.Line += c.lineOffset
			c.lineOffset = 0
		}
		if c.stream {
			if bad, ok := c.sampleBadCell(); ok && !errors.As(err, &pe) {
				c.err = c.cellErr(bad)
				return false
			}
			c.err = c.streamErr(err, errors.As(err, &pe))
			return false
		}
		if errors.As(err, &pe) { // malformed: a wrong number of cells, a stray quote; the error names the line
			_, _, good := csvRowLines(c.path, -1, -1)
			if cells, header, ok := csvRaggedCells(c.path); ok && errors.Is(err, encsv.ErrFieldCount) {
				c.err = fmt.Errorf("reading CSV row %d: %w (%s, the header has %d)", good, err, english.Of(cells, "cell"), header)
				return false
			}
			c.err = fmt.Errorf("reading CSV row %d: %w", good, err)
			return false
		}
		if bad, ok := csvBadCell(c.path, c.types, c.rows); ok {
			c.err = c.cellErr(bad)
			return false
		}
		lo, hi := c.rows, c.rows+c.chunkRows()-1
		first, last, _ := csvRowLines(c.path, lo, hi)
		rows := fmt.Sprintf("rows %d..%d", lo, hi)
		if lo == hi {
			rows = fmt.Sprintf("row %d", lo)
		}
		if c.table != nil {
			c.err = fmt.Errorf("reading CSV %s%s: %w (the columns are read as table %s's column types)", rows, linesText(first, last), err, c.table.table)
			return false
		}
		c.err = fmt.Errorf("reading CSV %s%s: %w (types are inferred from the first rows; raise -csv-infer-rows or use -csv-strings)",
			rows, linesText(first, last), err)
		return false
	}
	if ok {
		c.rows += c.r.RecordBatch().NumRows()
		if c.rows >= c.sampleRows {
			c.sample = nil // no cell of the rows still to read is in it
		}
	}
	return ok
}

// cellErr is the error of cell bad, which does not read as its column's
// type: named by row, line, column and value, with the table's type or
// the inferred one. A value with spaces around it is refused for every
// type but text, as the arrow CSV reader refuses it (the engine's cast of
// text refuses it too, but for a DECIMAL's): the message says to remove
// them, the advice that holds for every type.
func (c *csvBatches) cellErr(bad csvCell) error {
	where := fmt.Sprintf("reading CSV row %d (line %d), column %q", bad.row, bad.line, c.header[bad.col])
	typ := c.types[bad.col].String()
	advice := "raise -csv-infer-rows or use -csv-strings (every column as text)"
	if c.table != nil {
		typ = c.table.sqlTypes[bad.col]
		where += fmt.Sprintf(" (table %s's %s column)", c.table.table, typ)
		advice = "correct the value (an empty cell is a null), or send with -csv-types infer to read the columns as their first rows are"
	} else {
		where += fmt.Sprintf(" (%s, inferred from the first %d rows)", typ, c.inferRows)
	}
	if t := strings.TrimSpace(bad.cell); t != bad.cell && t != "" && csvCellParses(c.types[bad.col], t) {
		advice = "the CSV reader reads no value but text with spaces around it: remove them"
	}
	return fmt.Errorf("%s: cannot read %s as %s; %s", where, quoteCell(bad.cell), typ, advice)
}

// sampleBadCell is the first cell of the chunk being read (from data row
// c.rows on) that does not read as its column's type, when it is in the
// text a stream input's types were taken with (csvMisfits: the sample rows
// and, with inferred types, which they all fit, the read-ahead past them);
// false when there is none there.
func (c *csvBatches) sampleBadCell() (bad csvCell, ok bool) {
	if len(c.sample) == 0 {
		return csvCell{}, false
	}
	csvMisfits(bytes.NewReader(c.sample), c.types, c.rows, -1, func(cell csvCell) bool {
		bad, ok = cell, true
		return false
	})
	return bad, ok
}

// streamErr is the error of a CSV stream input (read once: nothing finds
// the row or the cell by reading it again); malformed: a wrong number of
// cells or a stray quote (err names the line), else a cell that does not
// parse as its column's type, somewhere in the chunk of rows being read.
func (c *csvBatches) streamErr(err error, malformed bool) error {
	if malformed {
		return fmt.Errorf("reading CSV from row %d on: %w (the input is read once, so the row is not known; the line is)", c.rows, err)
	}
	if c.table != nil {
		return fmt.Errorf("reading CSV rows %d..%d: %w (the columns are read as table %s's column types; the input is read once, "+
			"so the row and line of the cell are not known)", c.rows, c.rows+c.chunkRows()-1, err, c.table.table)
	}
	advice := "; raise -csv-infer-rows or use -csv-strings"
	if c.inferred != "" { // a pause ended the sample: raising -csv-infer-rows alone would change nothing
		advice = fmt.Sprintf("%s: a pause ends the sample unless -csv-infer-rows is given, so give it (-csv-infer-rows %d waits "+
			"for %d rows or the end, however the input pauses) or use -csv-strings", c.inferred, c.inferRows, c.inferRows)
	}
	return fmt.Errorf("reading CSV rows %d..%d: %w (types are inferred from the first rows%s; "+
		"the input is read once, so the row and line of the cell are not known)", c.rows, c.rows+c.chunkRows()-1, err, advice)
}

func (c *csvBatches) chunkRows() int64 {
	if rec := c.r.RecordBatch(); rec != nil {
		return rec.NumRows()
	}
	return 1
}

func (c *csvBatches) RecordBatch() arrow.RecordBatch { return c.r.RecordBatch() }
func (c *csvBatches) Err() error                     { return c.err }

// CSV column types, from the narrowest; a column gets the first type every
// sampled non-null cell parses as.
var csvCandidates = []struct {
	name  string
	typ   arrow.DataType
	parse func(string) bool
}{
	{"int64", arrow.PrimitiveTypes.Int64, func(s string) bool {
		_, err := strconv.ParseInt(s, 10, 64)
		return err == nil && !leadingZero(s)
	}},
	{"float64", arrow.PrimitiveTypes.Float64, func(s string) bool {
		_, err := strconv.ParseFloat(s, 64)
		return err == nil && !leadingZero(s)
	}},
	{"bool", arrow.FixedWidthTypes.Boolean, func(s string) bool {
		_, err := strconv.ParseBool(s)
		return err == nil && len(s) > 1 // not "1", "0", "t", "f"
	}},
	{"date32", arrow.FixedWidthTypes.Date32, func(s string) bool {
		_, err := time.Parse("2006-01-02", s)
		return err == nil
	}},
	{"timestamp", &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, func(s string) bool {
		_, err := arrow.TimestampFromString(s, arrow.Microsecond)
		return err == nil
	}},
}

// inferCSVTypes reads the header and up to sample data rows of path and
// returns the column names and their Arrow types: int64, float64, bool,
// date32, timestamp[us, UTC] or string (also for columns null in every
// sampled row). Cells in csvNullValues count as null.
func inferCSVTypes(path string, sample int, allStrings bool) ([]string, []arrow.DataType, error) {
	f, err := openCSVText(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return inferCSVTypesFrom(f, sample, allStrings)
}

// inferCSVTypesFrom is inferCSVTypes of the CSV text r (after any byte
// order mark); it reads ahead of the rows it samples.
func inferCSVTypesFrom(r io.Reader, sample int, allStrings bool) ([]string, []arrow.DataType, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if head, _ := br.Peek(8); len(head) > 0 {
		if err := notCSV(head); err != nil {
			return nil, nil, err
		}
	}
	cr := encsv.NewReader(br)
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if err == io.EOF {
		return nil, nil, errors.New("empty CSV file: want a header line naming the columns")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("reading the CSV header: %w", err)
	}
	header := append([]string(nil), hdr...)
	seen := map[string]bool{}
	for i, h := range header {
		switch {
		case h == "":
			return nil, nil, fmt.Errorf("CSV header: column %d has no name", i+1)
		case seen[h]:
			return nil, nil, fmt.Errorf("CSV header: column name %q appears twice", h)
		case !utf8.ValidString(h):
			return nil, nil, fmt.Errorf("CSV header: column %d name is not valid UTF-8", i+1)
		}
		seen[h] = true
	}
	// ok[i] has bit j set while every sampled non-null cell of column i
	// parses as csvCandidates[j]; nonNull counts those cells.
	all := uint32(1)<<len(csvCandidates) - 1
	ok := make([]uint32, len(header))
	nonNull := make([]int, len(header))
	for i := range ok {
		ok[i] = all
	}
	for row := 0; row < sample && !allStrings; row++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if errors.Is(err, encsv.ErrFieldCount) {
			return nil, nil, fmt.Errorf("reading CSV row %d: %w (%s, the header has %d)", row, err, english.Of(len(rec), "cell"), len(header))
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading CSV row %d: %w", row, err) // 0-based, as csvBatches; err names the line
		}
		for i, v := range rec {
			if isCSVNull(v) {
				continue
			}
			nonNull[i]++
			for j, c := range csvCandidates {
				if ok[i]&(1<<j) != 0 && !c.parse(v) {
					ok[i] &^= 1 << j
				}
			}
		}
	}
	types := make([]arrow.DataType, len(header))
	for i := range types {
		types[i] = arrow.BinaryTypes.String
		if allStrings || nonNull[i] == 0 {
			continue
		}
		for j, c := range csvCandidates {
			if ok[i]&(1<<j) != 0 {
				types[i] = c.typ
				break
			}
		}
	}
	return header, types, nil
}

// openCSVText opens the CSV file at path past any byte order mark.
func openCSVText(path string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if _, err := skipBOM(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// csvRecords reads the CSV text r (after any byte order mark) as the CSV
// reader does, past its header line, which it returns (valid until the
// next Read). A record with another number of cells than the header is
// an error (encsv.ErrFieldCount) unless the caller sets FieldsPerRecord
// to -1.
func csvRecords(r io.Reader) (*encsv.Reader, []string, error) {
	cr := encsv.NewReader(bufio.NewReaderSize(r, 1<<16))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, nil, err
	}
	return cr, header, nil
}

// csvRaggedCells re-reads the CSV file at path (only after a failure) and
// returns how many cells its first data record with another number of
// cells than its header has, and the header's; ok is false when there is
// none or the file cannot be read.
func csvRaggedCells(path string) (cells, header int, ok bool) {
	f, err := openCSVText(path)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	cr, hdr, err := csvRecords(f)
	if err != nil {
		return 0, 0, false
	}
	header = len(hdr)
	cr.FieldsPerRecord = -1
	for {
		rec, err := cr.Read()
		if err != nil {
			return 0, 0, false
		}
		if len(rec) != header {
			return len(rec), header, true
		}
	}
}

// csvRowLines re-reads the CSV file at path as the reader does (only after
// a failure, so the cost is paid then) and returns the file lines on which
// data rows lo and hi (0-based) start, 0 for a row it does not reach, and
// the number of data rows before the first malformed record (all of them
// when there is none).
func csvRowLines(path string, lo, hi int64) (first, last int, good int64) {
	f, err := openCSVText(path)
	if err != nil {
		return 0, 0, 0
	}
	defer f.Close()
	cr, _, err := csvRecords(f)
	if err != nil {
		return 0, 0, 0
	}
	for ; ; good++ {
		if _, err := cr.Read(); err != nil {
			return first, last, good
		}
		line, _ := cr.FieldPos(0)
		if good == lo {
			first = line
		}
		if good == hi {
			last = line
		}
		if hi >= 0 && good >= hi {
			return first, last, good + 1
		}
	}
}

// csvCell is a cell of a CSV file: its data row (from 0), the line the row
// starts on, its column and its text.
type csvCell struct {
	row  int64
	line int
	col  int
	cell string
}

// csvMisfits reads the CSV text r (after any byte order mark) as the CSV
// reader does and calls each with every cell of data rows from..to-1 (to
// < 0: to the end) that the reader does not read as its column's type in
// types (csvCellParses; a column past types, or of a nil type, takes
// any), row by row, until each returns false or the rows (or the
// well-formed ones) end.
func csvMisfits(r io.Reader, types []arrow.DataType, from, to int64, each func(csvCell) bool) {
	cr, _, err := csvRecords(r)
	if err != nil {
		return
	}
	for row := int64(0); to < 0 || row < to; row++ {
		rec, err := cr.Read()
		if err != nil {
			return
		}
		if row < from {
			continue
		}
		for i, v := range rec {
			if i < len(types) && types[i] != nil && !csvCellParses(types[i], v) {
				line, _ := cr.FieldPos(0)
				if !each(csvCell{row: row, line: line, col: i, cell: v}) {
					return
				}
			}
		}
	}
}

// csvFileMisfits is csvMisfits of the CSV file at path; none when it
// cannot be read.
func csvFileMisfits(path string, types []arrow.DataType, from, to int64, each func(csvCell) bool) {
	f, err := openCSVText(path)
	if err != nil {
		return
	}
	defer f.Close()
	csvMisfits(f, types, from, to, each)
}

// csvBadCell re-reads the CSV file at path from data row from on (only
// after a failure, so the cost is paid then) and returns the first cell
// that does not parse as its column's type in types, as the arrow CSV
// reader parses it; false when there is none (or the file cannot be read).
func csvBadCell(path string, types []arrow.DataType, from int64) (bad csvCell, ok bool) {
	csvFileMisfits(path, types, from, -1, func(c csvCell) bool {
		bad, ok = c, true
		return false
	})
	return bad, ok
}

// csvCellParses reports whether the arrow CSV reader reads cell v as type
// dt (a null for every type but string).
func csvCellParses(dt arrow.DataType, v string) bool {
	if dt.ID() == arrow.STRING || dt.ID() == arrow.LARGE_STRING {
		return true
	}
	if isCSVNull(v) {
		return true
	}
	var err error
	switch t := dt.(type) {
	case *arrow.Int8Type:
		_, err = strconv.ParseInt(v, 10, 8)
	case *arrow.Int16Type:
		_, err = strconv.ParseInt(v, 10, 16)
	case *arrow.Int32Type:
		_, err = strconv.ParseInt(v, 10, 32)
	case *arrow.Int64Type:
		_, err = strconv.ParseInt(v, 10, 64)
	case *arrow.Float32Type:
		_, err = strconv.ParseFloat(v, 32)
	case *arrow.Float64Type:
		_, err = strconv.ParseFloat(v, 64)
	case *arrow.Decimal128Type:
		_, err = decimal128.FromString(v, t.Precision, t.Scale)
	case *arrow.BinaryType:
		_, err = base64.StdEncoding.DecodeString(v)
	case *arrow.BooleanType:
		_, err = strconv.ParseBool(v)
	case *arrow.Date32Type:
		_, err = time.Parse("2006-01-02", v)
	case *arrow.TimestampType:
		_, err = arrow.TimestampFromString(v, t.Unit)
	}
	return err == nil
}

// quoteCell is v quoted for a message, cut after 40 characters.
func quoteCell(v string) string {
	if r := []rune(v); len(r) > 40 {
		return strconv.Quote(string(r[:40])) + "..."
	}
	return strconv.Quote(v)
}

// linesText is " (lines first..last)", " (line first)", or "" when the
// lines are not known.
func linesText(first, last int) string {
	switch {
	case first == 0 || last == 0:
		return ""
	case first == last:
		return fmt.Sprintf(" (line %d)", first)
	}
	return fmt.Sprintf(" (lines %d..%d)", first, last)
}

// leadingZero reports whether s is a number written with a leading zero
// ("02134", "-007"): such columns (zip codes, ids) are kept as strings.
func leadingZero(s string) bool {
	s = strings.TrimLeft(s, "+-")
	return len(s) > 1 && s[0] == '0' && s[1] >= '0' && s[1] <= '9'
}

func isCSVNull(v string) bool {
	for _, n := range csvNullValues {
		if v == n {
			return true
		}
	}
	return false
}

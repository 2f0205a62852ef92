package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// Default in-flight window of SendReader: the Arrow rows and bytes read from
// the reader and not yet resolved. A part (the unit sent concurrently) holds
// at most a quarter of the window.
const (
	DefaultSendWindowRows  = 1 << 20
	DefaultSendWindowBytes = 32 << 20
	// maxPartsInFlight bounds the parts sent at once, whatever their size
	// (a reader of many one-row batches).
	maxPartsInFlight = 8
	// progressParts is how finely a known total is cut into parts when a
	// progress callback is set: at least one call per 1/progressParts, with
	// parts of at least minProgressRows rows.
	progressParts   = 16
	minProgressRows = 128
)

// Progress is how far a SendReader call has got, passed to the callback of
// WithProgress each time a part of the input is resolved.
type Progress struct {
	// Rows is the number of rows resolved so far (acknowledged or failed).
	Rows int64
	// Failed is how many of them failed.
	Failed int64
	// TotalRows is the number of rows of the whole input when known
	// (WithTotalRows), else -1.
	TotalRows int64
}

// SendOption configures one SendReader call.
type SendOption func(*sendOptions)

type sendOptions struct {
	progress    func(Progress)
	total       int64
	windowRows  int64
	windowBytes int64
}

// WithProgress calls fn each time a part of the input is resolved
// (acknowledged or failed): at least once per batch of the reader, and, when
// the total is known, at least once per 1/16 of it (in parts of at least 128
// rows); once, with Rows 0, for an input without rows. Calls are made one at a
// time, from the goroutines of the send, with Rows increasing; fn must
// return quickly and must not call the Wrapper. A panic in fn stops the
// send, as a canceled ctx would, with a *CallbackPanicError as the cause in
// the result's Err (the panic's stack is logged); fn is not called again.
func WithProgress(fn func(Progress)) SendOption {
	return func(o *sendOptions) { o.progress = fn }
}

// WithTotalRows tells SendReader how many rows the reader holds (a table's
// length, a Parquet file's metadata), for Progress.TotalRows and for the
// result of a send that stops before the input's end (a reader error, ctx
// ended, a panic, the Wrapper closed under it, or a call refused before
// reading: a closed Wrapper, a nil ctx): the rows never read, [rows read,
// n), are then in the result as not written (they were never sent), one
// range with the result's Err. They are in the counts, FailedGroups,
// FailedRowIndices, NotWrittenRowIndices and the Extract methods, never
// listed one by one: a result that holds them keeps its failed rows as
// ranges, FailedRows nil (as WithRowRangesOnly; SuccessfulRows is listed
// as usual), so the result's size is that of the rows read and any
// declared total costs nothing per row (the methods that return row
// indices, FailedRowIndices, NotWrittenRowIndices, GroupErrorsByType and
// FailedRowIndicesByErrorType, list them one by one: use FailedGroups for
// a large total). A total below the rows the reader
// holds is only a wrong hint: every row is read and sent as usual, the
// result's TotalRows is the rows read, and Progress.Rows may pass
// Progress.TotalRows. n < 0 means unknown (the default).
func WithTotalRows(n int64) SendOption {
	return func(o *sendOptions) { o.total = max(n, -1) }
}

// WithSendWindow bounds the Arrow rows and bytes that SendReader has read
// from the reader and not yet resolved (defaults DefaultSendWindowRows,
// DefaultSendWindowBytes); memory held from the input is bounded by it, not
// by the input's length. Values <= 0 keep the default.
func WithSendWindow(rows, bytes int64) SendOption {
	return func(o *sendOptions) {
		if rows > 0 {
			o.windowRows = rows
		}
		if bytes > 0 {
			o.windowBytes = bytes
		}
	}
}

// SendReader sends every batch of rdr as one logical batch and blocks until
// each row is durably acknowledged or has failed, or ctx ends. The reader is
// read as the in-flight window (WithSendWindow) allows; batches (cut into
// parts when large) are sent concurrently over the table's streams. The
// result is one TransmissionResult whose row indices count across the
// reader's batches in order (row i of the second batch is row
// len(first)+i); TotalRows is the number of rows read, or the total given
// WithTotalRows if more (see below). Rows that cannot be
// converted fail individually; see FailedAsWhole for whole failures.
//
// If ctx ends, SendReader stops reading, rows not yet acknowledged fail with
// ctx's error (the server may still store them: at-least-once) and it
// returns promptly. Rows never read were never sent: with WithTotalRows
// they are in the result, rows [rows read, total) failed as not written
// with the result's Err (so the result covers the whole input, and
// quarantining or re-sending from it takes them too); without it they are
// not in the result. That holds while
// the reader blocks in Next (a live source): SendReader reads rdr on a
// goroutine of its own, holding a reference (Retain) to it, and a Next that
// has not returned when ctx ends finishes there, after SendReader returned;
// the goroutine then Releases its reference (the caller must not read rdr
// meanwhile). If the reader fails, the rows read before are still sent and
// the result's Err names the read error (the rows never read are then in
// the result as for a stop); a panic in the reader's Next is such a failure,
// a *CallbackPanicError in the result's Err, with its stack logged (one in
// a Next that finishes after the send stopped is only logged). If the
// Wrapper's Close gives up waiting for the call (Close's ctx ended) and
// aborts its streams, the call stops reading as for a ctx end, with an
// error matching ErrClosed (KindClosed), also while Next blocks (that Next
// finishes on its own, as after a ctx end). SendReader does not Release the
// caller's reference to rdr; it Retains the batches it keeps. The error is
// nil exactly when the result's Success is true.
func (w *Wrapper) SendReader(ctx context.Context, rdr array.RecordReader, opts ...SendOption) (*TransmissionResult, error) {
	if rdr == nil {
		res := &TransmissionResult{Err: ErrNilBatch}
		return res, res.Err
	}
	fail := unreadInput(sendOptionsOf(opts).total)
	if res := w.refused(ctx, fail); res != nil {
		return res, res.Err
	}
	start := w.now()
	if !w.enter() {
		res := w.closedResult(fail)
		return res, res.Err
	}
	defer w.active.Done()
	res := w.sendReader(ctx, rdr, opts, start)
	return res, res.Err
}

// SendReaderAsync is SendReader that returns at once; the future resolves
// with SendReader's outcome. It Retains rdr until then (the caller may
// Release its reference but must not read from it). Flush and Close wait
// for the future.
func (w *Wrapper) SendReaderAsync(ctx context.Context, rdr array.RecordReader, opts ...SendOption) *SendFuture {
	if rdr == nil {
		return resolvedFuture(&TransmissionResult{Err: ErrNilBatch}, ErrNilBatch)
	}
	fail := unreadInput(sendOptionsOf(opts).total)
	if res := w.refused(ctx, fail); res != nil {
		return resolvedFuture(res, res.Err)
	}
	start := w.now()
	return w.goAsync(rdr, fail, func() *TransmissionResult { return w.sendReader(ctx, rdr, opts, start) })
}

// unreadInput makes the result of a reader call refused before reading:
// no rows read, and the rows declared (total, WithTotalRows) unread
// (addUnread), as for a call stopped before reading.
func unreadInput(total int64) unsent {
	return func(err error) *TransmissionResult {
		res := &TransmissionResult{Err: err, SuccessfulRanges: [][2]int{}}
		res.addUnread(total, err)
		return res
	}
}

// sendOptionsOf is the defaults with opts applied.
func sendOptionsOf(opts []SendOption) sendOptions {
	o := sendOptions{total: -1, windowRows: DefaultSendWindowRows, windowBytes: DefaultSendWindowBytes}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	return o
}

// closedWhileReading is ErrClosed for a SendReader whose Wrapper's Close
// gave up waiting while it read its input (the stop's cause).
type closedWhileReading struct{}

func (closedWhileReading) Error() string {
	return "zerobus: wrapper closed: close gave up waiting while the input was being read; " +
		"its rows never read were not sent (not written: they can be sent again)"
}

// Is makes it ErrClosed for errors.Is and KindOf.
func (closedWhileReading) Is(target error) bool { return target == ErrClosed }

// readerPart is one part of a SendReader input in flight.
type readerPart struct {
	rows  int64
	bytes int64
	res   *TransmissionResult
}

// readerSend is the state of one SendReader call.
type readerSend struct {
	w      *Wrapper
	ctx    context.Context
	cancel context.CancelCauseFunc // stops the send with a cause (a panic of the progress callback)
	// progressErr is the progress callback's panic (under mu): the result's
	// error also when it came after every row had resolved.
	progressErr error
	o           sendOptions

	mu       sync.Mutex
	room     *sync.Cond // signalled when a part resolves
	parts    []*readerPart
	inRows   int64 // rows of unresolved parts
	inBytes  int64
	inParts  int
	resolved int64
	failed   int64
	stopped  bool // ctx ended (or halt was closed) before the reader did
	// halt is closed when the Wrapper's Close gave up waiting for the call
	// (haltReading): the reading stops, the parts in flight go on (Close's
	// abort fails them itself). halted: the reading stopped for it.
	halt     chan struct{}
	haltOnce sync.Once
	halted   bool
	wg       sync.WaitGroup
}

func (w *Wrapper) sendReader(ctx context.Context, rdr array.RecordReader, opts []SendOption, start time.Time) *TransmissionResult {
	o := sendOptionsOf(opts)
	// One span for the whole call: each part's zerobus.SendBatch span is its
	// child, so a reader's parts are one trace.
	ctx, span := w.tel.Start(ctx, "zerobus.SendReader", w.tableAttr, w.transportAttr)
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s := &readerSend{w: w, ctx: sctx, cancel: cancel, o: o, halt: make(chan struct{})}
	s.room = sync.NewCond(&s.mu)
	go func() { // Close giving up on the call stops the reading, also while Next blocks
		select {
		case <-w.aborted:
			s.haltReading()
		case <-sctx.Done(): // the call returned
		}
	}()
	readErr := s.readAll(rdr)
	s.wg.Wait()

	results := make([]*TransmissionResult, len(s.parts))
	for i, p := range s.parts {
		results[i] = p.res
	}
	if len(results) == 0 && readErr == nil && !s.halted {
		// No rows: send an empty batch of the schema, so that the result
		// and its errors are SendBatch's for no rows. Not after Close
		// gave up on the call: that send would plan the table (a token,
		// a catalog read) while Close waits for it.
		empty := emptyBatch(rdr.Schema())
		results = append(results, w.send(ctx, empty, w.now()))
		empty.Release()
		if s.o.progress != nil { // its one call: a consumer (a bar) sees the send end
			s.mu.Lock()
			s.callProgress(Progress{TotalRows: s.o.total})
			s.mu.Unlock()
		}
	}
	var res *TransmissionResult
	if len(results) == 0 {
		res = &TransmissionResult{Success: true, WriterDisabled: w.cfg.WriterDisabled, SuccessfulRanges: [][2]int{}}
	} else {
		res = mergeResults(results, w.cfg.WriterDisabled, !w.opts.rowRangesOnly)
	}
	switch {
	case readErr != nil:
		readErr = &ConversionError{Row: -1, Reason: fmt.Sprintf("reading the input after row %d failed: %s", res.TotalRows, causeText(readErr)), Err: readErr}
	case s.halted:
		readErr = fmt.Errorf("zerobus: the send was stopped after reading %d rows of the input: %w", res.TotalRows, closedWhileReading{})
	case s.stopped:
		readErr = fmt.Errorf("zerobus: the send was stopped after reading %d rows of the input: %w", res.TotalRows, stream.CtxErr(s.ctx))
	case s.progressErr != nil && res.Err == nil:
		// The panic came with the last part's progress: every row had
		// resolved (their states stand; the input was read to its end), the
		// call still fails with it.
		res.Success, res.Err = false, fmt.Errorf("zerobus: after the last part resolved: %w", s.progressErr)
	}
	if readErr != nil {
		// The input's end was not reached: that is the batch's error, over
		// any row's (the rows' own errors stay on FailedRows).
		res.Success, res.Err, res.InputErr = false, readErr, readErr
		if n := res.addUnread(s.o.total, readErr); n > 0 {
			// The parts' rows are counted as each part resolved; these only here.
			w.tel.RowsFailed.Add(ctx, int64(n), metric.WithAttributes(w.tableAttr, w.transportAttr,
				telemetry.KeyErrorKind.String(string(KindOf(readErr))), telemetry.KeyRowState.String(RowNotWritten.String())))
		}
	}
	res.Latency = w.now().Sub(start)
	span.SetAttributes(attribute.Int("zerobus.rows", res.TotalRows), attribute.Int("zerobus.parts", len(s.parts)))
	telemetry.End(span, res.Err)
	return res
}

// addUnread adds the rows of the input that were never read, [TotalRows,
// total) when the total is known (WithTotalRows), to r as not written with
// err (why the reading stopped): they were never sent. The result then
// covers the whole input, so quarantining the batch that was sent (every
// failed row) or re-sending its not-written rows takes them too. They are
// one run, never listed: the result keeps its failed rows as runs from then
// on (FailedRows nil, as WithRowRangesOnly), so its size is that of the
// rows read, whatever total was declared (a claim of 1<<40 rows listed took
// 40 TiB). A total at most the rows read adds nothing.
func (r *TransmissionResult) addUnread(total int64, err error) int {
	if total <= int64(r.TotalRows) {
		return 0 // unknown, or every row was read
	}
	lo, hi := r.TotalRows, clampRows(total)
	// A copy of the runs: the last may be extended, and runs() may be the
	// runs of a part's result.
	r.setFailed(appendFailed(slices.Clone(r.runs()), lo, hi, err, RowNotWritten), false)
	r.TotalRows = hi
	r.FailedCount += hi - lo
	r.NotWrittenCount += hi - lo
	return hi - lo
}

// clampRows is n as an int, at most math.MaxInt (a declared total beyond
// it, on a 32-bit platform, counts as many rows as a result can).
func clampRows(n int64) int {
	return int(min(max(n, 0), int64(math.MaxInt)))
}

// readAll reads rdr and starts a part for every piece of it the window
// admits; it returns the reader's error, if any. The reader is read on a
// goroutine of its own (batchReader), so that the send stops when ctx ends
// even while the reader blocks in Next.
func (s *readerSend) readAll(rdr array.RecordReader) error {
	maxRows := max(1, s.o.windowRows/4)
	if s.o.progress != nil && s.o.total > 0 {
		maxRows = min(maxRows, max(minProgressRows, (s.o.total+progressParts-1)/progressParts))
	}
	maxBytes := max(1, s.o.windowBytes/4)
	br := startBatchReader(rdr, s.w.log)
	defer br.stop()
	// The newest piece of a batch is held back until the next piece is cut;
	// the last piece of the input, when the total is known (WithTotalRows)
	// and reached, runs on this goroutine: an input of one part is sent
	// without a goroutine hand-off. Otherwise nothing waits for the next
	// batch to be read (a reader may block between batches).
	var held arrow.RecordBatch
	var heldBytes, read int64
	var readErr error
	for {
		if s.ctx.Err() != nil || closed(s.halt) {
			s.stopped, s.halted = true, s.ctx.Err() == nil
			break
		}
		got, ok := br.next(s.ctx, s.halt)
		if !ok {
			s.stopped, s.halted = true, s.ctx.Err() == nil
			break
		}
		rec := got.rec
		if rec == nil {
			readErr = got.err
			break
		}
		n := rec.NumRows()
		if n == 0 {
			continue
		}
		perRow := max(1, recordBytes(rec)/n)
		step := max(1, min(maxRows, maxBytes/perRow))
		for lo := int64(0); lo < n && s.ctx.Err() == nil && !closed(s.halt); lo += step {
			hi := min(n, lo+step)
			if held != nil {
				s.start(held, heldBytes, false)
				held = nil
			}
			s.admit(hi-lo, (hi-lo)*perRow)
			part := rec
			if lo > 0 || hi < n {
				part = rec.NewSlice(lo, hi)
			} else {
				part.Retain()
			}
			held, heldBytes = part, (hi-lo)*perRow
		}
		if read += n; held != nil && (s.o.total < 0 || read != s.o.total) {
			s.start(held, heldBytes, false)
			held = nil
		}
	}
	if held != nil {
		s.start(held, heldBytes, true)
	}
	if readErr != nil && !errors.Is(readErr, context.Canceled) {
		return readErr
	}
	return nil
}

// batchReader calls Next of a reader on a goroutine of its own, one call
// per next, so that a send can stop while the reader blocks in Next (a live
// source, a Python generator waiting on a queue). It holds a reference to
// the reader (Retain) until its goroutine ends: after the last Next, or,
// when the send stopped during a Next, once that call returns (its batch is
// then left to the reader, which its Release frees).
type batchReader struct {
	rdr     array.RecordReader
	log     *slog.Logger
	want    chan struct{}   // a request for one Next
	got     chan readResult // its answer
	quit    chan struct{}   // closed by stop
	done    chan struct{}   // closed when the goroutine has released the reader
	pending bool            // a request not answered
}

// readResult is one Next's outcome: the batch (owned by the reader, valid
// until the next request), or nil at the end with the reader's Err.
type readResult struct {
	rec arrow.RecordBatch
	err error // the reader's Err, or a *CallbackPanicError for a panic of Next
}

func startBatchReader(rdr array.RecordReader, log *slog.Logger) *batchReader {
	br := &batchReader{rdr: rdr, log: log, want: make(chan struct{}), got: make(chan readResult),
		quit: make(chan struct{}), done: make(chan struct{})}
	rdr.Retain()
	go br.run()
	return br
}

func (br *batchReader) run() {
	defer close(br.done)
	defer br.rdr.Release()
	for {
		select {
		case <-br.want:
		case <-br.quit:
			return
		}
		res := br.read()
		select {
		case br.got <- res:
		case <-br.quit:
			return // the send has stopped (a panic of this Next was logged)
		}
		if res.rec == nil {
			return
		}
	}
}

func (br *batchReader) read() (res readResult) {
	defer func() {
		if v := recover(); v != nil {
			// A panic of the user's reader, on the send's goroutine: it fails
			// the send (as the reader's Err would) instead of ending the
			// process; its stack is logged.
			err := &CallbackPanicError{Callback: "RecordReader.Next", Value: v}
			br.log.Error("zerobus: "+err.Error(), "stack", string(debug.Stack()))
			res = readResult{err: err}
		}
	}()
	if br.rdr.Next() {
		if rec := br.rdr.RecordBatch(); rec != nil {
			return readResult{rec: rec}
		}
		// Read as the end, it would report the rows after it as never there.
		return readResult{err: errors.New("the reader's Next returned true but its RecordBatch is nil")}
	}
	return readResult{err: br.rdr.Err()}
}

// next returns the reader's next batch (rec nil at the end, with the
// reader's error); ok is false when ctx ended or halt was closed first (the
// Next goes on without the send). After the end or a false ok, next must
// not be called again.
func (br *batchReader) next(ctx context.Context, halt <-chan struct{}) (readResult, bool) {
	select {
	case br.want <- struct{}{}:
	case <-ctx.Done():
		return readResult{}, false
	case <-halt:
		return readResult{}, false
	}
	br.pending = true
	select {
	case res := <-br.got:
		br.pending = false
		return res, true
	case <-ctx.Done():
		return readResult{}, false
	case <-halt:
		return readResult{}, false
	}
}

// stop ends the reading: it waits for the goroutine to release the reader
// unless a Next is still running (that one finishes on its own).
func (br *batchReader) stop() {
	close(br.quit)
	if !br.pending {
		<-br.done
	}
}

// admit waits until a part of rows and bytes fits the window (a part always
// fits an empty window).
func (s *readerSend) admit(rows, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.inParts > 0 && (s.inParts >= maxPartsInFlight || s.inRows+rows > s.o.windowRows || s.inBytes+bytes > s.o.windowBytes) {
		s.room.Wait()
	}
	s.inRows += rows
	s.inBytes += bytes
	s.inParts++
}

// start sends rec (already retained) as the next part, on a goroutine of its
// own or, inline, on this one.
func (s *readerSend) start(rec arrow.RecordBatch, bytes int64, inline bool) {
	p := &readerPart{rows: rec.NumRows(), bytes: bytes}
	s.mu.Lock()
	s.parts = append(s.parts, p)
	s.mu.Unlock()
	s.wg.Add(1)
	run := func() {
		defer s.wg.Done()
		// A part keeps its successful rows as ranges only; the merged
		// result lists them if the Wrapper does.
		res := s.w.sendRows(s.ctx, rec, s.w.now(), false)
		rec.Release()
		s.mu.Lock()
		defer s.mu.Unlock()
		p.res = res
		s.inRows -= p.rows
		s.inBytes -= p.bytes
		s.inParts--
		s.resolved += int64(res.TotalRows)
		s.failed += int64(res.FailedCount)
		if errors.Is(res.Err, ErrClosed) && s.w.closing() {
			// Close gave up waiting for this call and aborted its streams.
			s.haltReading()
		}
		if s.o.progress != nil && s.progressErr == nil { // not again after its panic
			s.callProgress(Progress{Rows: s.resolved, Failed: s.failed, TotalRows: s.o.total})
		}
		s.room.Broadcast()
	}
	if inline {
		run()
	} else {
		go run()
	}
}

// haltReading stops the reading for Close, which gave up waiting for the
// call and aborted its streams: the call read on, every part failing, so
// an endless input never ended it and Close waited for it forever. The
// rows never read are then not written with ErrClosed
// (closedWhileReading); the parts in flight resolve as Close's abort fails
// them.
func (s *readerSend) haltReading() {
	s.haltOnce.Do(func() { close(s.halt) })
}

// callProgress calls the progress callback (with s.mu held, so calls never
// overlap). A panic in it stops the send, as a callback's error would: it
// runs on a goroutine of the send's, where a panic would end the process.
// The send's error names the panic; the stack is logged.
func (s *readerSend) callProgress(p Progress) {
	defer func() {
		if v := recover(); v != nil {
			err := &CallbackPanicError{Callback: "progress", Value: v}
			s.w.log.Error("zerobus: "+err.Error()+"; the send stops", "stack", string(debug.Stack()))
			s.progressErr = err
			s.cancel(err)
		}
	}()
	s.o.progress(p)
}

// emptyBatch is a zero-row batch of schema, for any schema a reader can
// declare (arrow-go's builders cannot build some, such as a dictionary of
// large strings or a list view of one, and panic).
func emptyBatch(schema *arrow.Schema) arrow.RecordBatch {
	cols := make([]arrow.Array, schema.NumFields())
	for i, f := range schema.Fields() {
		d := convert.EmptyData(f.Type)
		cols[i] = array.MakeFromData(d)
		d.Release()
	}
	rec := array.NewRecordBatch(schema, cols, 0)
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// recordBytes is the size of rec's buffers (whole buffers, also for slices:
// an upper bound of what the batch holds in memory).
func recordBytes(rec arrow.RecordBatch) int64 {
	var n int64
	var walk func(d arrow.ArrayData)
	walk = func(d arrow.ArrayData) {
		for _, b := range d.Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
		for _, c := range d.Children() {
			walk(c)
		}
		if d.DataType().ID() == arrow.DICTIONARY {
			if dict := d.Dictionary(); dict != nil {
				walk(dict)
			}
		}
	}
	for _, c := range rec.Columns() {
		walk(c.Data())
	}
	return n
}

package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/flightstream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// requestOverhead bounds the bytes a request adds around its records
// (message tags and lengths, the offset); per-record framing is counted
// separately.
const requestOverhead = 64

// Conversion chunking: the first chunk of a batch has firstChunkRows rows;
// later chunks are sized from the observed bytes per row to encode about
// maxChunkBytes (bounded by the in-flight byte window), within
// [minChunkRows, maxChunkRows]. Chunks of a few MB let the encoder reuse
// the buffers of acknowledged chunks within one call (a fresh process's
// first 100k-row batch then costs 1.2x a warm one, not 1.7x as with 16 MB
// chunks) and overlap encoding with sending, for the same CPU per row.
const (
	firstChunkRows = 4096
	minChunkRows   = 1024
	maxChunkRows   = 1 << 20
	maxChunkBytes  = 2 << 20
)

// chunkTarget is the record bytes a chunk is sized for: a quarter of the
// in-flight byte window (at least 16 KiB), at most maxChunkBytes, so that
// several chunks fit in the window (each reserves its size there before it
// is converted; recordWindow).
func chunkTarget(window int64) int64 { return min(maxChunkBytes, max(window/4, 16<<10)) }

// batchSend is the state of one SendBatch call.
type batchSend struct {
	w     *Wrapper
	ctx   context.Context
	rec   arrow.RecordBatch
	total int

	failed   []failedRun // failed rows as runs, in any order (result sorts them)
	ok       [][2]int    // successful rows as ranges (result_ranges.go)
	lists    bool        // the result also lists SuccessfulRows and FailedRows
	bytes    int
	attempts int
	resent   resentTally // recoveries and re-sent rows (result_resent.go)

	pending []pendingReq // sent, not yet resolved, in send order

	// debugBusy: this call told the debug writer it is encoding and
	// sending (debugfile.Writer.SenderBusy); debugIdle ends that.
	debugBusy bool
}

// debugIdle tells the debug writer this call no longer encodes or sends
// (it waits for acknowledgements, or returns): the writer writes what it
// held back while the cores were busy. Idempotent.
func (b *batchSend) debugIdle() {
	if b.debugBusy {
		b.debugBusy = false
		b.w.debug.SenderIdle()
	}
}

// pendingReq is one request in flight and the caller's rows it carries.
type pendingReq struct {
	p    *stream.Pending
	base int // row offset of the chunk in the caller's batch
	// rows are the chunk-relative rows, as ascending [lo, hi) runs: a copy,
	// so that the chunk's buffers go back to the encoder as soon as the
	// stream lets go of them, not when this call gets to resolve the
	// request.
	rows  [][2]int
	bytes int
}

func (w *Wrapper) send(ctx context.Context, rec arrow.RecordBatch, start time.Time) *TransmissionResult {
	return w.sendRows(ctx, rec, start, !w.opts.rowRangesOnly)
}

// sendRows is send; lists says whether the result lists SuccessfulRows
// (the parts of a SendReader call do not: their merged result does).
func (w *Wrapper) sendRows(ctx context.Context, rec arrow.RecordBatch, start time.Time, lists bool) *TransmissionResult {
	total := int(rec.NumRows())
	ctx, span := w.tel.Start(ctx, "zerobus.SendBatch", w.tableAttr, w.transportAttr,
		attribute.Int("zerobus.rows", total), attribute.Bool("zerobus.writer_disabled", w.cfg.WriterDisabled))
	b := &batchSend{w: w, ctx: ctx, rec: rec, total: total, lists: lists}
	b.run()
	res := b.result()
	res.Latency = w.now().Sub(start)
	w.record(ctx, res)
	telemetry.End(span, res.Err)
	return res
}

func (b *batchSend) run() {
	w := b.w
	rec := b.rec
	if b.ctx.Err() != nil {
		// Canceled before the send started: nothing is converted or sent
		// (else a stream already open could carry a first chunk, and rows
		// queued behind it would end unknown), every row not written.
		b.failFrom(0, callEnded(b.ctx, "before the send started"))
		return
	}
	// Columns longer than the batch's rows (arrow-go allows them) are cut
	// to its rows, on both transports: the debug file, the size estimate,
	// the casts and the conversion see only the rows sent. A column shorter
	// than the rows is no readable batch: its rows fail, not written (and
	// it is not recorded).
	rec, err := flightstream.FitRows(rec)
	if err != nil {
		b.failFrom(0, &ConversionError{Row: -1, Reason: causeText(err), Err: err})
		return
	}
	if w.debug != nil {
		// The debug writer holds its writes back while this call encodes
		// and sends, and writes while it waits for acknowledgements.
		w.debug.SenderBusy()
		b.debugBusy = true
	}
	defer func(in arrow.RecordBatch) {
		b.debugIdle()
		b.rec = in
		rec.Release()
	}(b.rec)
	b.rec = rec
	// Every batch passed in is recorded, on both transports, also one
	// refused below before conversion (too many columns, a schema or column
	// name the table or plan refuses): what went in is what a developer
	// debugging such a refusal needs to see.
	if w.debug != nil && w.cfg.debugArrow() {
		_, dspan := w.tel.Start(b.ctx, "zerobus.debug.write", telemetry.KeyKind.String("arrow"))
		w.debug.WriteArrow(rec)
		dspan.End()
	}
	if err := columnCountError(int(rec.NumCols())); err != nil {
		b.failFrom(0, err)
		return
	}
	if w.sendsFlight() {
		b.runFlight() // flight.go
		return
	}
	ss := w.schemaFor(b.ctx, rec.Schema())
	defer w.release(ss)
	plan, err := w.planFor(b.ctx, ss)
	if err != nil {
		b.failFrom(0, err)
		return
	}

	if b.total == 0 {
		return
	}

	var (
		sl *slot
		st *stream.Stream
		op *opening
	)
	if !w.cfg.WriterDisabled {
		sl = ss.pick()
		defer sl.load.Add(-1)
		// Start opening the stream now so it overlaps the first conversion.
		st, op = w.start(b.ctx, ss, plan, sl)
	}

	transmitted := false
	chunkRows := firstChunkRows
	target := chunkTarget(w.cfg.MaxInflightBytes)
	targetBytes := int(target)
	// Each chunk reserves its estimated record bytes in the Wrapper's
	// record window before it is converted (recordWindow): what is left of
	// the batch, at most one chunk (chunks grow to that size), plus an
	// eighth, so small batches take a small share and many of them convert
	// at once. Bytes per row: the batch's Arrow size at first (an upper
	// bound for a slice), then what the chunks encoded to.
	perRow := max(1, recordBytes(rec)/int64(b.total))
	chunkRows = min(chunkRows, max(minChunkRows, targetBytes/int(perRow)))
	for lo := 0; lo < b.total; {
		hi := min(b.total, lo+chunkRows)
		est := max(1, int64(hi-lo)*perRow)
		need := est + est/8
		if err := w.records.acquire(b.ctx, need); err != nil {
			b.failFrom(lo, ended(b.ctx, err, windowWait))
			break
		}
		cb, err := b.convert(plan, lo, hi)
		if err != nil {
			w.records.release(need)
			b.failFrom(lo, err)
			break
		}
		hold := w.records.settle(need, cb)
		if n := len(cb.Rows) + len(cb.Errors); n > 0 && cb.Bytes > 0 && len(cb.Rows) > 0 {
			perRow = int64(max(1, cb.Bytes/len(cb.Rows)))
			chunkRows = min(maxChunkRows, max(minChunkRows, targetBytes/int(perRow)))
		}
		if w.debug != nil && w.cfg.debugProto() && len(cb.Records) > 0 {
			// The debug writer references the records until it calls
			// release: the chunk's buffers are not reused before that.
			cb.Retain()
			_, dspan := w.tel.Start(b.ctx, "zerobus.debug.write", telemetry.KeyKind.String("proto"))
			w.debug.WriteProto(plan.Descriptor(), cb.Records, cb.Release)
			dspan.End()
		}
		if w.cfg.WriterDisabled {
			for _, r := range cb.Rows {
				b.ok = appendRow(b.ok, lo+r)
			}
			b.bytes += cb.Bytes
			hold.done()
			lo = hi
			continue
		}
		if st == nil && len(cb.Records) > 0 {
			st, err = w.await(b.ctx, op)
			err = ended(b.ctx, err, "while the table's stream was opening")
			if err != nil {
				b.failRows(lo, cb.Rows, err, RowNotWritten)
				hold.done()
				b.failFrom(hi, err)
				break
			}
		}
		transmitted = true
		err = b.transmit(st, lo, cb, hold)
		if w.debug == nil || !w.cfg.debugProto() {
			// The requests keep only the framed bytes and the rows are
			// noted: the per-row arrays go back to the encoder now, not
			// when the last request is acknowledged (the debug writer
			// reads them later when it has the records).
			cb.ReleaseIndex()
		}
		hold.done() // the requests in flight hold their own references
		if err != nil {
			b.failFrom(hi, err)
			if isTerminal(err) {
				w.invalidate(sl, st)
			}
			break
		}
		lo = hi
	}
	// Every batch that sent records has its wait_acks span, even when the
	// acks all came while it was still sending (then the span is short).
	b.debugIdle()
	if len(b.pending) > 0 || transmitted {
		b.waitAcks(sl, st)
	}
}

// await waits for the stream being opened, or for ctx to end.
func (w *Wrapper) await(ctx context.Context, op *opening) (*stream.Stream, error) {
	select {
	case <-op.done:
		if op.err != nil {
			return nil, w.openErr(op.err)
		}
		return op.st, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// convert encodes rows [lo, hi) of the batch and records row failures.
func (b *batchSend) convert(plan *convert.Plan, lo, hi int) (*convert.Batch, error) {
	w := b.w
	ctx, span := w.tel.Start(b.ctx, "zerobus.convert", attribute.Int("zerobus.rows", hi-lo), w.transportAttr)
	_ = ctx
	t0 := time.Now()
	chunk := b.rec.NewSlice(int64(lo), int64(hi))
	cb, err := plan.Encode(chunk)
	chunk.Release()
	w.tel.ConvertDuration.Record(b.ctx, time.Since(t0).Seconds(), metric.WithAttributes(w.tableAttr, w.transportAttr))
	if err != nil {
		err = &ConversionError{Row: -1, Reason: causeText(err), Err: err}
		telemetry.End(span, err)
		return nil, err
	}
	for _, re := range cb.Errors {
		b.failed = appendFailed(b.failed, lo+re.Row, lo+re.Row+1, fromRowError(re, lo), RowNotWritten)
	}
	span.SetAttributes(attribute.Int("zerobus.rows.failed", len(cb.Errors)), attribute.Int("zerobus.bytes", cb.Bytes))
	span.End()
	return cb, nil
}

// transmit splits the chunk's records into requests under MaxMessageBytes
// and sends them; Send blocks while the in-flight window is full.
func (b *batchSend) transmit(st *stream.Stream, base int, cb *convert.Batch, hold *chunkHold) error {
	w := b.w
	_, span := w.tel.Start(b.ctx, "zerobus.transmit", attribute.Int("zerobus.records", len(cb.Records)), w.transportAttr)
	limit := w.cfg.MaxMessageBytes
	var sendErr error
	for i := 0; i < len(cb.Records); {
		size, j, bytes := requestOverhead, i, 0
		for j < len(cb.Records) {
			n := len(cb.Records[j])
			add := n + 1 + protowire.SizeVarint(uint64(n))
			if j > i && size+add > limit {
				break
			}
			size += add
			bytes += n
			j++
		}
		// The request goes out by reference to the encoder's buffers (no
		// copy); the stream holds the chunk until it is done with them.
		hold.queue()
		p, err := st.SendFramed(b.ctx, stream.Framed{Records: cb.Records[i:j], Frames: cb.Frames(i, j), Hold: hold, Resolved: hold.resolved})
		if err != nil {
			hold.resolved() // not queued
			// Send did not queue the request: nothing of it left.
			sendErr = b.w.mapSendErr(b.ctx, err)
			b.failRows(base, cb.Rows[i:], sendErr, RowNotWritten)
			break
		}
		var runs [][2]int
		for _, r := range cb.Rows[i:j] {
			runs = appendRow(runs, r)
		}
		b.pending = append(b.pending, pendingReq{p: p, base: base, rows: runs, bytes: bytes})
		i = j
		b.reap(st)
	}
	telemetry.End(span, sendErr)
	return sendErr
}

// reap resolves acknowledged requests at the front of the queue without
// blocking, so a long batch does not keep their bookkeeping alive.
func (b *batchSend) reap(st *stream.Stream) {
	n := 0
	for _, pr := range b.pending {
		select {
		case <-pr.p.Done():
		default:
			b.pending = b.pending[n:]
			return
		}
		b.resolve(st, pr, pr.p.Err())
		n++
	}
	b.pending = b.pending[:0]
}

// waitAcks waits for every pending request (or ctx: then requests no RPC
// has carried yet are withdrawn, so that they are certainly not written,
// and the others are never written again; see resolve).
func (b *batchSend) waitAcks(sl *slot, st *stream.Stream) {
	w := b.w
	_, span := w.tel.Start(b.ctx, "zerobus.wait_acks", attribute.Int("zerobus.requests", len(b.pending)), w.transportAttr)
	var firstErr error
	for _, pr := range b.pending {
		err := pr.p.Wait(b.ctx)
		if err != nil {
			err = w.mapSendErr(b.ctx, err)
			if firstErr == nil {
				firstErr = err
			}
			if isTerminal(err) {
				w.invalidate(sl, st)
			}
		}
		b.resolve(st, pr, err)
	}
	b.pending = nil
	telemetry.End(span, firstErr)
}

// resolve records the outcome of one request: acknowledged (err nil) or
// failed, its rows not written or unknown by rowStateOf. A request still
// unresolved (the caller gave up waiting: ctx) is given up on the stream
// first (stream.Stream.GiveUp): withdrawn if no RPC has carried it, else
// never written again, so the attempts and re-sends counted here are all
// it will ever have.
func (b *batchSend) resolve(st *stream.Stream, pr pendingReq, err error) {
	if err != nil && !closed(pr.p.Done()) && !st.GiveUp(pr.p) && closed(pr.p.Done()) && pr.p.Err() == nil {
		// The request could not be taken back (an RPC carried it), but it
		// was acknowledged meanwhile.
		err = nil
	}
	if a := pr.p.Attempts(); a > b.attempts {
		b.attempts = a
	}
	b.resent.add(&pr.p.Future)
	if err != nil {
		err, state := b.w.mapSendErr(b.ctx, err), rowStateOf(pr.p)
		for _, rg := range pr.rows {
			b.failed = appendFailed(b.failed, pr.base+rg[0], pr.base+rg[1], err, state)
		}
		return
	}
	for _, rg := range pr.rows {
		b.ok = appendRange(b.ok, pr.base+rg[0], pr.base+rg[1])
	}
	b.bytes += pr.bytes
}

// rowStateOf is the state of the rows of a request that was not
// acknowledged: not written only if the stream resolved it without any RPC
// having carried it (stream.Pending.NeverSent, the one rule); a request
// that may have left, or is still queued, is unknown.
func rowStateOf(p *stream.Pending) RowState {
	if p.NeverSent() {
		return RowNotWritten
	}
	return RowUnknown
}

// closed reports whether done (a request's, a batch's or an async send's
// Done or Ready channel) is closed; it does not block.
func closed(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// callEnded is the error of a send whose caller's ctx ended (when: at what
// point): what ended it, the ctx's cause (a caller's named timeout, or a
// plain cancel or deadline), stays in the chain, so errors.Is(err,
// context.DeadlineExceeded / context.Canceled) holds (KindCanceled).
func callEnded(ctx context.Context, when string) error {
	what := "was canceled"
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		what = "ran out of time"
	}
	return fmt.Errorf("zerobus: the call %s %s: %w", what, when, stream.CtxErr(ctx))
}

// windowWait is when a send waiting for room in the in-flight window ends.
const windowWait = "waiting for room in the in-flight window (the server acknowledging earlier requests)"

// ended is err, or callEnded(ctx, when) when err is ctx's own ending.
func ended(ctx context.Context, err error, when string) error {
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return callEnded(ctx, when)
	}
	return err
}

// mapSendErr converts a stream error, keeping ctx errors recognisable.
func (w *Wrapper) mapSendErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(kinded); ok || errors.Is(err, ErrClosed) {
		return err
	}
	if ctx.Err() != nil && stream.ContextEnded(err) {
		return callEnded(ctx, "before the server acknowledged these rows")
	}
	w.mu.Lock()
	closed := w.closed
	w.mu.Unlock()
	if closed && errors.Is(err, stream.ErrClosed) {
		return inFlightClosed{}
	}
	return fromStream(err, w.cfg.TableName, w.cfg.Endpoint)
}

// isTerminal reports whether err means the stream can no longer be used.
func isTerminal(err error) bool {
	if err == nil || stream.ContextEnded(err) {
		return false
	}
	var ce *ConversionError
	return !errors.As(err, &ce)
}

// failRows marks chunk-relative rows failed with state.
func (b *batchSend) failRows(base int, rows []int, err error, state RowState) {
	for _, r := range rows {
		b.failed = appendFailed(b.failed, base+r, base+r+1, err, state)
	}
}

// failFrom marks every row from lo to the end failed and not written: they
// were never handed to a stream.
func (b *batchSend) failFrom(lo int, err error) {
	b.failed = appendFailed(b.failed, lo, b.total, err, RowNotWritten)
}

// result assembles the TransmissionResult, upholding total = ok + failed.
func (b *batchSend) result() *TransmissionResult {
	failed := sortRuns(b.failed)
	ok := normalizeRanges(b.ok)
	if ok == nil {
		ok = [][2]int{}
	}
	res := &TransmissionResult{
		Attempts:         b.attempts,
		BatchSizeBytes:   b.bytes,
		TotalRows:        b.total,
		SuccessfulCount:  rangeRows(ok),
		FailedCount:      runRows(failed),
		SuccessfulRanges: ok,
		WriterDisabled:   b.w.cfg.WriterDisabled,
	}
	b.resent.set(res)
	if b.lists && len(ok) > 0 {
		res.SuccessfulRows = expandRanges(ok)
	}
	res.setFailed(failed, b.lists)
	res.countStates()
	if res.SuccessfulCount+res.NotWrittenCount+res.UnknownCount != res.TotalRows {
		// Defensive: this is a bug; make it loud without crashing the caller.
		b.w.log.ErrorContext(b.ctx, "zerobus: internal error: row accounting mismatch",
			"rows", res.TotalRows, "successful", res.SuccessfulCount, "not_written", res.NotWrittenCount, "unknown", res.UnknownCount)
	}
	if res.FailedCount == 0 {
		res.Success = true
		return res
	}
	first := failed[0].err
	same := true
	for _, f := range failed {
		// A row-named run holds rows with their own errors (each naming
		// its row): not one error for all, whatever the runs' count.
		if f.err != first || f.rowNamed {
			same = false
			break
		}
	}
	if same && res.FailedCount == res.TotalRows {
		res.Err = first
	} else {
		res.Err = someRowsFailed(first, res, failed[0].lo)
	}
	return res
}

// someRowsFailed is a result's error when some rows failed, err the first
// failed row's (row first) error, for SendBatch and for merged results.
func someRowsFailed(err error, res *TransmissionResult, first int) error {
	return wrapf(err, "zerobus: %d of %d rows failed; first, row %d: ", res.FailedCount, res.TotalRows, first)
}

// record emits the batch metrics.
func (w *Wrapper) record(ctx context.Context, res *TransmissionResult) {
	outcome := "success"
	switch {
	case res.FailedCount > 0 && res.SuccessfulCount > 0:
		outcome = "partial"
	case res.FailedCount > 0 || res.Err != nil:
		outcome = "failure"
	}
	attrs := metric.WithAttributes(w.tableAttr, w.transportAttr, telemetry.KeyOutcome.String(outcome))
	w.tel.BatchesSent.Add(ctx, 1, attrs)
	w.tel.SendDuration.Record(ctx, res.Latency.Seconds(), attrs)
	if res.SuccessfulCount > 0 && !res.WriterDisabled {
		w.tel.RowsSent.Add(ctx, int64(res.SuccessfulCount), metric.WithAttributes(w.tableAttr, w.transportAttr))
		w.tel.BytesSent.Add(ctx, int64(res.BatchSizeBytes), metric.WithAttributes(w.tableAttr, w.transportAttr))
	}
	if res.ResentRows > 0 {
		w.tel.RowsResent.Add(ctx, int64(res.ResentRows), metric.WithAttributes(w.tableAttr, w.transportAttr))
	}
	if res.FailedCount > 0 {
		type kindState struct {
			kind  ErrorKind
			state RowState
		}
		counts := map[kindState]int{}
		for _, f := range res.runs() { // runs, no per-row lists
			counts[kindState{KindOf(f.err), f.state}] += f.hi - f.lo
		}
		for k, n := range counts {
			w.tel.RowsFailed.Add(ctx, int64(n), metric.WithAttributes(w.tableAttr, w.transportAttr,
				telemetry.KeyErrorKind.String(string(k.kind)), telemetry.KeyRowState.String(k.state.String())))
		}
	}
}

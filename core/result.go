package core

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/plural"
)

// RowState says what is known about a row that was not acknowledged (see
// "Delivery and per-row results" in the package documentation). The zero
// value is RowUnknown, the state that never invites a duplicate.
type RowState uint8

const (
	// RowUnknown: the row was sent (its request may have reached the
	// server) but no acknowledgement came before the send gave up: retries
	// exhausted, a timeout, ctx canceled, a connection lost or a terminal
	// server error after the request left. The server may or may not have
	// stored it; re-sending it can store it twice, so re-send only into a
	// table that deduplicates (an id column and a MERGE, or the table's
	// keys).
	RowUnknown RowState = iota
	// RowNotWritten: the row was certainly not stored: it failed
	// conversion, was rejected before it was sent, or was never handed to
	// an RPC (the stream could not be opened, the call was canceled while
	// it waited in the queue, the Wrapper was closed). Safe to re-send.
	RowNotWritten
)

// String returns "not_written" or "unknown".
func (s RowState) String() string {
	if s == RowNotWritten {
		return "not_written"
	}
	return "unknown"
}

// FailedRow is one row of a batch that was not durably acknowledged: either
// certainly not written (State RowNotWritten) or of unknown outcome (State
// RowUnknown).
type FailedRow struct {
	Index int      // row index in the batch passed to SendBatch
	Err   error    // typed error (see KindOf): *ConversionError, *TransmissionError, …
	State RowState // whether the row may have been stored
}

// TransmissionResult is the outcome of one SendBatch: which rows were durably
// acknowledged and which failed, why, and whether a failed row may have been
// stored anyway (FailedRow.State). Every row has exactly one of three
// outcomes: durable (SuccessfulRows), not written (certainly not stored;
// NotWrittenRowIndices) or unknown (sent without an acknowledgement;
// UnknownRowIndices). Invariants on every path: TotalRows ==
// SuccessfulCount + NotWrittenCount + UnknownCount, FailedCount ==
// NotWrittenCount + UnknownCount, the rows of SuccessfulRanges (and
// len(SuccessfulRows), unless WithRowRangesOnly) == SuccessfulCount and
// the rows of FailedGroups (and len(FailedRows), when not nil) ==
// FailedCount; when the whole batch fails, every row is
// listed as failed (so quarantine with ExtractFailedBatch always works).
// A result is immutable once returned and safe to read from many
// goroutines. Every method is safe on a nil *TransmissionResult (what
// SendFuture.Wait returns when its ctx ends first): it has no rows, and the
// Extract methods return an error.
type TransmissionResult struct {
	// Success is true when every row was acknowledged (or, with
	// WriterDisabled, converted). An empty batch is a success.
	Success bool
	// Err summarises the failure (nil on success): for a whole-batch failure
	// it is that error; for a partial failure it wraps the first row's error,
	// so KindOf(Err) is meaningful.
	Err error
	// Attempts is the highest number of RPCs any request of the batch needed
	// (1 = sent once; 0 = nothing was sent).
	Attempts int
	// Recoveries is how many times a stream carrying the batch's requests
	// moved to a new RPC (after a failure, an ack timeout or the server's
	// close signal) while some of them were written and not yet
	// acknowledged, so that they were written again; 0 when nothing was
	// re-sent.
	Recoveries int
	// ResentRows is how many rows were written again after a recovery
	// (counted once per re-send): delivery is at-least-once, so the server
	// may have stored them twice even though each is reported once (as
	// acknowledged, or as failed). It is an upper bound of the duplicates
	// the batch may have made; 0 means it made none. Rows the call gave up
	// on (a timeout or cancel: reported unknown) are never written again
	// once it returns: their stream drops them at its next recovery
	// instead of re-sending them, so every re-send is one the call counted.
	// With arrow_flight a re-send writes only the rows of a batch not yet
	// acknowledged.
	ResentRows int
	// recoveryIDs identifies the Recoveries (the RPCs left, see
	// stream.Future.Recoveries), so that merged parts count a recovery
	// they shared once.
	recoveryIDs []uint64
	// Latency is the wall time of the call, from SendBatch to the last ack.
	Latency time.Duration
	// BatchSizeBytes is the size of the rows acknowledged (of the rows
	// converted, with WriterDisabled); failed rows are not counted. It is
	// their encoded protobuf size on the gRPC transport and their Arrow IPC
	// body bytes with arrow_flight; with WriterDisabled and arrow_flight,
	// the in-memory size of the cast Arrow batch (nothing is encoded).
	BatchSizeBytes int
	// TotalRows is the number of rows in the batch.
	TotalRows int
	// SuccessfulCount is the number of rows acknowledged.
	SuccessfulCount int
	// FailedCount is the number of rows not acknowledged:
	// NotWrittenCount + UnknownCount.
	FailedCount int
	// NotWrittenCount is the number of failed rows that were certainly not
	// stored (State RowNotWritten): safe to re-send.
	NotWrittenCount int
	// UnknownCount is the number of failed rows that were sent but not
	// acknowledged (State RowUnknown): the server may have stored them.
	UnknownCount int
	// FailedRows lists every row not acknowledged (both states) in row
	// order. It is nil when the Wrapper was created WithRowRangesOnly, and
	// when the result holds rows a SendReader was told of (WithTotalRows)
	// but never read (they may be any number): then FailedGroups (ranges),
	// FailedRowIndices and the other methods give the same rows.
	FailedRows []FailedRow
	// SuccessfulRows lists acknowledged row indices in row order: 8 bytes
	// per row. It is nil when the Wrapper was created WithRowRangesOnly;
	// SuccessfulRanges (compact) and SuccessfulRowIndices always hold the
	// same rows. Kept for compatibility; prefer those two.
	SuccessfulRows []int
	// SuccessfulRanges holds the acknowledged rows as ascending half-open
	// ranges [lo, hi) (the form of FailedGroup.Ranges): a few ranges even
	// for millions of rows. Set on every result a send returns (nil or empty
	// when no row succeeded).
	SuccessfulRanges [][2]int
	// failedRuns holds the failed rows instead of FailedRows with
	// WithRowRangesOnly (see runs).
	failedRuns []failedRun
	// WriterDisabled is true when the Wrapper sends nothing
	// (Config.WriterDisabled): "successful" rows were converted, not sent.
	WriterDisabled bool
	// InputErr is set by SendReader when the input was not read to its end:
	// its reader failed, or the send was stopped. The result then covers
	// the rows read and, when the input's total was given (WithTotalRows),
	// the rows never read, as not written with Err; Err is InputErr,
	// whatever rows also failed.
	InputErr error
}

// errNilResult is the Extract methods' error for a nil result.
var errNilResult = errors.New("zerobus: the result is nil, so it cannot say which rows failed (SendFuture.Wait returns no result when its ctx ends first: Wait again)")

// countStates sets NotWrittenCount and UnknownCount from the failed rows.
func (r *TransmissionResult) countStates() {
	r.NotWrittenCount, r.UnknownCount = 0, 0
	for _, f := range r.runs() {
		if f.state == RowNotWritten {
			r.NotWrittenCount += f.hi - f.lo
		} else {
			r.UnknownCount += f.hi - f.lo
		}
	}
}

// IsPartialSuccess reports whether some but not all rows succeeded.
func (r *TransmissionResult) IsPartialSuccess() bool {
	return r != nil && r.SuccessfulCount > 0 && r.FailedCount > 0
}

// HasFailedRows reports whether any row failed.
func (r *TransmissionResult) HasFailedRows() bool { return r != nil && r.FailedCount > 0 }

// HasSuccessfulRows reports whether any row succeeded.
func (r *TransmissionResult) HasSuccessfulRows() bool { return r != nil && r.SuccessfulCount > 0 }

// FailedRowIndices returns the failed row indices in row order (a new
// slice). It allocates an int per failed row, the rows a SendReader was
// told of (WithTotalRows) but never read included, and those may be any
// number (1<<40 rows take 8 TiB): for such a result use FailedGroups (the
// rows as ranges) or the counts.
func (r *TransmissionResult) FailedRowIndices() []int {
	return r.failedIndices(func(failedRun) bool { return true })
}

// failedIndices lists the failed rows of the runs keep accepts, in order
// (a new slice, never nil).
func (r *TransmissionResult) failedIndices(keep func(failedRun) bool) []int {
	out := []int{}
	for _, f := range r.runs() {
		if keep(f) {
			for i := f.lo; i < f.hi; i++ {
				out = append(out, i)
			}
		}
	}
	return out
}

// NotWrittenRowIndices returns the indices of rows certainly not stored
// (State RowNotWritten), in row order (a new slice). Re-sending them cannot
// duplicate anything. An int per row, a SendReader's rows never read
// included: see FailedRowIndices.
func (r *TransmissionResult) NotWrittenRowIndices() []int { return r.indicesIn(RowNotWritten) }

// UnknownRowIndices returns the indices of rows sent without an
// acknowledgement (State RowUnknown), in row order (a new slice). The
// server may have stored them: re-send only where duplicates are removed.
func (r *TransmissionResult) UnknownRowIndices() []int { return r.indicesIn(RowUnknown) }

func (r *TransmissionResult) indicesIn(state RowState) []int {
	return r.failedIndices(func(f failedRun) bool { return f.state == state })
}

// SuccessfulRowIndices returns the acknowledged row indices in row order (a
// new slice).
func (r *TransmissionResult) SuccessfulRowIndices() []int {
	if r == nil {
		return nil
	}
	if r.SuccessfulRanges == nil && r.SuccessfulRows != nil {
		return append([]int(nil), r.SuccessfulRows...)
	}
	if len(r.SuccessfulRanges) == 0 {
		return nil
	}
	return expandRanges(r.SuccessfulRanges)
}

// FailedRowIndicesByErrorType returns the indices of rows that failed with an
// error of the given kind, in row order. An int per row, a SendReader's
// rows never read included: see FailedRowIndices.
func (r *TransmissionResult) FailedRowIndicesByErrorType(kind ErrorKind) []int {
	out := r.failedIndices(func(f failedRun) bool { return KindOf(f.err) == kind })
	if len(out) == 0 {
		return nil
	}
	return out
}

// GroupErrorsByType returns the failed row indices grouped by error kind.
// An int per failed row, a SendReader's rows never read included: see
// FailedRowIndices (ErrorStatistics gives the rows of each kind as counts).
func (r *TransmissionResult) GroupErrorsByType() map[ErrorKind][]int {
	out := map[ErrorKind][]int{}
	for _, f := range r.runs() {
		k := KindOf(f.err)
		for i := f.lo; i < f.hi; i++ {
			out[k] = append(out[k], i)
		}
	}
	return out
}

// ErrorStats summarises a result's failures; see ErrorStatistics.
type ErrorStats struct {
	TotalRows      int
	SuccessfulRows int
	FailedRows     int // NotWrittenRows + UnknownRows
	NotWrittenRows int
	UnknownRows    int
	SuccessRate    float64 // successful / total; 1 for an empty batch
	FailureRate    float64 // failed / total; 0 for an empty batch
	ByKind         map[ErrorKind]int
}

// ErrorStatistics counts rows by outcome and failed rows by error kind.
func (r *TransmissionResult) ErrorStatistics() ErrorStats {
	if r == nil {
		return ErrorStats{SuccessRate: 1, ByKind: map[ErrorKind]int{}}
	}
	s := ErrorStats{
		TotalRows: r.TotalRows, SuccessfulRows: r.SuccessfulCount, FailedRows: r.FailedCount,
		NotWrittenRows: r.NotWrittenCount, UnknownRows: r.UnknownCount, SuccessRate: 1, ByKind: map[ErrorKind]int{},
	}
	if r.TotalRows > 0 {
		s.SuccessRate = float64(r.SuccessfulCount) / float64(r.TotalRows)
		s.FailureRate = float64(r.FailedCount) / float64(r.TotalRows)
	}
	for _, f := range r.runs() {
		s.ByKind[KindOf(f.err)] += f.hi - f.lo
	}
	return s
}

// ErrorMessages returns the distinct error messages of failed rows, in the
// order they first occur.
func (r *TransmissionResult) ErrorMessages() []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range r.runs() {
		if f.err == nil {
			continue
		}
		for i := f.lo; i < f.hi; i++ {
			m := f.errAt(i).Error()
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
			if !f.rowNamed {
				break // the run's rows share its error
			}
		}
	}
	return out
}

// String summarises the result on one line, e.g. "zerobus: 98/100 rows
// acknowledged (2 not acknowledged: conversion=2; 2 not written), 12345
// bytes in 4ms, 1 attempt"; rows that may have been stored are counted as
// "…, 3 unknown (may be stored))", and a send whose requests were re-sent
// after a stream recovery ends with "…, 2 attempts, 1 stream recovery, up
// to 4096 rows re-sent (possible duplicates)".
func (r *TransmissionResult) String() string {
	if r == nil {
		return "zerobus: <nil result>"
	}
	var b strings.Builder
	// Rows not acknowledged are not all "failed": say which are certainly
	// not stored and which may be (as Python's repr does).
	verb, notOK := "acknowledged", "not acknowledged"
	if r.WriterDisabled {
		verb, notOK = "converted (writer disabled)", "not converted"
	}
	fmt.Fprintf(&b, "zerobus: %d/%d rows %s", r.SuccessfulCount, r.TotalRows, verb)
	if r.FailedCount > 0 {
		byKind := r.ErrorStatistics().ByKind
		kinds := make([]string, 0, len(byKind))
		for k, n := range byKind {
			kinds = append(kinds, fmt.Sprintf("%s=%d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(&b, " (%d %s: %s", r.FailedCount, notOK, strings.Join(kinds, ", "))
		var states []string
		if r.NotWrittenCount > 0 {
			states = append(states, fmt.Sprintf("%d not written", r.NotWrittenCount))
		}
		if r.UnknownCount > 0 {
			states = append(states, fmt.Sprintf("%d unknown (may be stored)", r.UnknownCount))
		}
		if len(states) > 0 {
			fmt.Fprintf(&b, "; %s", strings.Join(states, ", "))
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, ", %d bytes in %v, %d attempt%s", r.BatchSizeBytes, r.Latency.Round(time.Microsecond), r.Attempts, plural.S(r.Attempts))
	if r.Recoveries > 0 || r.ResentRows > 0 {
		fmt.Fprintf(&b, ", %d stream %s, up to %d rows re-sent (possible duplicates)", r.Recoveries, plural.Word(r.Recoveries, "recovery", "recoveries"), r.ResentRows)
	}
	if r.Err != nil && r.FailedCount > 0 {
		fmt.Fprintf(&b, "; first error: %v", r.Err)
	}
	return b.String()
}

// ExtractFailedBatch returns a new record batch holding only the failed rows
// of rec (the batch that was passed to SendBatch), in row order, for
// quarantine: every row not acknowledged, both not written and unknown.
// Replaying it into a table without deduplication can store the unknown rows
// twice; ExtractNotWrittenBatch and ExtractUnknownBatch split it. The caller
// must Release it. rec must have TotalRows rows. Memory comes from the
// default Go allocator.
func (r *TransmissionResult) ExtractFailedBatch(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	return r.ExtractFailedBatchWith(memory.DefaultAllocator, rec)
}

// ExtractSuccessfulBatch returns a new record batch holding only the
// acknowledged rows of rec, in row order. The caller must Release it.
func (r *TransmissionResult) ExtractSuccessfulBatch(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	return r.ExtractSuccessfulBatchWith(memory.DefaultAllocator, rec)
}

// ExtractNotWrittenBatch returns a new record batch holding only the rows of
// rec certainly not stored (State RowNotWritten), in row order: safe to
// send again. The caller must Release it.
func (r *TransmissionResult) ExtractNotWrittenBatch(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	return r.ExtractNotWrittenBatchWith(memory.DefaultAllocator, rec)
}

// ExtractUnknownBatch returns a new record batch holding only the rows of rec
// sent without an acknowledgement (State RowUnknown), in row order: the
// server may have stored them, so send them again only into a table that
// deduplicates. The caller must Release it.
func (r *TransmissionResult) ExtractUnknownBatch(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	return r.ExtractUnknownBatchWith(memory.DefaultAllocator, rec)
}

// ExtractNotWrittenBatchWith is ExtractNotWrittenBatch allocating from mem.
func (r *TransmissionResult) ExtractNotWrittenBatchWith(mem memory.Allocator, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	return r.extract(mem, rec, r.NotWrittenRowIndices())
}

// ExtractUnknownBatchWith is ExtractUnknownBatch allocating from mem.
func (r *TransmissionResult) ExtractUnknownBatchWith(mem memory.Allocator, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	return r.extract(mem, rec, r.UnknownRowIndices())
}

// ExtractFailedBatchWith is ExtractFailedBatch allocating from mem.
func (r *TransmissionResult) ExtractFailedBatchWith(mem memory.Allocator, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	return r.extract(mem, rec, r.FailedRowIndices())
}

// ExtractSuccessfulBatchWith is ExtractSuccessfulBatch allocating from mem.
func (r *TransmissionResult) ExtractSuccessfulBatchWith(mem memory.Allocator, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	if rec == nil {
		return nil, ErrNilBatch
	}
	if err := r.checkRows(rec); err != nil {
		return nil, err
	}
	return takeRanges(mem, rec, r.successRanges())
}

func (r *TransmissionResult) extract(mem memory.Allocator, rec arrow.RecordBatch, rows []int) (arrow.RecordBatch, error) {
	if rec == nil {
		return nil, ErrNilBatch
	}
	if err := r.checkRows(rec); err != nil {
		return nil, err
	}
	return takeRows(mem, rec, rows)
}

// checkRows checks that rec is the batch the result describes.
func (r *TransmissionResult) checkRows(rec arrow.RecordBatch) error {
	if r == nil {
		return errNilResult
	}
	if int(rec.NumRows()) != r.TotalRows {
		return fmt.Errorf("zerobus: the batch has %d rows but the result describes %d; pass the batch that was sent", rec.NumRows(), r.TotalRows)
	}
	return nil
}

// takeRows builds a batch of rec's rows at the given ascending indices:
// contiguous runs become zero-copy slices, concatenated per column.
func takeRows(mem memory.Allocator, rec arrow.RecordBatch, rows []int) (arrow.RecordBatch, error) {
	var runs [][2]int
	for _, i := range rows {
		runs = appendRow(runs, i)
	}
	return takeRanges(mem, rec, runs)
}

// takeRanges builds a batch of rec's rows in the ascending ranges runs.
func takeRanges(mem memory.Allocator, rec arrow.RecordBatch, runs [][2]int) (arrow.RecordBatch, error) {
	switch len(runs) {
	case 0:
		return rec.NewSlice(0, 0), nil
	case 1:
		return rec.NewSlice(int64(runs[0][0]), int64(runs[0][1])), nil
	}
	cols := make([]arrow.Array, rec.NumCols())
	release := func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}
	parts := make([]arrow.Array, len(runs))
	for c := range cols {
		col := rec.Column(c)
		for i, rn := range runs {
			parts[i] = array.NewSlice(col, int64(rn[0]), int64(rn[1]))
		}
		out, err := array.Concatenate(parts, mem)
		for _, p := range parts {
			p.Release()
		}
		if err != nil {
			release()
			return nil, fmt.Errorf("zerobus: cannot copy rows of column %q: %w", rec.ColumnName(c), err)
		}
		cols[c] = out
	}
	out := array.NewRecordBatch(rec.Schema(), cols, int64(rangeRows(runs)))
	release()
	return out, nil
}

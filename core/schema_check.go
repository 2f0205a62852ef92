package core

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// CheckSchema reports, without sending any row, whether batches of schema
// can be sent with this Wrapper's configuration: nil, or the error
// SendBatch would give every row of such a batch for its schema, a
// *ConversionError (Row -1) naming each column whose type Zerobus cannot
// take, its type and what to do. A caller that learns its schema before
// its data (a Spark job planning its tasks, a pipeline starting) can fail
// once, up front, instead of at every send; SendBatch still treats an empty
// batch as a success whatever its schema, so the check is this call.
//
// With transport protobuf it builds the conversion plan (the descriptor
// given with WithDescriptor/WithMessage, or the one derived from schema,
// with the table's optionality when Unity Catalog can be read, as a send
// does). When the catalog gave the table's columns, a derived descriptor's
// columns are checked against them first, as over Flight: a column the
// table lacks, a NOT NULL one the batch lacks, or a type that does not go
// into the table's is a *SchemaMismatchError in the chain, and no stream is
// opened. Then it opens the schema's first stream, as the first send would (it
// stays open for later sends; with the writer disabled nothing is opened):
// the server checks the descriptor against the table's columns there, and a
// refusal is its *TransmissionError (reason SCHEMA_VALIDATION_FAILED and its
// causes, or NOT_FOUND for a missing table). With transport arrow_flight it
// reads the table's columns from Unity Catalog, as the first send does (no
// stream is opened), so the error names every column the table does not
// have or whose type does not cast (*SchemaMismatchError in the chain).
// Errors that are not about the schema or the table (the endpoint or
// catalog unreachable, authentication, ctx ended) are returned as they are:
// KindOf and IsRetryable tell them apart. Safe for concurrent use; after
// Close it returns ErrClosed.
func (w *Wrapper) CheckSchema(ctx context.Context, schema *arrow.Schema) error {
	if schema == nil {
		return ErrNilBatch
	}
	if res := w.refused(ctx, w.allFailed(0)); res != nil {
		return res.Err
	}
	if !w.enter() {
		return ErrClosed
	}
	defer w.active.Done()
	if err := columnCountError(schema.NumFields()); err != nil {
		return err
	}
	ss := w.schemaFor(ctx, schema)
	defer w.release(ss)
	if w.sendsFlight() {
		_, err := w.flightPlan(ctx, ss)
		return err
	}
	plan, err := w.planFor(ctx, ss)
	if err != nil || w.client == nil {
		return err
	}
	// The server checks the descriptor against the table when a stream
	// opens: open the schema's first stream, as the first send would (it
	// stays open for the sends that follow).
	sl := ss.pick()
	defer sl.load.Add(-1)
	st, op := w.start(ctx, ss, plan, sl)
	if st != nil {
		return nil
	}
	if _, err := w.await(ctx, op); err != nil {
		if cerr := ctx.Err(); cerr != nil && err == cerr {
			return fmt.Errorf("zerobus: checking the schema against %s: the stream had not opened when the check's time ran out (a send would keep trying): %w", w.cfg.TableName, stream.CtxErr(ctx))
		}
		return err
	}
	return nil
}

// columnCountError refuses a batch of more than MaxColumns columns (nil
// when n is within it).
func columnCountError(n int) error {
	if n <= MaxColumns {
		return nil
	}
	return &ConversionError{Row: -1, Reason: fmt.Sprintf(
		"the batch has %d columns; Zerobus accepts at most %d: split the table or drop columns", n, MaxColumns)}
}

// sendsFlight reports whether batches go the arrow_flight way (cast to the
// table's Arrow schema), also with the writer disabled.
func (w *Wrapper) sendsFlight() bool {
	return w.flight != nil || w.cfg.WriterDisabled && w.cfg.Transport == TransportArrowFlight
}

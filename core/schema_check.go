package core

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
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
// With transport protobuf the check is local: the conversion plan (the
// descriptor given with WithDescriptor/WithMessage, or the one derived from
// schema); the server checks the table's columns when the first stream
// opens. With transport arrow_flight it also reads the table's columns from
// Unity Catalog, as the first send does (no stream is opened), so the error
// names every column the table does not have or whose type does not cast
// (*SchemaMismatchError in the chain). An error that is not about the
// schema (the catalog unreachable, authentication, ctx ended) is returned as
// it is: KindOf tells them apart (KindConversion is the schema's). Safe for
// concurrent use; after Close it returns ErrClosed.
func (w *Wrapper) CheckSchema(ctx context.Context, schema *arrow.Schema) error {
	if schema == nil {
		return ErrNilBatch
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
	var err error
	if w.sendsFlight() {
		_, err = w.flightPlan(ctx, ss)
	} else {
		_, err = w.planFor(ss)
	}
	return err
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

package pybind

import (
	"context"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TableSchemaAsync starts core.Wrapper.TableSchema and returns at once:
// Python waits for it in slices, as for CheckSchemaAsync, then takes the
// schema with ExportSchema. timeoutMs (<= 0: none) bounds it (the catalog
// read itself is bounded by create_timeout_ms).
func (w *Wrapper) TableSchemaAsync(timeoutMs int64) *Waiting {
	op := &Waiting{}
	return startWaitingOn(op, timeoutMs, func(ctx context.Context) error {
		s, err := w.w.TableSchema(ctx)
		op.schema = s // read once op is done
		return err
	})
}

// ExportSchema waits for the call to return and exports the schema it gave
// (TableSchemaAsync) as an Arrow C stream with no batches into the
// ArrowArrayStream at addr (a struct the caller allocated, zeroed; the
// consumer imports it from there, as ExportDebugFile's, and releases it).
// It returns the call's error when it failed.
func (op *Waiting) ExportSchema(addr int64) error {
	if err := op.Err(); err != nil {
		return err
	}
	if op.schema == nil {
		return errorOf(core.KindUnknown, "zerobus: the call gave no schema to export (only TableSchemaAsync's does)")
	}
	return exportSchemaStream(op.schema, addr)
}

package pybind

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
)

// TableSchemaWaiting is a core.Wrapper.TableSchema running in Go: Python
// waits for it as for a Waiting (Wait, Cancel, Err) and then takes the
// schema (ExportSchema).
type TableSchemaWaiting struct {
	op     *Waiting
	schema *arrow.Schema // set before op is done
}

// TableSchemaAsync starts core.Wrapper.TableSchema and returns at once:
// Python waits for it in slices, as for CheckSchemaAsync. timeoutMs (<= 0:
// none) bounds it (the catalog read itself is bounded by
// create_timeout_ms).
func (w *Wrapper) TableSchemaAsync(timeoutMs int64) *TableSchemaWaiting {
	t := &TableSchemaWaiting{}
	t.op = startWaiting(timeoutMs, func(ctx context.Context) error {
		s, err := w.w.TableSchema(ctx)
		t.schema = s
		return err
	})
	return t
}

// Wait blocks until TableSchema has returned, at most timeoutMs (<= 0:
// until it returns), and reports whether it has.
func (t *TableSchemaWaiting) Wait(timeoutMs int64) bool { return t.op.Wait(timeoutMs) }

// Cancel ends TableSchema's context: it returns promptly.
func (t *TableSchemaWaiting) Cancel() { t.op.Cancel() }

// Err waits for TableSchema to return and gives its error.
func (t *TableSchemaWaiting) Err() error { return t.op.Err() }

// ExportSchema waits for TableSchema to return and exports the schema it
// gave as an Arrow C stream with no batches into the ArrowArrayStream at
// addr (a struct the caller allocated, zeroed; the consumer imports it from
// there, as ExportDebugFile's, and releases it). It reports false, and
// exports nothing, when TableSchema returned no schema: an error (Err), or
// none and no error (core: the writer disabled, the catalog refusing the
// lookup or not knowing the table).
func (t *TableSchemaWaiting) ExportSchema(addr int64) (bool, error) {
	if t.op.Err() != nil || t.schema == nil {
		return false, nil
	}
	if err := exportSchemaStream(t.schema, addr); err != nil {
		return false, err
	}
	return true, nil
}

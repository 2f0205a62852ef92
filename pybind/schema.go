package pybind

import "context"

// CheckSchemaAsync starts core.Wrapper.CheckSchema with the schema of the
// Arrow C stream at streamAddr (Python exports an empty table of the
// schema; the stream is released here, no batch is read) and returns at
// once: Python waits for it in slices (Waiting). timeoutMs (<= 0: none)
// bounds the check (with arrow_flight it reads the table's columns from
// Unity Catalog).
func (w *Wrapper) CheckSchemaAsync(streamAddr, timeoutMs int64) (*Waiting, error) {
	rdr, err := importStream(streamAddr)
	if err != nil {
		return nil, err
	}
	schema := rdr.Schema()
	rdr.Release()
	return startWaiting(timeoutMs, func(ctx context.Context) error { return w.w.CheckSchema(ctx, schema) }), nil
}

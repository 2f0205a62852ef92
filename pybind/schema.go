package pybind

// CheckSchema delegates to core.Wrapper.CheckSchema with the schema of the
// Arrow C stream at streamAddr (Python exports an empty table of the
// schema; the stream is released here, no batch is read). timeoutMs (<= 0:
// none) bounds the check (with arrow_flight it reads the table's columns
// from Unity Catalog).
func (w *Wrapper) CheckSchema(streamAddr, timeoutMs int64) error {
	rdr, err := importStream(streamAddr)
	if err != nil {
		return err
	}
	defer rdr.Release()
	ctx, cancel := timeoutCtx(timeoutMs)
	defer cancel()
	return wrapErr(w.w.CheckSchema(ctx, rdr.Schema()))
}

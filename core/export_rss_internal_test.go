package core

// RecordsHeld returns the encoded record bytes w's chunks hold now (from
// conversion to their last release) and the bytes reserved in its record
// window, for the memory test (rss_test.go).
func RecordsHeld(w *Wrapper) (live, reserved int64) { return w.records.live.Load(), w.records.usage() }

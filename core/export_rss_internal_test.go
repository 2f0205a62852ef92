package core

// RecordsHeld returns the encoded record bytes w's chunks hold now (from
// conversion to their last release) and the bytes reserved in its record
// window, for the memory test (rss_test.go).
func RecordsHeld(w *Wrapper) (live, reserved int64) { return w.records.live.Load(), w.records.usage() }

// RecordsGrown returns the bytes w's chunks took beyond their reservations
// (recordWindow.grow), for the memory test.
func RecordsGrown(w *Wrapper) int64 { return w.records.grown.Load() }

// RecordsPeak returns the most bytes w's record window ever held reserved.
func RecordsPeak(w *Wrapper) int64 { return w.records.peakHeld() }

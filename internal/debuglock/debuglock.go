// Package debuglock lets tests stand in for a debug file writer that is
// still writing a file: such a writer holds an exclusive lock on
// "<file>.lock" (core/internal/debugfile), and readers read a file cut
// inside a message as still being written only then.
package debuglock

import "testing"

// Hold takes the writer lock of the debug file path until the test ends.
// Where writers do not lock their files it does nothing (readers go by the
// file's name there).
func Hold(t testing.TB, path string) {
	t.Helper()
	release, err := hold(path + ".lock")
	if err != nil {
		t.Fatalf("locking %s as its writer would: %v", path, err)
	}
	t.Cleanup(release)
}

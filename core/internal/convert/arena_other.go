//go:build !linux

package convert

// Outside Linux the arena's regions are Go memory: reused
// from the free lists the same way, and dropped (left to the collector)
// when trimmed.

func sysAlloc(size int) ([]byte, bool) { return nil, false }

func sysTrim([]byte) bool { return false }

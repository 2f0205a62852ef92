//go:build !cgo

package pybind

// OpenStreams is the number of Arrow C streams taken over and not released:
// none without cgo (see cstream_nocgo.go).
func OpenStreams() int { return 0 }

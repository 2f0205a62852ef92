//go:build race

package tests_go

// raceEnabled scales the largest tests down: the race detector slows the
// local server's per-record decoding about tenfold.
const raceEnabled = true

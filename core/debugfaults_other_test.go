//go:build !unix

package core_test

func minorFaults() int64 { return 0 }

//go:build unix

package core_test

import "syscall"

// minorFaults is the process's page faults served without I/O so far.
func minorFaults() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Minflt) // int32 on 32-bit platforms
}

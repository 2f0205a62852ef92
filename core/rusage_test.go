package core_test

import "github.com/zerobus-wrapper/zerobus-wrapper/internal/rusage"

// processCPU and minorFaults are the process's CPU time and minor page
// faults so far (0 where getrusage does not exist), for the benchmarks.
var (
	processCPU  = rusage.CPU
	minorFaults = rusage.MinorFaults
)

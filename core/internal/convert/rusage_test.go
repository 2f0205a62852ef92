package convert

import "github.com/zerobus-wrapper/zerobus-wrapper/internal/rusage"

// processCPU and faults are the process's CPU time and minor page faults
// so far (0 where getrusage does not exist), for the benchmarks.
var (
	processCPU = rusage.CPU
	faults     = rusage.MinorFaults
)

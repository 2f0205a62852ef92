package zerobuslocal_test

import "github.com/zerobus-wrapper/zerobus-wrapper/internal/rusage"

// processCPU is the process's CPU time so far (0 where getrusage does not
// exist), for the benchmarks.
var processCPU = rusage.CPU

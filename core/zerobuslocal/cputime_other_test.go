//go:build !unix

package zerobuslocal_test

import "time"

// processCPU is 0 where getrusage does not exist: the benchmarks then report
// no CPU-time metric.
func processCPU() time.Duration { return 0 }

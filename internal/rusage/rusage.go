// Package rusage reads this process's resource usage for the benchmarks:
// CPU time and minor page faults. Where getrusage does not exist (Windows)
// both are 0, and the benchmarks then report no such metric.
package rusage

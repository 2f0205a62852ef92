//go:build !unix

package rusage

import "time"

// CPU is 0 where getrusage does not exist.
func CPU() time.Duration { return 0 }

// MinorFaults is 0 where getrusage does not exist.
func MinorFaults() int64 { return 0 }

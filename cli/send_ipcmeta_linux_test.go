package cli

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// capAddressSpace lets the process's address space grow by at most 2 GiB
// from now on, so a runaway allocation dies here rather than exhausting the
// machine.
func capAddressSpace(t *testing.T) {
	// 2 GiB more address space than the process has now (the race
	// detector's shadow memory counts too).
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var vmKB uint64
	for _, l := range strings.Split(string(status), "\n") {
		if strings.HasPrefix(l, "VmSize:") {
			fmt.Sscanf(strings.TrimPrefix(l, "VmSize:"), "%d", &vmKB)
		}
	}
	if vmKB == 0 {
		t.Fatalf("no VmSize in /proc/self/status")
	}
	limit := vmKB<<10 + 2<<30
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		t.Fatal(err)
	}
}

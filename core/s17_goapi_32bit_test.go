package core_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestCoreBuilds32Bit: core did not compile for GOARCH=386 or arm (an untyped
// constant 1<<40 compared with an int in protoarrow overflowed int), so a
// user on a 32-bit device could not build even core.DefaultConfig() (s17
// review goapi M3).
func TestCoreBuilds32Bit(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles core")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	for _, arch := range []string{"386", "arm"} {
		cmd := exec.Command(gobin, "build", "-o", os.DevNull, ".")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOARCH=%s go build ./core: %v\n%s", arch, err, out)
		}
	}
}

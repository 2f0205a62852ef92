package zerobuspb

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeIsFresh regenerates the code from zerobus.proto into a
// temporary directory and fails if it differs from what is committed.
func TestGeneratedCodeIsFresh(t *testing.T) {
	if testing.Short() {
		t.Skip("regenerating runs the Go toolchain; not in -short mode")
	}
	out := t.TempDir()
	cmd := exec.Command("go", "run", "./internal/protogen", "-dir", ".", "-out", out, "zerobus.proto")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("regenerating: %v\n%s", err, msg)
	}
	for _, name := range []string{"zerobus.pb.go", "zerobus_grpc.pb.go"} {
		want, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: run `go generate ./core/internal/zerobuspb` and commit the result", name)
		}
	}
}

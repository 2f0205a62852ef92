package cli

import (
	"os"
	"regexp"
	"runtime"
	"testing"
)

func TestVersion(t *testing.T) {
	code, out, errOut := runCLI(t, "version")
	if code != ExitOK || errOut != "" {
		t.Fatalf("zerobus version: exit %d, stderr %q", code, errOut)
	}
	// The same version setup.py reads for the Python package.
	src, err := os.ReadFile("../core/version.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^const Version = "([^"]+)"$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("core/version.go has no Version constant")
	}
	want := "zerobus-wrapper " + string(m[1]) + " (" + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if out != want {
		t.Errorf("version printed %q, want %q", out, want)
	}
	if code, _, errOut := runCLI(t, "version", "extra"); code != ExitUsage || errOut == "" {
		t.Errorf("zerobus version extra: exit %d, stderr %q", code, errOut)
	}
}

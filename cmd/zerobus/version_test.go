package main

import (
	"bytes"
	"os"
	"regexp"
	"runtime"
	"testing"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := versionMain(nil, &out); err != nil {
		t.Fatal(err)
	}
	// The same version setup.py reads for the Python package.
	src, err := os.ReadFile("../../core/version.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^const Version = "([^"]+)"$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("core/version.go has no Version constant")
	}
	want := "zerobus-wrapper " + string(m[1]) + " (" + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if out.String() != want {
		t.Errorf("version printed %q, want %q", out.String(), want)
	}
	if err := versionMain([]string{"extra"}, &out); err == nil {
		t.Error("zerobus version extra: no error")
	}
}

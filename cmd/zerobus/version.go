package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

func init() {
	register(command{name: "version", summary: "print the zerobus-wrapper version (core.Version) and the Go toolchain", run: runVersion})
}

func runVersion(_ context.Context, args []string) error {
	return versionMain(args, os.Stdout)
}

// versionMain prints "zerobus-wrapper X.Y.Z (goV os/arch)": the version the
// Go module and the Python package share.
func versionMain(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q (zerobus version takes none)", args)
	}
	_, err := fmt.Fprintf(stdout, "zerobus-wrapper %s (%s %s/%s)\n", core.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

package cli

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

func init() {
	register(command{name: "version", summary: "print the zerobus-wrapper version (core.Version) and the Go toolchain", run: runVersion})
}

const versionUsage = `usage: zerobus version

Prints "zerobus-wrapper X.Y.Z (goV os/arch)": the version the Go module and
the Python package share.
`

func runVersion(_ context.Context, args []string, env Env) error {
	fs := newFlagSet("version", versionUsage)
	rest, err := fs.parse(args, env.Stdout)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("version", "unexpected arguments %q (zerobus version takes none)", rest)
	}
	return versionMain(env.Stdout)
}

// versionMain prints "zerobus-wrapper X.Y.Z (goV os/arch)".
func versionMain(stdout io.Writer) error {
	_, err := fmt.Fprintf(stdout, "zerobus-wrapper %s (%s %s/%s)\n", core.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return err
}

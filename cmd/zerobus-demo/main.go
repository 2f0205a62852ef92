// Command zerobus-demo sends real data through the whole zerobus-wrapper
// pipeline and shows every step. It starts the local Zerobus server
// in-process, creates a core.Wrapper with debug files and an OpenTelemetry
// meter provider, sends three Arrow batches of mixed types (one row of which
// cannot be converted), and prints:
//
//   - each TransmissionResult, and the failed row with its column and reason;
//   - the rows the server stored, as a table;
//   - the debug files written, read back (Arrow rows, protobuf records);
//   - the zerobus.* metrics recorded.
//
// It needs no network beyond loopback and no credentials, and exits 0.
//
//	go run ./cmd/zerobus-demo [-debug-dir DIR]
//
// Debug files go to ./zerobus-debug by default (ignored by git).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	debugDir := flag.String("debug-dir", "zerobus-debug", "directory for the debug files (created if missing)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *debugDir); err != nil {
		fmt.Fprintf(os.Stderr, "zerobus-demo: %s\n", errorText(err))
		os.Exit(1)
	}
}

// demoTable is the table the demo writes.
const demoTable = "main.demo.events"

// run is the whole demo, writing its report to out. Debug files are written
// under debugDir. It returns an error if any step does not behave as the
// demo expects (so the test and `make demo` fail loudly).
func run(ctx context.Context, out io.Writer, debugDir string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if debugDir == "" {
		return errors.New("the debug directory is empty")
	}
	if err := os.MkdirAll(debugDir, 0o700); err != nil {
		return fmt.Errorf("creating the debug directory: %w", err)
	}
	d := &demo{out: out, debugDir: debugDir}
	return d.run(ctx)
}

package pybind

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"

	"github.com/zerobus-wrapper/zerobus-wrapper/cli"
)

// cliRuns holds the cancel functions of the RunCLI calls in progress.
var cliRuns = struct {
	sync.Mutex
	cancel map[int]context.CancelFunc
	next   int
}{cancel: map[int]context.CancelFunc{}}

// RunCLI runs the zerobus command line (package cli, the same code as the
// Go binary) in this process and returns its exit status. argsJSON is the
// argument list without the program name, envJSON the caller's environment
// (a JSON object; the Go runtime does not see changes Python made to it).
// Output goes straight to file descriptors 1 and 2 and input comes from 0:
// the caller flushes its own buffers first. CancelCLI is the interrupt.
func RunCLI(argsJSON, envJSON string) int {
	var args []string
	var env map[string]string
	if err := json.Unmarshal([]byte(argsJSON), &args); err != nil {
		fmt.Fprintf(os.Stderr, "zerobus: bad argument list from Python: %v\n", err)
		return cli.ExitUsage
	}
	if err := json.Unmarshal([]byte(envJSON), &env); err != nil {
		fmt.Fprintf(os.Stderr, "zerobus: bad environment from Python: %v\n", err)
		return cli.ExitUsage
	}
	installTelemetryErrors()
	ctx, cancel := context.WithCancel(context.Background())
	cliRuns.Lock()
	id := cliRuns.next
	cliRuns.next++
	cliRuns.cancel[id] = cancel
	cliRuns.Unlock()
	defer func() {
		cliRuns.Lock()
		delete(cliRuns.cancel, id)
		cliRuns.Unlock()
		cancel()
	}()
	return guardCLI(args, os.Stderr, func() int {
		return cli.RunEnv(ctx, args, cli.Env{
			Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
			LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		})
	})
}

// guardCLI runs a command line and turns a Go panic in it into an error
// naming the command (exit status cli.ExitFailed) with the stack on stderr:
// in the Go binary a panic ends the process, and so it did the Python
// interpreter running the command (Go's runtime aborts). Only a panic in the
// goroutine running the command can be caught here.
func guardCLI(args []string, stderr io.Writer, run func() int) (code int) {
	defer func() {
		if r := recover(); r != nil {
			name := "zerobus"
			if len(args) > 0 {
				name += " " + args[0]
				if args[0] == "debug" && len(args) > 1 {
					name += " " + args[1]
				}
			}
			fmt.Fprintf(stderr, "%s: internal error (a bug, please report it with what follows): panic: %v\n%s", name, r, debug.Stack())
			code = cli.ExitFailed
		}
	}()
	return run()
}

// CancelCLI interrupts every RunCLI in progress, as Ctrl-C does the Go
// binary: send stops reading and prints its summary, local shuts down.
func CancelCLI() {
	cliRuns.Lock()
	defer cliRuns.Unlock()
	for _, cancel := range cliRuns.cancel {
		cancel()
	}
}

// HardStopCLI is the second Ctrl-C of a RunCLI in progress, before the
// caller exits the process at once: cli.HardStop (send prints what it had
// done and removes its temporary quarantine file).
func HardStopCLI() { cli.HardStop() }

// ExitInterrupted is the exit status of a command line interrupted twice
// (cli.ExitInterrupted): the second Ctrl-C exits at once with it, in the
// Go binary and in Python's runner alike.
func ExitInterrupted() int { return cli.ExitInterrupted }

// Package cli is the zerobus-wrapper command line: run the local Zerobus
// server, send Arrow IPC / Parquet / CSV files to a table, and read debug
// files. It is the one implementation behind both the Go binary
// (cmd/zerobus) and the Python package (`python -m zerobus_py` and the
// `zerobus` console script run it in-process through the extension).
//
//	zerobus <command> [flags]
//
// It is an adapter layer: it imports core and core/zerobuslocal; nothing in
// core imports it.
//
// # Exit status
//
// Every command uses the same codes:
//
//	0    success; also -h / --help / help, and `local` stopped by Ctrl-C or SIGTERM
//	1    a runtime failure: rows failed, a file could not be read, the stream failed
//	2    a usage or configuration error (bad flag or argument, missing file, bad
//	     settings); nothing was sent
//	130  interrupted (Ctrl-C) before the work was done
//
// A usage error prints one line naming the problem and one line pointing at
// the command's -h; -h prints the full help on standard output.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"go.opentelemetry.io/otel"
)

// Exit codes of Run (see the package documentation).
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitUsage       = 2
	ExitInterrupted = 130
)

// Env is the outside world of a run: standard streams and the environment.
// Nil fields mean the process's own (os.Stdin, os.Stdout, os.Stderr,
// os.LookupEnv).
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// LookupEnv reads settings (ZEROBUS_*, DEBUG_*, ...); an embedding
	// process whose environment the Go runtime cannot see passes its own.
	LookupEnv func(string) (string, bool)
}

func (e Env) withDefaults() Env {
	if e.Stdin == nil {
		e.Stdin = os.Stdin
	}
	if e.Stdout == nil {
		e.Stdout = os.Stdout
	}
	if e.Stderr == nil {
		e.Stderr = os.Stderr
	}
	if e.LookupEnv == nil {
		e.LookupEnv = os.LookupEnv
	}
	return e
}

// command is one subcommand; each lives in its own file and adds itself to
// commands from an init function of that file.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, env Env) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

// Run runs the command line args (without the program name) and returns the
// exit status. Cancelling ctx is the interrupt (Ctrl-C): `send` stops
// reading, lets the batches in flight finish, prints its summary and
// returns ExitInterrupted; `local` shuts down and returns ExitOK. Run
// installs no signal handler; the caller turns signals into ctx, and calls
// HardStop before it quits at once (a second Ctrl-C).
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return RunEnv(ctx, args, Env{Stdin: stdin, Stdout: stdout, Stderr: stderr})
}

// RunEnv is Run with an explicit environment lookup.
func RunEnv(ctx context.Context, args []string, env Env) int {
	env = env.withDefaults()
	if len(args) == 0 {
		usage(env.Stderr)
		return ExitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			if c, ok := commands[args[1]]; ok {
				return finish(ctx, c.name, c.run(ctx, []string{"-h"}, env), env.Stderr)
			}
		}
		usage(env.Stdout)
		return ExitOK
	case "-version", "--version":
		args = []string{"version"}
	}
	c, ok := commands[args[0]]
	if !ok {
		msg := fmt.Sprintf("zerobus: unknown command %q", args[0])
		if strings.HasPrefix(args[0], "-") {
			msg = fmt.Sprintf("zerobus: flag %s before the command; flags follow it (zerobus send -h)", args[0])
		} else if s := core.DidYouMean(args[0], commandNames()); s != "" {
			msg += "; " + s
		}
		fmt.Fprintln(env.Stderr, msg)
		fmt.Fprintln(env.Stderr, "run 'zerobus help' for the list of commands")
		return ExitUsage
	}
	return finish(ctx, c.name, c.run(ctx, args[1:], env), env.Stderr)
}

// finish prints err (if any) as the command's last line and returns the
// exit status for it.
func finish(ctx context.Context, name string, err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ue *usageError
	var ic *inCommand
	if errors.As(err, &ue) {
		name = ue.command
	} else if errors.As(err, &ic) {
		name = ic.command
	}
	err = namedByKey(err)
	fmt.Fprintln(stderr, errorLine(name, err))
	switch {
	case ue != nil:
		fmt.Fprintf(stderr, "run 'zerobus %s -h' for usage\n", ue.command)
		return ExitUsage
	case errors.Is(err, errInterrupted) || (ctx.Err() != nil && errors.Is(err, context.Canceled)):
		return ExitInterrupted
	case isConfigError(err) || errors.As(err, new(*setupError)):
		return ExitUsage
	}
	return ExitFailed
}

// namedByKey returns err with the settings of a *core.ConfigurationError
// anywhere in its chain named by key, as -config files and Python do, not
// by Go field, keeping the text that wraps it (core.ByKeyError).
func namedByKey(err error) error { return core.ByKeyError(err) }

// isConfigError reports a bad configuration: a *core.ConfigurationError
// anywhere in err's chain.
func isConfigError(err error) bool {
	var ce *core.ConfigurationError
	return errors.As(err, &ce)
}

// hardStops are what the running commands do when the process quits at
// once (HardStop), by registration id.
var hardStops struct {
	mu   sync.Mutex
	next int
	fns  map[int]func()
}

// onHardStop registers fn for HardStop until the returned function is
// called.
func onHardStop(fn func()) (unregister func()) {
	hardStops.mu.Lock()
	defer hardStops.mu.Unlock()
	if hardStops.fns == nil {
		hardStops.fns = map[int]func(){}
	}
	id := hardStops.next
	hardStops.next++
	hardStops.fns[id] = fn
	return func() {
		hardStops.mu.Lock()
		defer hardStops.mu.Unlock()
		delete(hardStops.fns, id)
	}
}

// HardStop is for a caller about to end the process at once while a
// command runs (the second Ctrl-C): each running command says what it had
// done (send: one line on stderr with the rows acknowledged and in flight
// and where reading stopped; with -json also a minimal JSON object on
// stdout, "interrupted" and "aborted" true) and removes its temporary
// files (send's -quarantine file being written). It returns when they
// are done; the caller then exits with ExitInterrupted.
func HardStop() {
	hardStops.mu.Lock()
	fns := make([]func(), 0, len(hardStops.fns))
	for _, fn := range hardStops.fns {
		fns = append(fns, fn)
	}
	hardStops.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// errInterrupted matches (errors.Is) the error of a command stopped by an
// interrupt; the exit status is then ExitInterrupted.
var errInterrupted = errors.New("interrupted")

// usageError is a bad flag or argument of a command; the exit status is
// ExitUsage and a hint to the command's -h follows the message.
type usageError struct {
	command string // e.g. "send", "debug read"
	err     error
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// setupError is a problem with the command's setup that is no bad flag
// (a port in use): the exit status is ExitUsage, without the hint to -h.
type setupError struct{ err error }

func (e *setupError) Error() string { return e.err.Error() }
func (e *setupError) Unwrap() error { return e.err }

// inCommand is an error of a subcommand (e.g. "debug read"), which finish
// names by it rather than by the command.
type inCommand struct {
	command string
	err     error
}

func (e *inCommand) Error() string { return e.err.Error() }
func (e *inCommand) Unwrap() error { return e.err }

func usageErrorf(command, format string, a ...any) error {
	return &usageError{command: command, err: fmt.Errorf(format, a...)}
}

// errorLine is the last line the command prints for err: "zerobus send: …",
// without the library's own "zerobus: " prefix after it.
func errorLine(command string, err error) string {
	return fmt.Sprintf("zerobus %s: %s", command, strings.TrimPrefix(err.Error(), "zerobus: "))
}

func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: zerobus <command> [flags]\n\ncommands:")
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `zerobus <command> -h` for a command's flags.")
	fmt.Fprintln(w, "Exit status: 0 success, 1 failure (rows failed, unreadable file), 2 usage or configuration error, 130 interrupted.")
}

// flagSet is a command's flags with its help text.
type flagSet struct {
	*flag.FlagSet
	command string // "send", "debug read", ...
	header  string // printed before the flags by -h
	verbose *bool
}

// newFlagSet makes the flags of command, with -v (debug logging) defined.
func newFlagSet(command, header string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet("zerobus "+command, flag.ContinueOnError), command: command, header: header}
	fs.SetOutput(io.Discard) // parse errors are returned, printed once by finish
	fs.Usage = func() {}
	fs.verbose = fs.Bool("v", false, "verbose: log debug messages to stderr (log_level debug)")
	return fs
}

// parse parses args, flags anywhere among the positional arguments (up to
// a "--"), and returns the positional ones. -h prints the help to stdout
// and returns flag.ErrHelp; a bad flag returns a *usageError.
func (fs *flagSet) parse(args []string, stdout io.Writer) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.printHelp(stdout)
				return nil, err
			}
			return nil, &usageError{command: fs.command, err: fs.suggested(err)}
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// suggested is err with the Go core's "did you mean" (core.DidYouMean,
// the rule of commands, YAML keys and Python keywords) among the flag
// set's flags when err is an undefined flag (of 3 letters or more) that is
// close to one.
func (fs *flagSet) suggested(err error) error {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok || len(name) < 3 { // -x is no typo of -v
		return err
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, "-"+f.Name) })
	if s := core.DidYouMean("-"+name, names); s != "" {
		return fmt.Errorf("%w; %s", err, s)
	}
	return err
}

func (fs *flagSet) printHelp(w io.Writer) {
	fmt.Fprint(w, fs.header)
	if !strings.HasSuffix(fs.header, "flags:\n") {
		fmt.Fprintln(w, "\nflags:")
	}
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// stderrLogHandler writes log records to stderr as text: debug and above
// with -v, else warnings and errors only, less the records of failures the
// command reports itself (reportedByCommand).
func stderrLogHandler(stderr io.Writer, verbose bool) slog.Handler {
	if verbose {
		return slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
	}
	return dropReported{slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})}
}

// reportedByCommand are the messages of the library's log records whose
// failure is also the error of the send it ends, which the command prints
// (the summary's "stopped early" or failed rows, or its error line): on
// stderr without -v they would show the same failure twice. -v and the
// log_file keep them.
var reportedByCommand = map[string]bool{
	core.LogStreamCreationFailed: true, // the final one; "...; retrying" lines stay
}

// dropReported is a slog.Handler that drops the records of reportedByCommand.
type dropReported struct{ slog.Handler }

func (h dropReported) Handle(ctx context.Context, r slog.Record) error {
	if reportedByCommand[r.Message] {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h dropReported) WithAttrs(attrs []slog.Attr) slog.Handler {
	return dropReported{h.Handler.WithAttrs(attrs)}
}

func (h dropReported) WithGroup(name string) slog.Handler {
	return dropReported{h.Handler.WithGroup(name)}
}

// cliTelemetry sets up a command's telemetry and logger from cfg with
// core.SetupTelemetry, as every binding does: OTLP export when
// observability is on, JSON log lines to log_file (rotated) at log_level.
// -v sets log_level to debug; stderr gets the records as text (warnings and
// errors, everything with -v). With observability on, OpenTelemetry's
// process-wide error handler logs export failures to stderr until the
// returned restore puts the previous handler back: call it (defer) when the
// command returns, after the telemetry is shut down, as the command line may
// run in-process (zerobus_py._cli) before other Wrappers.
func cliTelemetry(ctx context.Context, cfg core.Config, verbose bool, stderr io.Writer) (tel *core.Telemetry, restore func(), err error) {
	if verbose {
		cfg.LogLevel = "debug"
	}
	h := stderrLogHandler(stderr, verbose)
	restore = func() {}
	if cfg.ObservabilityEnabled {
		prev := otel.GetErrorHandler()
		core.LogTelemetryErrors(h) // export failures: warnings on stderr like every other record
		restore = func() { otel.SetErrorHandler(prev) }
	}
	tel, err = core.SetupTelemetry(ctx, cfg, core.TelemetryLogHandler(h))
	if err != nil {
		restore()
		return nil, func() {}, err
	}
	return tel, restore, nil
}

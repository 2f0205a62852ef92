// Command zerobus is the zerobus-wrapper command line: run the local Zerobus
// server, send Arrow IPC / Parquet / CSV files to a table, and read debug files.
//
//	zerobus <command> [flags]
//
// Run `zerobus help` for the list of commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand; each lives in its own file and adds itself to
// commands from an init function of that file.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage()
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "zerobus: unknown command %q\n\n", args[0])
		usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := c.run(ctx, args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, errorLine(c.name, err))
		return 1
	}
	return 0
}

// errorLine is the last line the command prints for err: "zerobus send: …",
// without the library's own "zerobus: " prefix after it.
func errorLine(command string, err error) string {
	return fmt.Sprintf("zerobus %s: %s", command, strings.TrimPrefix(err.Error(), "zerobus: "))
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: zerobus <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun `zerobus <command> -h` for a command's flags.")
}

// Command zerobus is the zerobus-wrapper command line (package cli): run the
// local Zerobus server, send Arrow IPC / Parquet / CSV files to a table, and
// read debug files. Run `zerobus help` for the list of commands.
//
// The first Ctrl-C (or SIGTERM) cancels the command's context (send stops
// reading, gives the batches in flight -grace and prints its summary, local
// shuts down); a second one exits at once with status 130, after
// cli.HardStop (send prints what it had done and removes its temporary
// quarantine file).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/zerobus-wrapper/zerobus-wrapper/cli"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		cancel()
		<-sig
		cli.HardStop()
		os.Exit(cli.ExitInterrupted)
	}()
	os.Exit(cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

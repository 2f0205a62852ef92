package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestSendFailurePrintedOnce: a failure that stops `zerobus send` is printed
// once on a terminal (stdout and stderr together): in the summary's "stopped
// early" line, with no WARN log line nor error line repeating it; -quiet
// prints it on the error line. The exit status stays 1. (The WARN line of
// the attempt retried with a fresh token stays: it is another attempt.)
// When stdout is not that terminal (a file, a pipe) or is -json, stderr
// keeps the full error line: the cause is not only in the report.
func TestSendFailurePrintedOnce(t *testing.T) {
	oneTerminal := onOneTerminal(t)
	s := startServer(t)
	const table = "main.default.once"
	if err := s.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.PermissionDenied,
		Message: "no grant here", Persistent: true}); err != nil {
		t.Fatal(err)
	}
	file := writeOneRowArrow(t)
	args := append(append([]string{"send"}, connFlags(s, table)...), file)

	code, stdout, stderr, both := runCLIOrdered(t.Context(), args...)
	if code != ExitFailed {
		t.Errorf("exit %d, want %d", code, ExitFailed)
	}
	const failure = `lacks privileges on table main.default.once` // the final error's own words
	if n := strings.Count(both, failure); n != 1 || strings.Contains(stderr, `msg="zerobus: stream creation failed"`) {
		t.Errorf("the failure is printed %d times, want once:\n--- stdout\n%s--- stderr\n%s", n, stdout, stderr)
	}
	if !strings.Contains(stdout, "stopped early: authentication failed") || !strings.Contains(stderr, "zerobus send: stopped early (see the summary)") {
		t.Errorf("want the failure in the summary and a pointer to it on stderr:\n--- stdout\n%s--- stderr\n%s", stdout, stderr)
	}

	// the same on Arrow Flight, whose final record was another message
	code, stdout, stderr, both = runCLIOrdered(t.Context(), append([]string{"send", "-transport", "arrow_flight"}, args[1:]...)...)
	if n := strings.Count(both, failure); code != ExitFailed || n != 1 || strings.Contains(stderr, "stream creation failed\"") {
		t.Errorf("arrow_flight: exit %d, the failure printed %d times, want once:\n--- stdout\n%s--- stderr\n%s", code, n, stdout, stderr)
	}

	code, stdout, stderr, _ = runCLIOrdered(t.Context(), append([]string{"send", "-quiet"}, args[1:]...)...)
	if code != ExitFailed || stdout != "" || strings.Count(stderr, failure) != 1 || !strings.Contains(stderr, "zerobus send: stopped: authentication failed") {
		t.Errorf("-quiet: exit %d, want the failure once on the error line:\n--- stdout\n%s--- stderr\n%s", code, stdout, stderr)
	}

	// stdout redirected (not the terminal stderr is on), with or without
	// -json: stderr says why, on the error line (session 16 review, F6)
	*oneTerminal = false
	for _, extra := range [][]string{nil, {"-json"}} {
		code, stdout, stderr, _ = runCLIOrdered(t.Context(), append(append([]string{"send"}, extra...), args[1:]...)...)
		if code != ExitFailed || strings.Count(stderr, failure) != 1 || !strings.Contains(stderr, "zerobus send: stopped: authentication failed") ||
			strings.Contains(stderr, "see the summary") || !strings.Contains(stdout, failure) {
			t.Errorf("stdout not on stderr's terminal %v: exit %d, want the failure on stderr's error line and in the summary:\n--- stdout\n%s--- stderr\n%s",
				extra, code, stdout, stderr)
		}
	}
	*oneTerminal = true

	// -v keeps every log record.
	_, _, stderr, _ = runCLIOrdered(t.Context(), append([]string{"send", "-v"}, args[1:]...)...)
	if !strings.Contains(stderr, `msg="zerobus: stream creation failed"`) {
		t.Errorf("-v: the final stream creation record is missing:\n%s", stderr)
	}
}

// TestSendRefusedConnectionOneHint: an endpoint that refuses connections,
// retried until the budget is spent, stops the run with one hint, the
// connection's (stdout and stderr on one terminal).
func TestSendRefusedConnectionOneHint(t *testing.T) {
	onOneTerminal(t)
	s := startServer(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	cfg := filepath.Join(t.TempDir(), "zerobus.yaml")
	yaml := fmt.Sprintf("endpoint: %s\nunity_catalog_url: %s\nclient_id: %s\nclient_secret: %s\ntable_name: main.default.refused\n"+
		"retry_max_attempts: 2\nretry_base_delay_ms: 1\nretry_max_delay_ms: 5\n", closed, s.WorkspaceURL(), s.ClientID(), s.ClientSecret())
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	code, stdout, stderr, both := runCLIOrdered(ctx, "send", "-config", cfg, writeOneRowArrow(t))
	if code != ExitFailed || !strings.Contains(stdout, "stopped early: gave up after 2 attempts: cannot reach "+closed) {
		t.Fatalf("exit %d:\n--- stdout\n%s--- stderr\n%s", code, stdout, stderr)
	}
	if n, m := strings.Count(both, "(check the endpoint URL, network and TLS settings)"), strings.Count(both, "raise retry_max_attempts"); n != 1 || m != 0 {
		t.Errorf("connection hint %d times, retry hint %d times; want 1 and 0:\n--- stdout\n%s--- stderr\n%s", n, m, stdout, stderr)
	}
}

// onOneTerminal makes `zerobus send` take its stdout and stderr for one
// terminal (as a user at a shell sees them) until the test ends, or until
// it sets the returned flag false.
func onOneTerminal(t *testing.T) *bool {
	t.Helper()
	one := true
	old := outputsOnOneTerminal
	t.Cleanup(func() { outputsOnOneTerminal = old })
	outputsOnOneTerminal = func(Env) bool { return one }
	return &one
}

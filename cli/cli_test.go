package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.opentelemetry.io/otel"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// runCLI runs the command line in-process with an empty environment and
// returns the exit status, stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLICtx(t.Context(), args...)
}

func runCLICtx(ctx context.Context, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := RunEnv(ctx, args, Env{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	return code, out.String(), errOut.String()
}

// TestHelpExitsZero: -h, --help and help print the help on stdout and exit 0
// for every command.
func TestHelpExitsZero(t *testing.T) {
	cases := [][]string{{"-h"}, {"--help"}, {"help"}, {"help", "send"}, {"debug", "-h"}, {"debug", "help"}, {"debug", "read", "-h"}}
	for _, name := range commandNames() {
		cases = append(cases, []string{name, "-h"}, []string{name, "--help"}, []string{name, "-help"})
	}
	for _, args := range cases {
		code, out, errOut := runCLI(t, args...)
		if code != ExitOK || errOut != "" || !strings.Contains(out, "usage: zerobus") {
			t.Errorf("zerobus %s: exit %d, stderr %q, stdout %.80q", strings.Join(args, " "), code, errOut, out)
		}
	}
	if _, out, _ := runCLI(t, "local", "-h"); !strings.Contains(out, "-max-rows") || !strings.Contains(out, "-v\t") && !strings.Contains(out, "-v ") {
		t.Errorf("local -h lacks its flags:\n%s", out)
	}
}

// TestUnknownFlagOneLine: a mistyped flag prints the error and a usage hint,
// nothing else, and exits 2.
func TestUnknownFlagOneLine(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		cmd, flag string
	}{
		{[]string{"send", "-nope", "x.csv"}, "send", "-nope"},
		{[]string{"local", "--qqqq"}, "local", "-qqqq"}, // a close one gets a suggestion: TestS18MistypedFlagSuggests
		{[]string{"debug", "read", "-qqqq", "json", "f.proto"}, "debug read", "-qqqq"},
		{[]string{"version", "-x"}, "version", "-x"},
	} {
		code, out, errOut := runCLI(t, tc.args...)
		want := "zerobus " + tc.cmd + ": flag provided but not defined: " + tc.flag + "\n" +
			"run 'zerobus " + tc.cmd + " -h' for usage\n"
		if code != ExitUsage || out != "" || errOut != want {
			t.Errorf("zerobus %q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, out, errOut, want)
		}
	}
}

func TestUnknownCommandSuggests(t *testing.T) {
	for in, want := range map[string]string{"sned": "send", "sen": "send", "lcoal": "local", "debgu": "debug", "versoin": "version", "Send": "send"} {
		code, _, errOut := runCLI(t, in)
		if code != ExitUsage || !strings.Contains(errOut, "did you mean \""+want+"\"?") {
			t.Errorf("zerobus %s: exit %d, stderr %q; want a suggestion of %s", in, code, errOut, want)
		}
	}
	code, _, errOut := runCLI(t, "frobnicate")
	if code != ExitUsage || strings.Contains(errOut, "did you mean") || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("zerobus frobnicate: exit %d, stderr %q", code, errOut)
	}
	if code, _, errOut := runCLI(t); code != ExitUsage || !strings.Contains(errOut, "commands:") {
		t.Errorf("zerobus (no command): exit %d, stderr %q", code, errOut)
	}
}

// TestExitCodes: usage and configuration errors 2, runtime failures 1.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := writeOneRowArrow(t)
	garbage := filepath.Join(dir, "g.parquet")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte{7}, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	garbageProto := filepath.Join(dir, "g.proto")
	if err := os.WriteFile(garbageProto, bytes.Repeat([]byte{7}, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	badYAML := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badYAML, []byte("max_inflight_records: -5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"send", "-dry-run", good}, ExitOK},
		{[]string{"send", good}, ExitUsage},                                       // no connection settings
		{[]string{"send", "-config", badYAML, "-dry-run", good}, ExitUsage},       // bad configuration
		{[]string{"send", "-dry-run", filepath.Join(dir, "none.csv")}, ExitUsage}, // missing file
		{[]string{"send", "-dry-run", dir}, ExitUsage},                            // a directory
		{[]string{"send", "-dry-run"}, ExitUsage},                                 // no file
		{[]string{"send", "-dry-run", "-local", good}, ExitUsage},
		{[]string{"send", "-local", "-quarantine", filepath.Join(dir, "no", "q.arrow"), good}, ExitUsage},
		{[]string{"send", "-dry-run", garbage}, ExitFailed}, // unreadable content
		{[]string{"debug"}, ExitUsage},
		{[]string{"debug", "write"}, ExitUsage},
		{[]string{"debug", "read", filepath.Join(dir, "x.proto")}, ExitUsage}, // missing file, as for send
		{[]string{"debug", "read", garbageProto}, ExitFailed},                 // unreadable (no descriptor beside it)
		{[]string{"local", "-max-rows", "-1"}, ExitUsage},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != tc.want {
			t.Errorf("zerobus %q: exit %d, want %d; stderr:\n%s", tc.args, code, tc.want, errOut)
		}
		if code != ExitOK && !strings.HasPrefix(errOut, "zerobus ") {
			t.Errorf("zerobus %q: stderr does not start with the error line:\n%s", tc.args, errOut)
		}
	}
}

// TestLocalInterruptExitsZero: `local` stopped by its context (Ctrl-C) exits 0.
func TestLocalInterruptExitsZero(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if code, out, errOut := runCLICtx(ctx, "local", "-json"); code != ExitOK || !strings.Contains(out, `"endpoint"`) {
		t.Errorf("local: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestSendInterrupt: cancelling the context (Ctrl-C) stops reading; the
// batches in flight finish, so every row read is stored; the summary says
// interrupted and the exit status is 130.
func TestSendInterrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.parquet")
	writeParquet(t, path, mixedSchema, 50_000, func(yield func(arrow.RecordBatch) bool) {
		for i := 0; i < 20; i++ {
			if !yield(mixedBatch(memory.DefaultAllocator, i*10_000, 10_000)) {
				return
			}
		}
	})
	ctx, cancel := context.WithCancel(t.Context())
	timer := time.AfterFunc(300*time.Millisecond, cancel)
	defer timer.Stop()
	code, out, errOut, both := runCLIOrdered(ctx, "send", "-local", "-json", "-batch-rows", "10", path)
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d (did the send finish within 300 ms?); stderr:\n%s", code, ExitInterrupted, errOut)
	}
	var sum summaryJSON
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	if !sum.Interrupted || sum.Success || sum.RowsRead == 0 || sum.RowsSent != sum.RowsRead || sum.RowsFailed != 0 ||
		sum.StoredRows == nil || *sum.StoredRows != sum.RowsRead {
		t.Errorf("summary after an interrupt: %+v (stored %v)", sum, sum.StoredRows)
	}
	for _, want := range []string{"interrupted: finishing the batches in flight", "zerobus send: interrupted: reading stopped after 0 of 1 files"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	assertInterruptLineFirst(t, out, both)

	// Interrupted before the first file: nothing read, still 130, the line
	// once and before the summary (the watcher and the end of the send
	// race to print it: repeat).
	cancelled, cancel2 := context.WithCancel(t.Context())
	cancel2()
	small := filepath.Join(t.TempDir(), "small.csv")
	if err := os.WriteFile(small, []byte("id\n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		code, out, _, both = runCLIOrdered(cancelled, "send", "-dry-run", "-table", "main.default.t", small)
		if code != ExitInterrupted || !strings.Contains(out, "interrupted:  reading stopped after 0 of 1 files") || !strings.Contains(out, "converted:    0 of 0") {
			t.Fatalf("send with an ended context: exit %d, stdout %s", code, out)
		}
		assertInterruptLineFirst(t, out, both)
	}
}

// runCLIOrdered is runCLICtx that also returns stdout and stderr
// interleaved in the order they were written.
func runCLIOrdered(ctx context.Context, args ...string) (code int, stdout, stderr, both string) {
	var out, errOut, all bytes.Buffer
	var mu sync.Mutex
	tee := func(b *bytes.Buffer) io.Writer {
		return writerFunc(func(p []byte) (int, error) {
			mu.Lock()
			defer mu.Unlock()
			all.Write(p)
			return b.Write(p)
		})
	}
	code = RunEnv(ctx, args, Env{
		Stdin: strings.NewReader(""), Stdout: tee(&out), Stderr: tee(&errOut),
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	return code, out.String(), errOut.String(), all.String()
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// assertInterruptLineFirst checks that the output (both) has the interrupt
// line once, before the summary (stdout).
func assertInterruptLineFirst(t *testing.T, stdout, both string) {
	t.Helper()
	const line = "interrupted: finishing the batches in flight"
	if n := strings.Count(both, line); n != 1 {
		t.Fatalf("interrupt line %d times, want once:\n%s", n, both)
	}
	first, _, _ := strings.Cut(stdout, "\n")
	sum := strings.Index(both, first)
	if first == "" || sum < 0 || strings.Index(both, line) > sum {
		t.Fatalf("interrupt line not before the summary:\n%s", both)
	}
}

// TestConfigErrorsNameKeys: a bad setting from a -config file or the
// environment is named by its key (and environment variable), as in the
// Python package, for every command; exit status 2.
func TestConfigErrorsNameKeys(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("endpoint: https://1.zerobus.x.cloud.databricks.com\ntable_name: a.b.c\nretry_max_attempts: lots\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(csv, []byte("id\n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(vars map[string]string) Env {
		return Env{Stdin: strings.NewReader(""), Stdout: io.Discard, LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	}
	for _, tc := range []struct {
		name string
		args []string
		vars map[string]string
		want string
		not  string
	}{
		{"send -config", []string{"send", "-config", bad, "x.csv"}, nil, `bad.yaml: retry_max_attempts: line 3: "lots" is not an integer`, "RetryMaxAttempts"},
		{"local env", []string{"local"}, map[string]string{"ZEROBUS_LOG_LEVEL": "trace"}, `log_level (env ZEROBUS_LOG_LEVEL): is "trace"`, "LogLevel"},
		{"send telemetry env", []string{"send", "-local", csv}, map[string]string{"OTLP_ENABLED": "true", "OTLP_PROTOCOL": "udp"}, `otlp_protocol (env OTLP_PROTOCOL): is "udp"`, "OTLPProtocol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errOut bytes.Buffer
			e := env(tc.vars)
			e.Stderr = &errOut
			code := RunEnv(t.Context(), tc.args, e)
			if code != ExitUsage || !strings.Contains(errOut.String(), tc.want) || strings.Contains(errOut.String(), tc.not) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d, %q and no %q", code, errOut.String(), ExitUsage, tc.want, tc.not)
			}
		})
	}
}

// errorsTo is an OpenTelemetry error handler that records the errors given.
type errorsTo struct{ got []string }

func (e *errorsTo) Handle(err error) { e.got = append(e.got, err.Error()) }

// TestTelemetryErrorHandlerRestored: with observability on, a command logs
// OpenTelemetry's export errors to its stderr while it runs and puts the
// process's previous handler back when it returns (the command line runs
// in-process in Python, before other Wrappers).
func TestTelemetryErrorHandlerRestored(t *testing.T) {
	prev := otel.GetErrorHandler()
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	dir := t.TempDir()
	csv := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(csv, []byte("id\n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"OTLP_ENABLED": "true", "OTLP_OUTPUT_DIR": filepath.Join(dir, "otel")}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	for _, tc := range []struct {
		name string
		run  func(stderr io.Writer) error
	}{
		{"send", func(stderr io.Writer) error {
			if code := RunEnv(t.Context(), []string{"send", "-dry-run", "-table", "main.default.t", csv},
				Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: stderr, LookupEnv: lookup}); code != ExitOK {
				return fmt.Errorf("exit %d", code)
			}
			return nil
		}},
		{"local", func(stderr io.Writer) error {
			_, stop := runLocalEnv(t, Env{Stderr: stderr, LookupEnv: lookup}, "-json")
			return stop()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mine := &errorsTo{}
			otel.SetErrorHandler(mine)
			var errOut bytes.Buffer
			if err := tc.run(&errOut); err != nil {
				t.Fatalf("%v, stderr:\n%s", err, errOut.String())
			}
			otel.Handle(errors.New("collector down"))
			if len(mine.got) != 1 || mine.got[0] != "collector down" {
				t.Errorf("previous handler got %q after the command, want [collector down]", mine.got)
			}
			if strings.Contains(errOut.String(), "collector down") {
				t.Errorf("the command's stderr got an export error after it returned:\n%s", errOut.String())
			}
		})
	}
}

// TestWrappedConfigErrorNamesKeys: a configuration error wrapped by any
// command is printed with its settings named by key and the wrapping text
// kept; exit status 2.
func TestWrappedConfigErrorNamesKeys(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.TableName, cfg.WriterDisabled, cfg.Transport = "main.default.t", true, "flight"
	cerr := cfg.Validate()
	if cerr == nil {
		t.Fatal("Validate accepted transport \"flight\"")
	}
	register(command{name: "wrapcfg", run: func(context.Context, []string, Env) error {
		return fmt.Errorf("opening the table: %w; see -h", cerr)
	}})
	t.Cleanup(func() { delete(commands, "wrapcfg") })
	var errOut bytes.Buffer
	code := RunEnv(t.Context(), []string{"wrapcfg"}, Env{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &errOut,
		LookupEnv: func(string) (string, bool) { return "", false }})
	want := "zerobus wrapcfg: opening the table: zerobus: invalid configuration (2 problems):\n" +
		"  - zerobus_writer_disabled (env ZEROBUS_WRITER_DISABLED when loading from the environment): is true but no debug output is enabled, so nothing would be sent or written; " +
		"enable debug_enabled (or debug_arrow_enabled / debug_protobuf_enabled) with a debug_output_dir\n" +
		`  - transport (env ZEROBUS_TRANSPORT when loading from the environment): is "flight"; must be "protobuf" (the default) or "arrow_flight"; see -h` + "\n"
	if code != ExitUsage || errOut.String() != want {
		t.Errorf("exit %d, stderr:\n%s\nwant exit %d and\n%s", code, errOut.String(), ExitUsage, want)
	}
}

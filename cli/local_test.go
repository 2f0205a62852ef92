package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// runLocalCLI starts `zerobus local args...` in-process and returns the
// first stdout line, a stop function and the command's result channel.
func runLocalCLI(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	return runLocalEnv(t, Env{Stderr: io.Discard}, args...)
}

// runLocalEnv is runLocalCLI with env's Stderr and LookupEnv.
func runLocalEnv(t *testing.T, env Env, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	env.Stdout = pw
	env = env.withDefaults()
	go func() {
		err := localMain(ctx, args, env)
		pw.Close()
		done <- err
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		first := ""
		for sc.Scan() {
			if first == "" {
				first = sc.Text()
				lines <- first
			}
		}
		close(lines)
	}()
	var first string
	select {
	case first = <-lines:
	case err := <-done:
		cancel()
		t.Fatalf("zerobus local returned early: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("zerobus local printed nothing")
	}
	stop := func() error {
		cancel()
		err := <-done
		for range lines {
		}
		return err
	}
	return first, stop
}

func TestLocalJSON(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	line, stop := runLocalCLI(t, "-json", "-table", "main.default.cli", "-tls", "-ca-file", ca, "-client-secret", "cli-secret")
	var info localInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("-json output %q: %v", line, err)
	}
	if !strings.HasPrefix(info.Endpoint, "https://127.0.0.1:") || !strings.HasPrefix(info.WorkspaceURL, "http://127.0.0.1:") ||
		info.ClientID != "local-client" || info.ClientSecret != "cli-secret" || info.Table != "main.default.cli" || info.CACertFile != ca {
		t.Errorf("info: got %+v", info)
	}
	if b, err := os.ReadFile(ca); err != nil || !strings.Contains(string(b), "BEGIN CERTIFICATE") {
		t.Errorf("CA file: %v %q", err, b)
	}
	res, err := http.Get(info.WorkspaceURL + "/zerobus-local/v1/tables")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || strings.TrimSpace(string(body)) != "[]" {
		t.Errorf("GET tables: %d %s", res.StatusCode, body)
	}
	if err := stop(); err != nil {
		t.Errorf("zerobus local after cancel: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestLocalText(t *testing.T) {
	line, stop := runLocalCLI(t)
	if !strings.Contains(line, "zerobus local server running") {
		t.Errorf("first line: got %q", line)
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func TestLocalFlagErrors(t *testing.T) {
	for _, args := range [][]string{{"-port", "x"}, {"extra"}, {"-max-rows", "-1"}, {"-max-message-bytes", "-1"}, {"-stream-lifetime", "0s"}, {"-allow-host", "http://x:1"}, {"-columns", "id FOO"}, {"-table", "bad", "-columns", "id INT"}} {
		if err := localMain(t.Context(), args, Env{Stdout: io.Discard, Stderr: io.Discard}.withDefaults()); err == nil {
			t.Errorf("localMain(%q): got nil error", args)
		}
	}
}

// TestLocalMaxRows sends 5 rows to `zerobus local -max-rows 3` and reads
// back the 3 newest over the inspection API (one batch: one request, cut
// inside).
func TestLocalMaxRows(t *testing.T) {
	line, stop := runLocalCLI(t, "-json", "-max-rows", "3")
	var info localInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("-json output %q: %v", line, err)
	}
	const table = "main.default.capped"
	path := filepath.Join(t.TempDir(), "five.csv")
	if err := os.WriteFile(path, []byte("id\n1\n2\n3\n4\n5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := sendCLI(t, "-endpoint", info.Endpoint, "-workspace-url", info.WorkspaceURL, "-client-id", info.ClientID,
		"-client-secret", info.ClientSecret, "-table", table, path)
	if run.err != nil {
		t.Fatalf("send: %v\n%s", run.err, run.stderr)
	}
	res, err := http.Get(info.WorkspaceURL + "/zerobus-local/v1/tables/" + table + "/rows")
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Record struct {
			ID json.Number `json:"id"`
		} `json:"record"`
	}
	err = json.NewDecoder(res.Body).Decode(&rows)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.Record.ID.String())
	}
	if strings.Join(ids, ",") != "3,4,5" {
		t.Errorf("stored ids %v, want the newest three 3,4,5", ids)
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestLocalFidelityFlags checks that the service-fidelity flags reach the
// server's options (their behaviour is tested in core/zerobuslocal).
func TestLocalFidelityFlags(t *testing.T) {
	la, err := parseLocalArgs([]string{"-max-message-bytes", "2048", "-stream-lifetime", "400ms", "-stream-close-grace", "50ms",
		"-allow-host", "a.test,b.test", "-allow-host", "c.test", "-inspect-token", "tok"}, Env{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(la.opts.AllowedHosts, " ") != "a.test b.test c.test" || la.opts.InspectToken != "tok" {
		t.Errorf("hardening options: hosts %q token set %v", la.opts.AllowedHosts, la.opts.InspectToken != "")
	}
	if la.opts.MaxMessageBytes != 2048 || la.opts.StreamLifetime != 400*time.Millisecond || la.opts.StreamCloseGrace != 50*time.Millisecond {
		t.Errorf("options: got max %d lifetime %v grace %v", la.opts.MaxMessageBytes, la.opts.StreamLifetime, la.opts.StreamCloseGrace)
	}
	la, err = parseLocalArgs(nil, Env{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if la.opts.MaxMessageBytes != 10<<20 || la.opts.StreamLifetime != 15*time.Minute {
		t.Errorf("defaults: got max %d lifetime %v, want 10 MiB and 15m as the service", la.opts.MaxMessageBytes, la.opts.StreamLifetime)
	}
}

// TestLocalColumns pre-creates the printed table with -columns and reads it
// back from the Unity Catalog tables endpoint with a workspace token.
func TestLocalColumns(t *testing.T) {
	line, stop := runLocalCLI(t, "-json", "-table", "main.default.cols", "-columns", "id BIGINT NOT NULL, tags ARRAY<STRING>", "-no-token-exchange")
	var info localInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("-json output %q: %v", line, err)
	}
	req, _ := http.NewRequest(http.MethodPost, info.WorkspaceURL+"/oidc/v1/token", strings.NewReader("grant_type=client_credentials&scope=all-apis"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(info.ClientID, info.ClientSecret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(res.Body).Decode(&tr)
	res.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, info.WorkspaceURL+"/api/2.1/unity-catalog/tables/main.default.cols", nil)
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var table struct {
		Columns []struct {
			Name     string `json:"name"`
			TypeText string `json:"type_text"`
		} `json:"columns"`
	}
	_ = json.NewDecoder(res.Body).Decode(&table)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(table.Columns) != 2 || table.Columns[1].TypeText != "array<string>" {
		t.Errorf("tables endpoint: HTTP %d %+v", res.StatusCode, table)
	}
	// -no-token-exchange: the grant is refused.
	form := "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&scope=all-apis&subject_token_type=urn:ietf:params:oauth:token-type:jwt&subject_token=eyJhbGciOiJub25lIn0.e30.x"
	res, err = http.Post(info.WorkspaceURL+"/oidc/v1/token", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("token exchange with -no-token-exchange: HTTP %d, want 400", res.StatusCode)
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestLocalTLSCAFile: `local -tls` prints the CA file and a ready-to-copy
// ZEROBUS_TLS_CA_FILE line in its environment block; a send given that variable trusts the server;
// the temp CA file is removed when the server stops.
func TestLocalTLSCAFile(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := localMain(ctx, []string{"-tls", "-table", "main.default.tls"}, Env{Stdout: pw, Stderr: io.Discard}.withDefaults())
		pw.Close()
		done <- err
	}()
	banner := map[string]string{}
	var exportLine string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := sc.Text()
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok {
			banner[k] = strings.TrimSpace(v)
		}
		if strings.HasPrefix(strings.TrimSpace(line), "export ZEROBUS_TLS_CA_FILE=") {
			exportLine = strings.TrimSpace(line)
		}
		if strings.Contains(line, "inspect:") {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	ca := banner["CA cert"]
	if ca == "" || !filepath.IsAbs(ca) {
		t.Fatalf("no CA cert line in the banner: %v", banner)
	}
	if want := "export ZEROBUS_TLS_CA_FILE=" + ca; exportLine != want {
		t.Fatalf("export line %q, want %q", exportLine, want)
	}
	if b, err := os.ReadFile(ca); err != nil || !strings.Contains(string(b), "BEGIN CERTIFICATE") {
		t.Fatalf("CA file: %v %q", err, b)
	}

	dir := t.TempDir()
	data := writeArrowFixture(t, dir, 1, 3)
	name, value, _ := strings.Cut(strings.TrimPrefix(exportLine, "export "), "=")
	args := []string{"-endpoint", banner["endpoint"], "-workspace-url", banner["workspace URL"], "-client-id", banner["client id"],
		"-client-secret", banner["client secret"], "-table", "main.default.tls", "-progress", "never", "-json", data}
	r := sendCLIEnv(t, map[string]string{name: value, "RETRY_MAX_ATTEMPTS": "1"}, args...)
	if r.err != nil || !strings.Contains(r.stdout, `"rows_sent":3`) {
		t.Errorf("send trusting the printed CA file: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	// Without it the server's certificate is not trusted.
	r = sendCLIEnv(t, map[string]string{"RETRY_MAX_ATTEMPTS": "1"}, args...)
	if r.err == nil || !strings.Contains(r.stdout+r.stderr+r.err.Error(), "ZEROBUS_TLS_CA_FILE") {
		t.Errorf("send without the CA file: %v\n%s%s", r.err, r.stdout, r.stderr)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("zerobus local after cancel: %v", err)
	}
	if _, err := os.Stat(ca); !os.IsNotExist(err) {
		t.Errorf("the temp CA file outlives the server: %v", err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/zerobus-local-ca-1.pem": "/tmp/zerobus-local-ca-1.pem",
		"/tmp/my dir/ca.pem":          "'/tmp/my dir/ca.pem'",
		"/tmp/it's.pem":               `'/tmp/it'\''s.pem'`,
		"":                            "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestLocalLogs: `zerobus local` logs through the telemetry setup of send:
// log_file and log_level from the environment (JSON lines, the secret never
// in them), stderr as text with warnings only, debug records with -v; a bad
// value of a logging variable is a configuration error, while the other
// ZEROBUS_* variables are not read.
func TestLocalLogs(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "local.log")
	const secret = "local-Secret-4711"
	vars := map[string]string{"ZEROBUS_LOG_FILE": logFile, "ZEROBUS_LOG_LEVEL": "debug", "ZEROBUS_MAX_INFLIGHT_REQUESTS": "not a number"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	send := func(line string) {
		t.Helper()
		var info localInfo
		if err := json.Unmarshal([]byte(line), &info); err != nil {
			t.Fatalf("-json output %q: %v", line, err)
		}
		data := writeArrowFixture(t, t.TempDir(), 1, 3)
		r := sendCLI(t, "-endpoint", info.Endpoint, "-workspace-url", info.WorkspaceURL, "-client-id", info.ClientID,
			"-client-secret", info.ClientSecret, "-table", "main.default.logs", "-progress", "never", "-json", data)
		if r.err != nil || !strings.Contains(r.stdout, `"rows_sent":3`) {
			t.Fatalf("send: %v\n%s%s", r.err, r.stdout, r.stderr)
		}
	}

	var stderr bytes.Buffer
	line, stop := runLocalEnv(t, Env{Stderr: &stderr, LookupEnv: lookup}, "-json", "-client-secret", secret)
	send(line)
	if err := stop(); err != nil {
		t.Fatalf("zerobus local: %v", err)
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("log_file: %v", err)
	}
	text := string(b)
	for _, want := range []string{`"level":"INFO","msg":"zerobuslocal: started"`, `"level":"DEBUG","msg":"zerobuslocal: stream created"`, `"msg":"zerobuslocal: closed"`} {
		if !strings.Contains(text, want) {
			t.Errorf("log_file lacks %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, secret) {
		t.Errorf("log_file holds the client secret:\n%s", text)
	}
	if strings.Contains(stderr.String(), "level=DEBUG") || strings.Contains(stderr.String(), "level=INFO") {
		t.Errorf("stderr without -v has records below warn:\n%s", stderr.String())
	}

	// -v: debug records on stderr as text.
	stderr.Reset()
	delete(vars, "ZEROBUS_LOG_FILE")
	line, stop = runLocalEnv(t, Env{Stderr: &stderr, LookupEnv: lookup}, "-json", "-v")
	send(line)
	if err := stop(); err != nil {
		t.Fatalf("zerobus local -v: %v", err)
	}
	if want := `level=DEBUG msg="zerobuslocal: stream created"`; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr with -v lacks %s:\n%s", want, stderr.String())
	}

	// A bad logging variable stops it before it starts, naming the variable.
	vars["ZEROBUS_LOG_LEVEL"] = "loud"
	err = localMain(t.Context(), []string{"-json"}, Env{Stdout: io.Discard, Stderr: io.Discard, LookupEnv: lookup}.withDefaults())
	if !isConfigError(err) || !strings.Contains(err.Error(), "ZEROBUS_LOG_LEVEL") {
		t.Errorf("ZEROBUS_LOG_LEVEL=loud: err = %v, want a configuration error naming it", err)
	}
}

// TestLocalFlagErrorsNameTheFlag: out-of-range values are usage errors
// naming the flag (a port outside 1..65535 named Options.HTTPAddr; a bad
// -table, negative durations and -ack-every were taken silently).
func TestLocalFlagErrorsNameTheFlag(t *testing.T) {
	for _, args := range [][]string{
		{"-port", "70000"}, {"-http-port", "-1"}, {"-table", "bad"}, {"-token-lifetime", "-1s"},
		{"-max-rows", "-1"}, {"-max-message-bytes", "-1"},
		{"-ack-every", "-1"}, {"-ack-delay", "-1s"}, {"-ack-interval", "-5ms"}, {"-stream-close-grace", "-1s"},
	} {
		_, err := parseLocalArgs(args, Env{Stdout: io.Discard, Stderr: io.Discard}.withDefaults())
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("zerobus local %q: %v, want a usage error naming %s", args, err, args[0])
		}
	}
}

// TestLocalBusyPortNamesTheFlag: a port in use is named by its flag, not by
// the Options field ("zerobuslocal: listening on Options.Addr ..."), and
// exits 2 as every other bad option of local (it exited 1), without the
// pointer to -h.
func TestLocalBusyPortNamesTheFlag(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	for _, flag := range []string{"-port", "-http-port"} {
		var errOut bytes.Buffer
		code := RunEnv(t.Context(), []string{"local", flag, port}, Env{Stdout: io.Discard, Stderr: &errOut,
			LookupEnv: func(string) (string, bool) { return "", false }})
		msg := errOut.String()
		if code != ExitUsage || !strings.Contains(msg, flag+": cannot listen on 127.0.0.1:"+port+": bind: ") || strings.Contains(msg, "-h' for usage") ||
			strings.Contains(msg, "Options.") || strings.Contains(msg, "listen tcp") {
			t.Errorf("local %s %s (busy): exit %d, stderr %q", flag, port, code, msg)
		}
	}
}

// The ranges of zerobus local's flags are zerobuslocal.Options.Check's: every
// option it refuses that a flag sets is named by that flag (a rule the CLI
// kept a second copy of had drifted: -token-lifetime; the port range was
// written here and in Python's LocalServer).
func TestLocalFlagsNameEveryOptionCheckRefuses(t *testing.T) {
	neg := zerobuslocal.Options{TokenLifetime: -1, StreamCloseGrace: -1, MaxMessageBytes: -1, MaxStoredRows: -1,
		AckPolicy: zerobuslocal.AckPolicy{Every: -1, Interval: -1, Delay: -1, Jitter: -1},
		Addr:      "127.0.0.1:70000", HTTPAddr: "127.0.0.1:-1", AllowedHosts: []string{"http://x:1"}}
	var oe *zerobuslocal.OptionsError
	if err := neg.Check(); !errors.As(err, &oe) || len(oe.Problems) != 11 {
		t.Fatalf("Check of 8 negative options, 2 ports and a host: %v", err)
	}
	for _, p := range oe.Problems {
		if _, ok := localFlagOf[p.Field]; !ok {
			t.Errorf("%s: no flag named for it", p.Field)
		}
	}
	for flag, want := range map[string]string{
		"-ack-delay -2s":                "-ack-delay is -2s; must not be negative (0: the default)",
		"-ack-jitter -2s":               "-ack-jitter is -2s; must not be negative (0: the default)",
		"-max-rows -1":                  "-max-rows is -1; must not be negative (0: the default)",
		"-max-message-bytes -1":         "-max-message-bytes is -1; must not be negative (0: the default)",
		"-port 70000":                   "-port is 70000; must be a port between 1 and 65535 (0: a free port)",
		"-http-port -1":                 "-http-port is -1; must be a port between 1 and 65535 (0: a free port)",
		"-allow-host a.test,http://x:1": "-allow-host is a.test,http://x:1; must be host names without scheme or port (e.g. a container name); \"http://x:1\" is not",
		"-stream-lifetime 0":            "-stream-lifetime is 0; must not be 0 (negative: streams never end by themselves; leave it unset for the default, 15m0s)",
	} {
		_, err := parseLocalArgs(strings.Fields(flag), Env{Stdout: io.Discard, Stderr: io.Discard}.withDefaults())
		if err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %q", flag, err, want)
		}
	}
}

// TestLocalZeroMeansTheDefault: 0 is the library's default for
// -token-lifetime and -max-message-bytes (1h and 10 MiB, the flags' own
// defaults), so the CLI takes it as the library does; it refused
// -token-lifetime 0 as "must be positive" while -1s said "(0: the default)".
func TestLocalZeroMeansTheDefault(t *testing.T) {
	la, err := parseLocalArgs([]string{"-token-lifetime", "0", "-max-message-bytes", "0"}, Env{Stdout: io.Discard, Stderr: io.Discard}.withDefaults())
	if err != nil {
		t.Fatalf("-token-lifetime 0 -max-message-bytes 0: %v", err)
	}
	if la.opts.TokenLifetime != 0 || la.opts.MaxMessageBytes != 0 {
		t.Fatalf("opts: token lifetime %v, max message bytes %d; want 0 (the library default)", la.opts.TokenLifetime, la.opts.MaxMessageBytes)
	}
	if err := la.opts.Check(); err != nil {
		t.Errorf("Options.Check: %v", err)
	}
}

// The flags' defaults are the library's (zerobuslocal.Default*), not copies:
// -token-lifetime defaulted to a literal 1h beside DefaultTokenLifetime.
func TestLocalFlagDefaultsAreTheLibrarys(t *testing.T) {
	la, err := parseLocalArgs(nil, Env{Stdout: io.Discard, Stderr: io.Discard}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if la.opts.TokenLifetime != zerobuslocal.DefaultTokenLifetime || la.opts.MaxMessageBytes != zerobuslocal.DefaultMaxMessageBytes ||
		la.opts.StreamLifetime != zerobuslocal.DefaultStreamLifetime {
		t.Errorf("defaults: token lifetime %v, max message bytes %d, stream lifetime %v; want the library's",
			la.opts.TokenLifetime, la.opts.MaxMessageBytes, la.opts.StreamLifetime)
	}
	var out bytes.Buffer
	if _, err := parseLocalArgs([]string{"-h"}, Env{Stdout: &out, Stderr: io.Discard}.withDefaults()); err == nil {
		t.Fatal("-h: no error")
	}
	if want := "(default " + zerobuslocal.DefaultClientID + ")"; !strings.Contains(out.String(), want) {
		t.Errorf("help lacks %q:\n%s", want, out.String())
	}
}

// TestLocalDataDirCheckedAtStart: a -data-dir the tables cannot be written
// to is a usage error before the server runs (it showed at exit, naming the
// Go field, after the rows stored were lost).
func TestLocalDataDirCheckedAtStart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // (it served until stopped)
	defer cancel()
	code := RunEnv(ctx, []string{"local", "-data-dir", file}, Env{Stdout: &out, Stderr: &errOut,
		LookupEnv: func(string) (string, bool) { return "", false }})
	msg := errOut.String()
	if code != ExitUsage || !strings.HasPrefix(msg, "zerobus local: -data-dir "+file+": cannot be written") ||
		!strings.Contains(msg, "not a directory") || strings.Contains(msg, "zerobuslocal") || out.Len() != 0 {
		t.Errorf("local -data-dir FILE: exit %d, stdout %q, stderr %q", code, out.String(), msg)
	}
	// A good one is printed.
	dir := filepath.Join(t.TempDir(), "d")
	line, stop := runLocalCLI(t, "-json", "-data-dir", dir)
	var info localInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil || info.DataDir != dir {
		t.Errorf("-json: %q %v", line, err)
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
}

// TestLocalPrintsClientEnv: `zerobus local` prints in its banner the
// environment lines a client in another shell needs (the settings loader's
// variable names), and `zerobus send` given exactly those, nothing else,
// sends to it.
func TestLocalPrintsClientEnv(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := localMain(ctx, []string{"-table", "main.default.envblock"}, Env{Stdout: pw, Stderr: io.Discard}.withDefaults())
		pw.Close()
		done <- err
	}()
	banner := map[string]string{}
	env := map[string]string{}
	var order []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok && strings.HasPrefix(line, "export ") {
			env[name] = value
			order = append(order, name)
		} else if k, v, ok := strings.Cut(line, ": "); ok {
			banner[k] = strings.TrimSpace(v)
		}
		if strings.HasPrefix(line, "inspect:") { // the banner's last line
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	want := []string{"ZEROBUS_ENDPOINT", "UNITY_CATALOG_URL", "ZEROBUS_CLIENT_ID", "ZEROBUS_CLIENT_SECRET", "ZEROBUS_TABLE_NAME"}
	if strings.Join(order, " ") != strings.Join(want, " ") {
		t.Fatalf("environment lines %v, want %v", order, want)
	}
	// The same values as the banner above them (the secret included: the
	// one the server accepts, generated here, -client-secret's value when
	// given; the banner prints it too).
	for name, key := range map[string]string{"ZEROBUS_ENDPOINT": "endpoint", "UNITY_CATALOG_URL": "workspace URL",
		"ZEROBUS_CLIENT_ID": "client id", "ZEROBUS_CLIENT_SECRET": "client secret", "ZEROBUS_TABLE_NAME": "table"} {
		if env[name] != banner[key] || env[name] == "" {
			t.Errorf("%s=%q, banner %s: %q", name, env[name], key, banner[key])
		}
	}
	env["RETRY_MAX_ATTEMPTS"] = "1"
	r := sendCLIEnv(t, env, "-progress", "never", "-json", writeArrowFixture(t, t.TempDir(), 1, 3))
	if r.err != nil || !strings.Contains(r.stdout, `"rows_sent":3`) || !strings.Contains(r.stdout, `"table":"main.default.envblock"`) {
		t.Errorf("send with the printed environment: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("zerobus local after cancel: %v", err)
	}
}

// TestLocalEnvLinesReadBack: the names of `zerobus local`'s export block
// are the settings loader's (core.Settings), so a client configured from
// that environment gets every value back, the CA file included.
func TestLocalEnvLinesReadBack(t *testing.T) {
	info := localInfo{Endpoint: "http://127.0.0.1:1", WorkspaceURL: "http://127.0.0.1:2", ClientID: "id",
		ClientSecret: "secret", Table: "main.default.t", CACertFile: "/tmp/ca.pem"}
	env := map[string]string{}
	for _, kv := range info.envLines() {
		env[kv[0]] = kv[1]
	}
	cfg := core.DefaultConfig()
	if err := cfg.ApplyEnv(func(name string) (string, bool) { v, ok := env[name]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	got := localInfo{Endpoint: cfg.Endpoint, WorkspaceURL: cfg.UnityCatalogURL, ClientID: cfg.ClientID,
		ClientSecret: cfg.ClientSecret, Table: cfg.TableName, CACertFile: cfg.TLSCAFile}
	if got != info || len(env) != 6 {
		t.Errorf("read back %+v from %v, want %+v", got, env, info)
	}
}

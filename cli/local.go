package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

func init() {
	register(command{name: "local", summary: "run the local Zerobus-compatible server (for tests and demos)", run: runLocal})
}

// localInfo is what `zerobus local -json` prints, one line, once listening.
type localInfo struct {
	Endpoint     string `json:"endpoint"`
	WorkspaceURL string `json:"workspace_url"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Table        string `json:"table"`
	CACertFile   string `json:"ca_cert_file,omitempty"`
	DataDir      string `json:"data_dir,omitempty"`
	// InspectURL is the base of the inspection API (tables, rows, faults;
	// docs/local-server.md).
	InspectURL string `json:"inspect_url"`
}

func runLocal(ctx context.Context, args []string, env Env) error {
	return localMain(ctx, args, env)
}

const localUsage = `usage: zerobus local [flags]

Runs a local Zerobus-compatible server on 127.0.0.1 (gRPC, the OAuth token
endpoint and an inspection API) and prints how to reach it, until Ctrl-C or
SIGTERM (exit status 0). Tables are created on first use and kept in memory
(-data-dir writes them out at exit; on Windows, where a script cannot send
SIGTERM and taskkill /F cannot be caught, only Ctrl-C or closing the console
window lets it write them). It logs as send does: warnings on
stderr (everything with -v), JSON lines to ZEROBUS_LOG_FILE at
ZEROBUS_LOG_LEVEL.

The inspection API (printed as "inspect", inspect_url with -json) lists
tables and their stored rows and injects faults (errors, dropped
connections, stalled acks, token failures) into the next streams, e.g.
  curl -X POST -H 'Content-Type: application/json' \
    -d '{"table": "main.default.t", "kind": "error", "code": "UNAVAILABLE"}' \
    INSPECT_URL/faults
The endpoints and fault kinds: docs/local-server.md in the repository.
`

// localArgs are the parsed flags of `zerobus local`.
type localArgs struct {
	opts      zerobuslocal.Options
	tableName string
	columns   []zerobuslocal.Column // create tableName with these at start (nil: on first use)
	useTLS    bool
	caFile    string
	dataDir   string
	asJSON    bool
	verbose   bool
}

func parseLocalArgs(args []string, env Env) (*localArgs, error) {
	fs := newFlagSet("local", localUsage)
	port := fs.Int("port", 0, "gRPC port on 127.0.0.1 (0: a free port)")
	httpPort := fs.Int("http-port", 0, "port of the OAuth token endpoint and inspection API on 127.0.0.1 (0: a free port)")
	tableName := fs.String("table", "main.default.zerobus_local", "table name to print for clients (tables are created on first use)")
	columns := fs.String("columns", "", "create -table at start with these columns, e.g. \"id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>\" (Unity Catalog types)")
	noTokenExchange := fs.Bool("no-token-exchange", false, "refuse the token-exchange grant (federated identity); only client credentials")
	useTLS := fs.Bool("tls", false, "serve gRPC over TLS with a generated CA (written to -ca-file)")
	httpTLS := fs.Bool("http-tls", false, "also serve the token endpoint, Unity Catalog API and inspection API over TLS with that CA (the workspace URL becomes https://); implies -tls")
	caFile := fs.String("ca-file", "", "where to write the CA certificate with -tls (default: a file in the temp dir)")
	dataDir := fs.String("data-dir", "", "write each table there at exit (<table>.arrow and <table>.parquet, or <table>.jsonl for a table without columns)")
	asJSON := fs.Bool("json", false, "print the connection details as one JSON line (for scripts)")
	clientID := fs.String("client-id", "", "OAuth client id to accept (default "+zerobuslocal.DefaultClientID+")")
	clientSecret := fs.String("client-secret", "", "OAuth client secret to accept (default: random)")
	workspaceID := fs.String("workspace-id", "", "a further workspace id the token endpoint accepts in a token request's resource, e.g. the first label of a container name clients reach the server by (127 and localhost always are)")
	tokenLifetime := fs.Duration("token-lifetime", zerobuslocal.DefaultTokenLifetime, "lifetime of issued tokens (0: the default)")
	noAutoCreate := fs.Bool("no-auto-create", false, "reject streams to tables that were not created (NOT_FOUND)")
	anyToken := fs.Bool("allow-any-token", false, "accept any bearer token (clients with custom headers)")
	ackEvery := fs.Int("ack-every", 0, "coalesce acks: one per N messages (0/1: every message)")
	ackInterval := fs.Duration("ack-interval", 0, "coalesce acks: at most this long after the oldest unacked message")
	ackDelay := fs.Duration("ack-delay", 0, "delay every ack by this long")
	ackJitter := fs.Duration("ack-jitter", 0, "delay every ack by a further random time in [0, this)")
	maxRows := fs.Int("max-rows", 0, fmt.Sprintf("keep at most this many rows across all tables together, dropping the oldest rows of the server first, acknowledged ones too, with no signal to the client (0: keep all). It bounds memory for long-running use: the rows, plus %d MiB of requests being received and stored for all clients together (a client past it waits), which each stream can go over by one request, and a 256 KiB window per sending stream", zerobuslocal.MaxInflightBytes>>20))
	maxMessageBytes := fs.Int("max-message-bytes", zerobuslocal.DefaultMaxMessageBytes, "cap on the record bytes of one request (0: the default); bigger ones fail with INVALID_ARGUMENT as on the service")
	streamLifetime := fs.Duration("stream-lifetime", zerobuslocal.DefaultStreamLifetime, "end streams after this long with a CloseStreamSignal, as the service does (negative: never)")
	streamGrace := fs.Duration("stream-close-grace", 0, "grace announced by the CloseStreamSignal that -stream-lifetime sends (default a quarter of -stream-lifetime, at most 1m; must be shorter than -stream-lifetime)")
	var allowHosts hostList
	fs.Var(&allowHosts, "allow-host", "extra Host name the HTTP API answers besides loopback ones (repeatable or comma separated; e.g. a container name)")
	envToken, _ := env.LookupEnv("ZEROBUS_LOCAL_INSPECT_TOKEN")
	inspectToken := fs.String("inspect-token", envToken, "require \"Authorization: Bearer TOKEN\" on the inspection API (default $ZEROBUS_LOCAL_INSPECT_TOKEN; empty: open to local processes)")
	rest, err := fs.parse(args, env.Stdout)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usageErrorf("local", "unexpected arguments %q", rest)
	}
	var cols []zerobuslocal.Column
	if *columns != "" {
		var err error
		if cols, err = zerobuslocal.ParseColumns(*columns); err != nil {
			return nil, &usageError{command: "local", err: fmt.Errorf("-columns: %w", err)}
		}
	}
	if *streamLifetime == 0 {
		return nil, usageErrorf("local", "-stream-lifetime is 0; %s", zerobuslocal.ExplicitZeroProblem("stream_lifetime_ns"))
	}
	// -http-tls implies -tls (as Options.HTTPTLS implies TLS): the CA file
	// is written and printed for it too.
	*useTLS = *useTLS || *httpTLS
	if err := zerobuslocal.CheckTableName(*tableName); err != nil {
		return nil, usageErrorf("local", "-table: %v", err)
	}
	opts := zerobuslocal.Options{
		Addr:                 net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)),
		HTTPAddr:             net.JoinHostPort("127.0.0.1", strconv.Itoa(*httpPort)),
		ClientID:             *clientID,
		ClientSecret:         *clientSecret,
		TokenLifetime:        *tokenLifetime,
		WorkspaceID:          *workspaceID,
		AllowAnyToken:        *anyToken,
		DisableAutoCreate:    *noAutoCreate,
		AckPolicy:            zerobuslocal.AckPolicy{Every: *ackEvery, Interval: *ackInterval, Delay: *ackDelay, Jitter: *ackJitter},
		TLS:                  *useTLS,
		HTTPTLS:              *httpTLS,
		DataDir:              *dataDir,
		MaxStoredRows:        *maxRows,
		MaxMessageBytes:      *maxMessageBytes,
		StreamLifetime:       *streamLifetime,
		StreamCloseGrace:     *streamGrace,
		AllowedHosts:         allowHosts,
		InspectToken:         *inspectToken,
		DisableTokenExchange: *noTokenExchange,
	}
	// The ranges are the library's (Options.Check, ports included); the
	// flags name its fields, with the value as given to the flag.
	var oe *zerobuslocal.OptionsError
	if err := opts.Check(); errors.As(err, &oe) {
		p := oe.Problems[0]
		if flag, ok := localFlagOf[p.Field]; ok {
			return nil, usageErrorf("local", "-%s is %s; %s", flag, fs.Lookup(flag).Value, p.Msg)
		}
		return nil, usageErrorf("local", "%v", err) // a field no flag sets
	}
	return &localArgs{opts: opts, tableName: *tableName, columns: cols, useTLS: *useTLS, caFile: *caFile, dataDir: *dataDir, asJSON: *asJSON,
		verbose: *fs.verbose}, nil
}

// localFlagOf names the flag that sets each zerobuslocal.Options field
// Options.Check can refuse.
var localFlagOf = map[string]string{
	"AllowedHosts":       "allow-host",
	"Addr":               "port",
	"HTTPAddr":           "http-port",
	"TokenLifetime":      "token-lifetime",
	"StreamCloseGrace":   "stream-close-grace",
	"AckPolicy.Interval": "ack-interval",
	"AckPolicy.Delay":    "ack-delay",
	"AckPolicy.Every":    "ack-every",
	"AckPolicy.Jitter":   "ack-jitter",
	"MaxMessageBytes":    "max-message-bytes",
	"MaxStoredRows":      "max-rows",
	"DataDir":            "data-dir",
}

func localMain(ctx context.Context, args []string, env Env) error {
	stdout := env.Stdout
	la, err := parseLocalArgs(args, env)
	if err != nil {
		return err
	}
	opts := la.opts
	tableName, useTLS, caFile, dataDir, asJSON := &la.tableName, &la.useTLS, &la.caFile, &la.dataDir, &la.asJSON
	// The server logs as send does: log_level / log_file (env ZEROBUS_LOG_LEVEL,
	// ZEROBUS_LOG_FILE) and the observability settings through
	// core.SetupTelemetry, stderr as text (warnings, everything with -v).
	cfg, err := core.TelemetryConfigFromEnv(env.LookupEnv)
	if err != nil {
		return err
	}
	tel, restoreErrors, err := cliTelemetry(ctx, cfg, la.verbose, &lockedWriter{w: env.Stderr})
	if err != nil {
		return err
	}
	defer restoreErrors() // after tel.Shutdown (deferred below)
	defer func() { _ = tel.Shutdown(context.WithoutCancel(ctx)) }()
	opts.Logger = tel.Logger
	// The server lives until ctx ends (Ctrl-C), even when it already has.
	s, err := zerobuslocal.Start(context.WithoutCancel(ctx), opts)
	var le *zerobuslocal.ListenError
	if errors.As(err, &le) { // named by the flag, not the Options field
		_, causes := le.KeyProblems()
		flag := map[string]string{"Addr": "port", "HTTPAddr": "http-port"}[le.Field]
		return &setupError{fmt.Errorf("-%s: cannot listen on %s: %s", flag, le.Addr, causes[0])}
	}
	var oe *zerobuslocal.OptionsError
	if errors.As(err, &oe) && len(oe.Problems) > 0 { // checked by Start only (-data-dir): named by the flag
		p := oe.Problems[0]
		if flag, ok := localFlagOf[p.Field]; ok {
			return usageErrorf("local", "-%s %s: %s", flag, p.Value, p.Msg)
		}
	}
	if err != nil {
		return err
	}
	if la.columns != nil {
		if err := s.CreateTableColumns(la.tableName, la.columns); err != nil {
			s.Close()
			return fmt.Errorf("-columns: %w", err)
		}
	}
	info := localInfo{
		Endpoint:     s.Endpoint(),
		WorkspaceURL: s.WorkspaceURL(),
		ClientID:     s.ClientID(),
		ClientSecret: s.ClientSecret(),
		Table:        *tableName,
		DataDir:      *dataDir,
		InspectURL:   s.InspectURL(),
	}
	if *useTLS {
		path := *caFile
		if path == "" {
			// A CA made for this run only: removed when the server stops.
			path = filepath.Join(os.TempDir(), fmt.Sprintf("zerobus-local-ca-%d.pem", os.Getpid()))
			defer os.Remove(path)
		}
		if err := os.WriteFile(path, s.CACertPEM(), 0o644); err != nil {
			s.Close()
			return fmt.Errorf("writing -ca-file: %w", err)
		}
		info.CACertFile = path
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(info); err != nil {
			s.Close()
			return err
		}
	} else {
		fmt.Fprintf(stdout, "zerobus local server running (Ctrl-C to stop)\n")
		fmt.Fprintf(stdout, "  endpoint:      %s\n", info.Endpoint)
		fmt.Fprintf(stdout, "  workspace URL: %s\n", info.WorkspaceURL)
		fmt.Fprintf(stdout, "  client id:     %s\n", info.ClientID)
		fmt.Fprintf(stdout, "  client secret: %s\n", info.ClientSecret)
		fmt.Fprintf(stdout, "  table:         %s\n", info.Table)
		if info.DataDir != "" {
			fmt.Fprintf(stdout, "  data dir:      %s (tables written there at exit)\n", info.DataDir)
		}
		if info.CACertFile != "" {
			fmt.Fprintf(stdout, "  CA cert:       %s\n", info.CACertFile)
		}
		fmt.Fprintf(stdout, "  the same for zerobus send or a program configured from the environment, in its shell:\n")
		for _, kv := range info.envLines() {
			fmt.Fprintf(stdout, "    export %s=%s\n", kv[0], shellQuote(kv[1]))
		}
		inspect := ""
		if opts.InspectToken != "" {
			inspect = " (send \"Authorization: Bearer TOKEN\" with the -inspect-token value)"
		}
		fmt.Fprintf(stdout, "  inspect:       %s/tables%s\n", s.InspectURL(), inspect)
	}
	<-ctx.Done()
	tables := s.Tables()
	if err := s.Close(); err != nil {
		return err
	}
	if *dataDir != "" { // on stderr: stdout holds the one -json object
		what := "no tables (none was created)"
		switch n := len(tables); {
		case n == 1:
			what = "1 table (" + tables[0] + ")"
		case n > 1 && n <= 5:
			what = fmt.Sprintf("%d tables (%s)", n, strings.Join(tables, ", "))
		case n > 5:
			what = fmt.Sprintf("%d tables", n)
		}
		fmt.Fprintf(env.Stderr, "zerobus local: wrote %s to %s\n", what, *dataDir)
	}
	return nil
}

// envLines are the environment variables (core's settings loader's names)
// that point a client in another process at the server: every connection
// setting, the table, and the CA file in TLS mode. The secret is the one
// the server accepts: its generated one, or -client-secret's value, which
// may be one the user uses elsewhere. It is printed as the banner above
// and -json print it (a client needs it); zerobuslocal's Options and
// Server, and Python's LocalServer, redact it when printed or logged.
func (info localInfo) envLines() [][2]string {
	byKey := [][2]string{
		{"endpoint", info.Endpoint},
		{"unity_catalog_url", info.WorkspaceURL},
		{"client_id", info.ClientID},
		{"client_secret", info.ClientSecret},
		{"table_name", info.Table},
	}
	if info.CACertFile != "" {
		byKey = append(byKey, [2]string{"tls_ca_file", info.CACertFile})
	}
	out := make([][2]string, len(byKey))
	for i, kv := range byKey {
		out[i] = [2]string{envNameOf(kv[0]), kv[1]}
	}
	return out
}

// envNameOf is the environment variable the settings loader reads first
// for the setting key (core.Settings: Env[0]), so the names printed cannot
// drift from the ones read. A key without one is a bug of this file.
func envNameOf(key string) string {
	for _, s := range core.Settings() {
		if s.Key == key && len(s.Env) > 0 {
			return s.Env[0]
		}
	}
	panic("zerobus local: no environment variable for setting " + key)
}

// hostList is a repeatable, comma-separated flag of host names.
type hostList []string

func (h *hostList) String() string { return strings.Join(*h, ",") }

// Set adds the comma-separated names of v; Options.Check says which are not
// host names.
func (h *hostList) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		*h = append(*h, strings.TrimSpace(p))
	}
	return nil
}

// shellQuote returns s as one POSIX shell word: as is when it holds only
// safe characters, else in single quotes.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:+,=@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

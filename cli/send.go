package cli

// `zerobus send`: stream Arrow IPC, Parquet and CSV files into a Zerobus
// table through core.Wrapper, with a progress bar, a summary and an optional
// quarantine file for the rows that failed.

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

func init() {
	register(command{name: "send", summary: "send Arrow IPC / Parquet / CSV files to a table", run: runSend})
}

const (
	// defaultBatchRows is the default of -batch-rows.
	defaultBatchRows = 64 << 10
	// defaultLocalTable is the table -local and -dry-run send to when no
	// table is configured.
	defaultLocalTable = "main.default.zerobus_send"
	// sendWindow is how many batches are in flight at once (read ahead of
	// their acknowledgement); it bounds memory to about sendWindow+1 batches.
	sendWindow = 4
	// localSampleRows is how many stored rows -local prints, for tables of
	// at most localSampleMaxTable rows.
	localSampleRows     = 5
	localSampleMaxTable = 100_000
	// defaultGrace is the default of -grace: how long the batches in flight
	// may take after an interrupt before they are cancelled.
	defaultGrace = 30 * time.Second
	// minCloseAfterGrace is the least time the stream's close gets after
	// an interrupt, when the grace is (nearly) used up: enough to close
	// streams with nothing pending, not to wait for acknowledgements.
	minCloseAfterGrace = time.Second
)

// sendEnv is the outside world of sendMain, replaced in tests.
type sendEnv struct {
	stdin          io.Reader // "-"; nil: none (an empty input)
	stdout, stderr io.Writer
	lookupEnv      func(string) (string, bool) // os.LookupEnv
	terminal       bool                        // stderr is a terminal
	// oneTerminal: stdout and stderr are both terminals, read together;
	// then the error line can point to the summary instead of repeating it.
	oneTerminal bool
	now         func() time.Time
	mem         memory.Allocator // for the batches read; nil: the Go allocator
}

func runSend(ctx context.Context, args []string, env Env) error {
	return sendMain(ctx, args, sendEnv{
		stdin:       env.Stdin,
		stdout:      env.Stdout,
		stderr:      env.Stderr,
		lookupEnv:   env.LookupEnv,
		terminal:    isTerminal(env.Stderr, env.LookupEnv),
		oneTerminal: outputsOnOneTerminal(env),
		now:         time.Now,
	})
}

// outputsOnOneTerminal reports whether stdout and stderr are both terminals
// (the user reads them interleaved, as one); replaced in tests. Two
// different terminals are not told apart: that is rare, and the pointer
// then still names where the cause is.
var outputsOnOneTerminal = func(env Env) bool {
	return isTerminal(env.Stdout, env.LookupEnv) && isTerminal(env.Stderr, env.LookupEnv)
}

// sendFlags are the parsed flags of `zerobus send`.
type sendFlags struct {
	configFile, table, endpoint, workspaceURL, clientID, clientSecret string
	transport                                                         string
	connOnly                                                          bool // zerobus table: no -local, -dry-run or sending flags

	format         string
	batchRows      int64
	csvInferRows   int
	csvStrings     bool
	csvTypes       string         // -csv-types: auto, table, infer or strings (-csv-strings)
	csvTable       *csvTableTypes // the table's column types for CSV inputs (sendMain); nil: inferred
	local          bool
	quarantine     string
	quiet, verbose bool
	asJSON         bool
	progress       string
	dryRun         bool
	grace          time.Duration
	files          []string
	set            map[string]bool // flags given on the command line
	// envUnread: settings' environment variables set but not read (-config).
	envUnread []string
	// writerOffBy names what set zerobus_writer_disabled when it was not
	// -dry-run ("env NAME", "file PATH"); the send is then a dry run too.
	writerOffBy string
	// localReplaces names the connection settings the -config file or the
	// environment set that -local replaces with its own server's ("NAME,
	// NAME from the environment", "key, key from file PATH"); "" for none.
	localReplaces string
}

const sendUsage = `usage: zerobus send [flags] FILE...

Streams Arrow IPC (file or stream format), Parquet and CSV files into a
Zerobus table, reading each file a batch at a time, and prints a summary.

Connection settings come from -config FILE (YAML keys as in the README's
"Configuration": endpoint, table_name, unity_catalog_url, client_id,
client_secret: ${ZEROBUS_CLIENT_SECRET}, ...; ${VAR} reads the environment)
or, without -config, from the environment (ZEROBUS_ENDPOINT,
ZEROBUS_TABLE_NAME, UNITY_CATALOG_URL or DATABRICKS_HOST, ZEROBUS_CLIENT_ID,
ZEROBUS_CLIENT_SECRET, ...); the flags below override both. Prefer the
environment or the config file for the secret: command lines are visible
to other users of the machine. -local and -dry-run need none of them.

FILE is a file, "-" (standard input) or a pipe (a FIFO, <(...)). Files are
checked before anything is sent. Standard input and pipes are read once,
front to back: Arrow IPC streams (and files) and CSV, no Parquet (read it
from a file); there is no row count up front (the progress shows the rows
so far), and a CSV error there names its line, not always its row. When a
CSV pipe pauses (1s with nothing new, after a whole row), the rows that
came are used: before -csv-infer-rows rows came, the types are inferred
from those, unless -csv-infer-rows is given (the types then wait for
that many rows or the end; a pipe without such a pause, and a file, use
the whole sample too), and later the batch being read is sent with the
rows it has, with or without the flag.
Compressed input (.gz, .zst, ...) is not supported: decompress it on the
way in (gzip -dc x.csv.gz | zerobus send -). The format is taken from -format,
else the extension (.arrow .arrows .ipc .feather, .parquet .pq, .csv), else
the first bytes (on a pipe: Arrow IPC, else CSV). CSV needs a header line.
CSV column types (-csv-types): with auto (the default) send reads the
table's columns from Unity Catalog when the first CSV input is opened and
reads each CSV column as its table column's type (BIGINT, INT, DOUBLE,
DECIMAL(p,s), BOOLEAN, DATE, TIMESTAMP, ... ; STRING stays text, so
"01234" keeps its zero; BINARY is base64; VARIANT is JSON text; ARRAY,
MAP and STRUCT columns are refused; a BIGINT column whose sampled cells
are timestamps, or an INT column of dates, is read as such), header
names matched to the table's case-insensitively: a CSV column the table
lacks, or a NOT NULL table column the CSV lacks, is an error naming them
(a nullable one is stored as null, named on stderr). When the table's columns cannot be read
(no such table yet: the first stream creates it; the catalog refused or
unreachable; -dry-run) the types are inferred, and stderr says which was
used. -csv-types table insists on the table's types, infer infers them,
strings reads every column as text (-csv-strings). Inferred types (int64,
float64, bool, date, timestamp, else string) come from the first
-csv-infer-rows rows (a column with no value there, and every column of a
file without data rows, is string). "", NULL, null, NA and N/A are nulls
in non-string columns; a row whose number of cells differs from the header
is an error naming the line; a cell that does not parse as its column's
type is an error naming the file, row, line, column and value.
Rows are numbered from 0 within each file.

Up to 4 batches are in flight at once, so rows of different batches may
land in another order than the file's (Zerobus orders rows per stream only).

Output: a progress bar on stderr (-progress), the summary on stdout (text,
or one JSON object with -json); -quiet prints neither. Flags may come
before or after the files.

Ctrl-C (or SIGTERM) stops reading; the batches in flight get -grace to be
acknowledged, then they are cancelled: their rows count as failed, and those
already sent as unknown (they may be stored). The summary is printed, marked
interrupted, with exit status 130. A second Ctrl-C quits at once, printing
one line with the rows acknowledged so far.

Exit status: 0 every row was sent; 1 some rows failed (the summary lists
why, and -quarantine keeps them), a file could not be read or the stream
failed; 2 bad flags, arguments (a missing file) or configuration, nothing
sent; 130 interrupted.

flags:
`

// defineConnFlags defines on fs the flags saying where to connect and as whom
// (-config, -table with tableHelp, -endpoint, -workspace-url, -client-id,
// -client-secret), into f: send's and table's alike.
func defineConnFlags(fs *flagSet, f *sendFlags, tableHelp string) {
	fs.StringVar(&f.configFile, "config", "", "YAML config file (core.LoadConfigYAML); default: the environment")
	fs.StringVar(&f.table, "table", "", tableHelp)
	fs.StringVar(&f.endpoint, "endpoint", "", "Zerobus endpoint, e.g. https://<workspace-id>.zerobus.<region>.cloud.databricks.com")
	fs.StringVar(&f.workspaceURL, "workspace-url", "", "workspace URL serving the OAuth token endpoint (Unity Catalog URL)")
	fs.StringVar(&f.clientID, "client-id", "", "service principal client id")
	fs.StringVar(&f.clientSecret, "client-secret", "", "service principal secret (prefer ZEROBUS_CLIENT_SECRET)")
}

// parseSendFlags parses args; flag.ErrHelp for -h (the help is printed on
// stdout), a *usageError for bad flags.
func parseSendFlags(args []string, stdout io.Writer) (*sendFlags, error) {
	f := &sendFlags{set: map[string]bool{}}
	fs := newFlagSet("send", sendUsage)
	defineConnFlags(fs, f, "target table catalog.schema.table (default with -local or -dry-run: "+defaultLocalTable+")")
	fs.StringVar(&f.transport, "transport", "", "how batches travel: protobuf (the default) or arrow_flight (Arrow over Flight DoPut); overrides transport / ZEROBUS_TRANSPORT")
	fs.StringVar(&f.format, "format", formatAuto, "input format: auto, arrow, parquet or csv")
	fs.Int64Var(&f.batchRows, "batch-rows", defaultBatchRows, "rows per batch sent")
	fs.IntVar(&f.csvInferRows, "csv-infer-rows", 1000, "CSV: data rows sampled to infer column types")
	fs.BoolVar(&f.csvStrings, "csv-strings", false, "CSV: read every column as a string (no type inference); -csv-types strings")
	fs.StringVar(&f.csvTypes, "csv-types", csvTypesAuto, "CSV column types: auto (the table's column types when Unity Catalog gives them, else inferred), "+
		"table (the table's, or an error), infer (from the first -csv-infer-rows rows) or strings (every column as text)")
	fs.BoolVar(&f.local, "local", false, "start an embedded local Zerobus server, send to it and print what landed")
	fs.StringVar(&f.quarantine, "quarantine", "", "write the rows that failed to the Arrow IPC stream file `FILE` (more files, FILE-2..., if schemas differ); "+
		"written beside it under a temporary name and renamed to FILE at the end if rows failed (an existing FILE is replaced then, "+
		"kept otherwise); FILE may not be an input")
	fs.BoolVar(&f.quiet, "quiet", false, "print neither the progress bar nor the summary (errors still go to stderr)")
	fs.BoolVar(&f.asJSON, "json", false, "print the summary as one JSON object on stdout")
	fs.StringVar(&f.progress, "progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always or never")
	fs.BoolVar(&f.dryRun, "dry-run", false, "convert only (zerobus_writer_disabled): check the files without sending or credentials")
	fs.DurationVar(&f.grace, "grace", defaultGrace, "after Ctrl-C or SIGTERM: how long the batches in flight may take to be acknowledged "+
		"before they are cancelled (e.g. 10s, 2m)")
	files, err := fs.parse(args, stdout)
	if err != nil {
		return nil, err
	}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	f.files = files
	f.verbose = *fs.verbose
	var problems []string
	if len(f.files) == 0 {
		problems = append(problems, "no input files: give one or more Arrow, Parquet or CSV files")
	}
	if f.batchRows < 1 || f.batchRows > 1<<24 {
		problems = append(problems, fmt.Sprintf("-batch-rows %d: must be between 1 and %d", f.batchRows, 1<<24))
	}
	if f.grace < 0 {
		problems = append(problems, fmt.Sprintf("-grace %s: must not be negative", f.grace))
	}
	switch f.csvTypes {
	case csvTypesAuto, csvTypesTable, csvTypesInfer, csvTypesStrings:
		if f.csvStrings && f.set["csv-types"] && f.csvTypes != csvTypesStrings {
			problems = append(problems, fmt.Sprintf("-csv-strings and -csv-types %s: choose one (-csv-strings is -csv-types strings)", f.csvTypes))
		}
	default:
		problems = append(problems, fmt.Sprintf("-csv-types %q: must be auto, table, infer or strings", f.csvTypes))
	}
	if f.csvStrings {
		f.csvTypes = csvTypesStrings
	}
	f.csvStrings = f.csvTypes == csvTypesStrings
	if f.csvInferRows < 1 {
		problems = append(problems, fmt.Sprintf("-csv-infer-rows %d: must be at least 1", f.csvInferRows))
	}
	switch f.progress {
	case "auto", "always", "never":
	default:
		problems = append(problems, fmt.Sprintf("-progress %q: must be auto, always or never", f.progress))
	}
	switch f.format {
	case formatAuto, formatArrow, formatParquet, formatCSV:
	default:
		problems = append(problems, fmt.Sprintf("-format %q: must be auto, arrow, parquet or csv", f.format))
	}
	if f.local && f.dryRun {
		problems = append(problems, "-local and -dry-run: choose one")
	}
	if f.local { // -local sets the connection itself: it would override these
		for _, o := range settingFlags(f, &core.Config{}) {
			if o.byLocal && f.set[o.flag] {
				problems = append(problems, fmt.Sprintf("-local and -%s: choose one (-local connects to its own server)", o.flag))
			}
		}
	}
	if len(problems) > 0 {
		return nil, usageErrorf("send", "%s", strings.Join(problems, "; "))
	}
	return f, nil
}

// sendConfig builds the Wrapper configuration: the -config file or the
// environment, then the flags.
func sendConfig(f *sendFlags, lookupEnv func(string) (string, bool)) (core.Config, error) {
	var cfg core.Config
	var refused *core.ConfigurationError // the file's values that were refused (an unknown key)
	if f.configFile != "" {
		referenced := map[string]bool{} // by the file's ${NAME}: read
		c, err := core.LoadConfigYAMLEnv(f.configFile, func(name string) (string, bool) {
			referenced[name] = true
			return lookupEnv(name)
		})
		if err != nil && (!errors.As(err, &refused) || len(refused.Problems) == 0) {
			return core.Config{}, err
		}
		cfg = c
		f.envUnread = unreadEnv(lookupEnv, referenced)
	} else {
		cfg = core.DefaultConfig()
		if err := cfg.ApplyEnv(lookupEnv); err != nil {
			return core.Config{}, err
		}
	}
	if f.local {
		f.localReplaces = localReplaced(f, &cfg, lookupEnv)
	}
	for _, o := range settingFlags(f, &cfg) {
		if f.set[o.flag] {
			*o.dst = o.val
		}
	}
	if refused != nil {
		return core.Config{}, withMissing(refused, cfg, f)
	}
	if f.dryRun {
		cfg.WriterDisabled = true
	} else if cfg.WriterDisabled { // set by the file or the environment: a dry run too, said so
		f.writerOffBy = "file " + f.configFile
		if f.configFile == "" {
			f.writerOffBy = "env " + core.EnvVarOf("WriterDisabled", lookupEnv)
		}
		if f.local {
			return core.Config{}, usageErrorf("send", "-local sends to an embedded server, but "+
				"zerobus_writer_disabled is true (%s): unset it, or use -dry-run instead of -local", f.writerOffBy)
		}
		f.dryRun = true
	}
	if (f.local || f.dryRun) && cfg.TableName == "" {
		cfg.TableName = defaultLocalTable
	}
	return cfg, nil
}

// withMissing is the -config file's refused values (an unknown key, a bad
// value: the loader checks the file's other values with them) followed by
// the problems Validate finds in the rest of the configuration, the file's
// values that loaded and the flags: the settings still missing are listed
// in the same round, not once the key is fixed (s18 review errors M4a).
// With -local or -dry-run the connection comes later or is not needed: the
// file's problems alone.
func withMissing(refused *core.ConfigurationError, cfg core.Config, f *sendFlags) error {
	var ve *core.ConfigurationError
	if f.local || f.dryRun || !errors.As(cfg.Validate(), &ve) {
		return refused
	}
	listed := map[string]bool{}
	for _, p := range refused.Problems {
		listed[p.Field] = true
	}
	all := *refused
	all.Problems = slices.Clone(refused.Problems)
	for _, p := range ve.Problems {
		if !listed[p.Field] {
			listed[p.Field] = true
			all.Problems = append(all.Problems, p)
		}
	}
	return &all
}

// unreadEnv lists the settings' environment variables that are set (not
// empty) but not read, as -config reads the file instead (except the
// variables its ${NAME} references read).
func unreadEnv(lookupEnv func(string) (string, bool), referenced map[string]bool) []string {
	var names []string
	for _, s := range core.Settings() {
		for _, name := range s.Env {
			if v, ok := lookupEnv(name); ok && v != "" && !referenced[name] {
				names = append(names, name)
			}
		}
	}
	return names
}

// localReplaced names the connection settings that cfg, read from the
// -config file or the environment, holds and -local replaces with its own
// server's (the settings of its refused flags, and the proxy and CA file
// its plaintext loopback server does not use), and clears the latter: by
// YAML key with a file, by the environment variable that gave the value
// without. "" for none.
func localReplaced(f *sendFlags, cfg *core.Config, lookupEnv func(string) (string, bool)) string {
	keyOf := map[string]string{}
	for _, s := range core.Settings() {
		keyOf[s.Field] = s.Key
	}
	type held struct {
		field string
		dst   *string
		clear bool // not used by the local server: cleared (the others are replaced after)
	}
	var replaced []held
	for _, o := range settingFlags(f, cfg) {
		if o.byLocal {
			replaced = append(replaced, held{o.field, o.dst, false})
		}
	}
	replaced = append(replaced, held{"ProxyURL", &cfg.ProxyURL, true}, held{"TLSCAFile", &cfg.TLSCAFile, true})
	var names []string
	for _, h := range replaced {
		if *h.dst == "" {
			continue
		}
		name := keyOf[h.field]
		if f.configFile == "" {
			name = cmp.Or(core.EnvVarOf(h.field, lookupEnv), name)
		}
		names = append(names, name)
		if h.clear {
			*h.dst = ""
		}
	}
	if len(names) == 0 {
		return ""
	}
	if f.configFile != "" {
		return strings.Join(names, ", ") + " from file " + f.configFile
	}
	return strings.Join(names, ", ") + " from the environment"
}

// settingFlag is a flag of send that sets a setting.
type settingFlag struct {
	flag    string
	field   string // the core.Config field (core.ConfigProblem.Field)
	conn    bool   // part of the connection (the hint after a configuration error)
	byLocal bool   // -local sets it to its own server's (the flag is refused with -local)
	dst     *string
	val     string
}

// settingFlags lists the flags of send that set a setting of cfg, with the
// values f holds.
func settingFlags(f *sendFlags, cfg *core.Config) []settingFlag {
	return []settingFlag{
		{"table", "TableName", true, false, &cfg.TableName, f.table},
		{"endpoint", "Endpoint", true, true, &cfg.Endpoint, f.endpoint},
		{"workspace-url", "UnityCatalogURL", true, true, &cfg.UnityCatalogURL, f.workspaceURL},
		{"client-id", "ClientID", true, true, &cfg.ClientID, f.clientID},
		{"client-secret", "ClientSecret", true, true, &cfg.ClientSecret, f.clientSecret},
		{"transport", "Transport", false, false, &cfg.Transport, f.transport},
	}
}

// configError explains New's configuration error: a setting is named by
// what gave it, the flag, the -config file (the environment is not read
// then) or the environment variable read; when a connection setting is at
// fault and a connection is needed (not -local or -dry-run), how to set the
// connection follows (with -config: in that file or with flags).
func configError(err error, f *sendFlags, lookupEnv func(string) (string, bool)) error {
	var ce *core.ConfigurationError
	if !errors.As(err, &ce) {
		return err
	}
	conn := false
	for i, p := range ce.Problems {
		switch {
		case f.configFile != "" && p.YAMLKey != "":
			ce.Problems[i].SetBy = "file " + f.configFile
		case f.configFile == "" && p.EnvVar != "": // the settings were read from the environment
			// the variable that gave the value: DATABRICKS_HOST when UNITY_CATALOG_URL is not set
			ce.Problems[i].SetBy = "env " + cmp.Or(core.EnvVarOf(p.Field, lookupEnv), p.EnvVar)
		}
		for _, o := range settingFlags(f, &core.Config{}) {
			if p.Field != o.field {
				continue
			}
			if f.set[o.flag] {
				ce.Problems[i].SetBy = "flag -" + o.flag
			} else if strings.HasPrefix(p.Message, "is required") {
				// missing: named by the flag too, which sets it as well
				from := ce.Problems[i].SetBy
				if from == "" && p.EnvVar != "" {
					from = "env " + p.EnvVar
				}
				ce.Problems[i].SetBy = strings.TrimSuffix("flag -"+o.flag+" or "+from, " or ")
			}
			// the hint on setting the connection is for a connection setting
			// that is missing, not one given in a wrong form (-table foo)
			conn = conn || o.conn && strings.HasPrefix(p.Message, "is required")
		}
	}
	if !f.connOnly {
		for i, p := range ce.Problems { // the CLI's name of zerobus_writer_disabled
			ce.Problems[i].Message = strings.ReplaceAll(p.Message, "unless zerobus_writer_disabled is true", "unless -dry-run is given")
		}
	}
	if !conn || f.local || f.dryRun { // -local and -dry-run need no connection: the setting itself is wrong
		return err
	}
	orTry := ", or try -local or -dry-run"
	if f.connOnly {
		orTry = ""
	}
	if f.configFile != "" { // the environment is not read
		return fmt.Errorf("%w\nset the connection in %s or with -endpoint, -workspace-url, -client-id, -client-secret "+
			"and -table%s", err, f.configFile, orTry)
	}
	return fmt.Errorf("%w\nset the connection with -endpoint, -workspace-url, -client-id, -client-secret and -table, "+
		"the ZEROBUS_* environment variables or -config FILE%s", err, orTry)
}

// errRowsFailed matches (errors.Is) the error sendMain returns when rows
// failed; the exit status is then 1.
var errRowsFailed = errors.New("rows failed")

// rowsFailedError reports how many rows failed.
type rowsFailedError struct {
	failed, unknown, read int64
	quarantined           bool
	quiet                 bool // -quiet: no summary was printed
}

func (e *rowsFailedError) Error() string {
	summary := "see the summary"
	if e.quiet {
		summary = "-json or a run without -quiet lists them"
	}
	hint := summary + "; -quarantine FILE keeps them"
	if e.quarantined {
		hint = summary + " and the quarantine file"
	}
	return fmt.Sprintf("%s of %s rows failed (%s%s)", thousands(e.failed), thousands(e.read), hint, unknownNote(e.unknown))
}

func (e *rowsFailedError) Is(target error) bool { return target == errRowsFailed }

func sendMain(ctx context.Context, args []string, env sendEnv) error {
	f, err := parseSendFlags(args, env.stdout)
	if err != nil {
		return err
	}
	// An interrupt (ctx) stops reading; the batches in flight, the local
	// server and the final flush run on under sendCtx.
	sendCtx := context.WithoutCancel(ctx)
	cfg, err := sendConfig(f, env.lookupEnv)
	if err != nil {
		return err
	}
	if len(f.envUnread) > 0 { // silently ignored before (s14 review-config 7)
		fmt.Fprintf(env.stderr, "zerobus send: -config %s: the environment is not read, so %s %s ignored "+
			"(set them in the file, or send without -config)\n", f.configFile, strings.Join(f.envUnread, ", "),
			map[bool]string{true: "is", false: "are"}[len(f.envUnread) == 1])
	}

	if f.writerOffBy != "" {
		fmt.Fprintf(env.stderr, "zerobus send: zerobus_writer_disabled is true (%s): converting only, nothing is sent "+
			"(as -dry-run)\n", f.writerOffBy)
	}

	if f.localReplaces != "" {
		fmt.Fprintf(env.stderr, "zerobus send: -local: not using %s (-local connects to its own server)\n", f.localReplaces)
	}

	var srv *zerobuslocal.Server
	if f.local {
		srv, err = zerobuslocal.Start(sendCtx, zerobuslocal.Options{})
		if err != nil {
			return fmt.Errorf("-local: starting the local server: %w", err)
		}
		defer srv.Close()
		cfg.Endpoint, cfg.UnityCatalogURL = srv.Endpoint(), srv.WorkspaceURL()
		cfg.ClientID, cfg.ClientSecret = srv.ClientID(), srv.ClientSecret()
	}

	// Logs take the core path (as in Python): log_level and log_file from
	// the settings, -v meaning log_level debug; warnings (debug with -v)
	// also go to stderr as text. The logger, the interrupt notice and the
	// progress bar share stderr.
	env.stderr = &lockedWriter{w: env.stderr}
	if f.verbose {
		cfg.LogLevel = "debug" // as cliTelemetry logs, so the logged config says so
	}
	// The send's Wrapper and its telemetry are made when first wanted: by
	// the -csv-types lookup when the first CSV input is opened, else once
	// every input is checked (below).
	rw := &runWrapper{ctx: sendCtx, cfg: cfg, verbose: f.verbose, stderr: env.stderr}
	defer rw.end() // after the Close below, or on an earlier return

	// CSV inputs: the table's column types, read once when the first CSV
	// input is opened (-csv-types auto or table), with the send's Wrapper,
	// on ctx: the first interrupt ends a lookup still waiting for the
	// catalog (nothing is in flight then).
	var note io.Writer = env.stderr
	if f.quiet {
		note = nil
	}
	f.csvTable = newCSVTableTypes(ctx, f.csvTypes, cfg, f.csvInferRows, note, rw.get)

	// Check every file before anything is sent. Stream inputs ("-",
	// pipes) are read once: opened here and sent from what was read.
	if env.stdin == nil {
		env.stdin = strings.NewReader("")
	}
	totalRows := int64(0)
	streams := make([]*input, len(f.files))
	defer func() {
		for _, in := range streams {
			if in != nil {
				in.Close()
			}
		}
	}()
	// One stream input per run: two names of one pipe ("- /dev/stdin",
	// "fifo ./fifo") would be read by two readers in turn, and two pipes
	// written one after the other by one producer would wait on each
	// other (every input is opened and checked before anything is sent).
	var stream string
	for _, path := range f.files {
		if isStream, _, err := streamKind(path, env.stdin); err != nil || !isStream {
			continue // an error is probeInput's to report, below
		}
		if stream != "" {
			if stream == path {
				return usageErrorf("send", "%s is given twice: it is read once", inputName(path))
			}
			return usageErrorf("send", "%s and %s are both pipes (or standard input): send reads one per run; send each in a run of its own, or join them into one stream first", inputName(stream), inputName(path))
		}
		stream = path
	}
	for i, path := range f.files {
		n, stream, err := probeInput(sendCtx, ctx, path, inputOptions{format: f.format, batchRows: f.batchRows,
			csvInferRows: f.csvInferRows, csvNoInference: f.csvStrings, csvInferWait: f.set["csv-infer-rows"], csvTable: f.csvTable,
			mem: memory.DefaultAllocator}, env.stdin)
		streams[i] = stream
		if err != nil {
			if f.asJSON && !f.quiet { // the summary object, as when reading fails later: nothing read
				sum := &summary{table: cfg.TableName, files: f.files, dryRun: f.dryRun, transport: cfg.Transport, rowsTotal: -1,
					interrupted: errors.Is(err, errInterrupted)}
				if srv != nil {
					n := int64(srv.RecordCount(cfg.TableName))
					sum.storedRows = &n
				}
				_ = sum.writeJSON(env.stdout, err, nil)
			}
			return err
		}
		if n < 0 || totalRows < 0 {
			totalRows = -1
		} else {
			totalRows += n
		}
	}

	w, err := rw.get()
	if err != nil {
		return configError(err, f, env.lookupEnv) // the telemetry's and New's, named by what set them
	}

	if env.mem == nil {
		env.mem = memory.DefaultAllocator
	}
	var q *quarantine
	if f.quarantine != "" {
		if q, err = openQuarantine(f.quarantine, f.files); err != nil {
			w.Close(sendCtx)
			return err
		}
	}

	s := &sender{
		w:       w,
		q:       q,
		mem:     env.mem,
		c:       &counters{totalRows: totalRows, totalFiles: len(f.files), start: env.now(), noTotal: slices.ContainsFunc(streams, func(in *input) bool { return in != nil })},
		streams: streams,
		sum:     &summary{table: cfg.TableName, files: f.files, dryRun: f.dryRun, transport: cfg.Transport},
	}
	// The batches run on batchCtx: after an interrupt they get f.grace to
	// be acknowledged, then batchCtx is cancelled, which resolves them
	// (their rows not written, or unknown when they were sent).
	batchCtx, cancelBatches := context.WithCancel(sendCtx)
	defer cancelBatches()
	var graceEnd atomic.Pointer[time.Time]
	var summaryOut atomic.Bool // the summary is being printed: a hard stop prints no JSON of its own
	defer onHardStop(func() { s.hardStop(env, f, !summaryOut.Load()) })()
	printed := make(chan struct{})
	sayInterrupted := func() {
		end := env.now().Add(f.grace)
		graceEnd.Store(&end)
		notice := "interrupted: finishing the batches in flight (Ctrl-C again to quit at once): " + inFlightNotice(s.c, f.grace)
		if lw, ok := env.stderr.(*lockedWriter); ok && lw.barShown() {
			fmt.Fprintln(env.stderr, notice) // the bar's line is blanked first: the notice starts it
		} else {
			fmt.Fprintln(env.stderr, "\n"+notice) // after the terminal's ^C
		}
	}
	var graceTimer *time.Timer
	var graceMu sync.Mutex
	startGrace := func() {
		graceMu.Lock()
		defer graceMu.Unlock()
		if graceTimer == nil {
			graceTimer = time.AfterFunc(f.grace, func() {
				s.graceExpired.Store(true)
				cancelBatches()
			})
		}
	}
	defer func() {
		graceMu.Lock()
		defer graceMu.Unlock()
		if graceTimer != nil {
			graceTimer.Stop()
		}
	}()
	stopWatch := context.AfterFunc(ctx, func() {
		defer close(printed)
		sayInterrupted()
		startGrace()
	})
	// settleInterrupt stops the watcher, so the line is printed once and
	// before Close and the summary: waiting for it if the watcher started,
	// printing it if ctx ended before the context got round to starting
	// the watcher (it sets the error first).
	settleInterrupt := sync.OnceFunc(func() {
		switch {
		case !stopWatch():
			<-printed
		case ctx.Err() != nil:
			sayInterrupted()
			startGrace()
		}
	})
	defer settleInterrupt()
	var bar *progressBar
	if !f.quiet && (f.progress == "always" || f.progress == "auto" && env.terminal) {
		bar = startProgress(env.stderr, s.c, env.now)
	}

	runErr := s.run(ctx, batchCtx, f)
	settleInterrupt()
	if ctx.Err() != nil {
		// interrupted, also when every file had been read and the
		// interrupt came while the last batches were in flight
		s.sum.interrupted = true
		s.sum.grace = f.grace
		s.sum.graceExpired = s.graceExpired.Load()
	}

	cctx := sendCtx
	if ctx.Err() != nil {
		// bounded: what is left of the grace, at least minCloseAfterGrace
		left := minCloseAfterGrace
		if end := graceEnd.Load(); end != nil {
			left = max(left, end.Sub(env.now()))
		}
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(sendCtx, left)
		defer cancel()
	}
	closeErr := w.Close(cctx)
	if bar != nil {
		bar.Stop()
	}
	if q != nil {
		qfiles, err := q.close()
		s.sum.quarantine = qfiles
		if err != nil && runErr == nil {
			runErr = err
		}
	}
	s.fillSummary(env.now())
	rw.shutdownTel() // the last export, after the summary's time is taken
	if srv != nil {
		n := int64(srv.RecordCount(cfg.TableName))
		s.sum.storedRows = &n
	}
	summaryOut.Store(true)
	switch {
	case f.quiet:
	case f.asJSON:
		if err := s.sum.writeJSON(env.stdout, runErr, closeErr); err != nil && runErr == nil {
			runErr = err
		}
	default:
		s.sum.write(env.stdout)
	}
	if srv != nil && !f.asJSON && !f.quiet {
		printLanded(env.stdout, srv, cfg.TableName, s.schema)
	}
	var se *stoppedError
	if !f.quiet && !f.asJSON && env.oneTerminal && s.sum.stopped != nil && errors.As(runErr, &se) {
		// the summary's "stopped early", on the same terminal, says why: the
		// error line does not repeat it. When stdout goes elsewhere (a file,
		// a pipe) or is JSON, stderr keeps the cause: a script that shows
		// stderr and keeps stdout as the report still shows why.
		se.summarized = true
	}
	switch {
	case s.sum.interrupted:
		return fmt.Errorf("%w: reading stopped after %s of %s files; of the %s rows read, %s were sent and %s failed%s (see the summary)",
			errInterrupted, thousands(s.sum.filesDone), thousands(int64(len(f.files))), thousands(s.sum.rowsRead),
			thousands(s.sum.rowsSent), thousands(s.sum.rowsFailed), unknownNote(s.sum.rowsUnknown))
	case runErr != nil:
		return runErr
	case closeErr != nil && s.sum.rowsFailed == 0:
		return fmt.Errorf("closing the stream: %w", closeErr)
	case s.sum.rowsFailed > 0:
		return &rowsFailedError{failed: s.sum.rowsFailed, unknown: s.sum.rowsUnknown, read: s.sum.rowsRead, quarantined: len(s.sum.quarantine) > 0,
			quiet: f.quiet}
	}
	return nil
}

// runWrapper is the Wrapper of a send run and its telemetry
// (cliTelemetry), made by the first get: by the -csv-types lookup when the
// first CSV input is opened (the table's columns are then read with the
// token and the catalog answer the send goes on with), else once every
// input is checked. Safe for concurrent use.
type runWrapper struct {
	ctx     context.Context // sendCtx
	cfg     core.Config
	verbose bool
	stderr  io.Writer

	once    sync.Once
	w       *core.Wrapper
	tel     *core.Telemetry
	restore func() // the otel error handler cliTelemetry replaced
	err     error
}

// get makes the Wrapper on the first call and returns it, or the error of
// the telemetry setup or of New (every call the same).
func (r *runWrapper) get() (*core.Wrapper, error) {
	r.once.Do(func() {
		tel, restore, err := cliTelemetry(r.ctx, r.cfg, r.verbose, r.stderr)
		if err != nil {
			r.err = err
			return
		}
		r.tel, r.restore = tel, restore
		r.w, r.err = core.New(r.ctx, r.cfg, tel.Options()...)
	})
	return r.w, r.err
}

// shutdownTel shuts the telemetry down after the summary is measured (not
// by Close), so a slow collector does not count as sending time: bounded
// as Close would. Idempotent.
func (r *runWrapper) shutdownTel() {
	if r.tel != nil {
		_ = r.tel.ShutdownAfterClose(r.ctx)
	}
}

// end closes the Wrapper (at once when sendMain closed it already), shuts
// the telemetry down and then restores the otel error handler; a get
// after end makes nothing.
func (r *runWrapper) end() {
	r.once.Do(func() { r.err = errors.New("zerobus send: the run has ended") })
	if r.w != nil {
		_ = r.w.Close(r.ctx)
	}
	r.shutdownTel()
	if r.restore != nil {
		r.restore()
	}
}

// lockedWriter serialises writes from several goroutines, and keeps the
// progress bar's line (drawLine) apart from the other writes (log records,
// notices): a write while the bar is shown first blanks the bar's line, so
// the record starts at the line's start, and the next redraw puts the bar
// back below it.
type lockedWriter struct {
	mu     sync.Mutex
	w      io.Writer
	barLen int // length of the bar line on screen, without a line end; 0 if none
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.clearBar()
	return l.w.Write(p)
}

// drawLine (re)draws the bar's line in place.
func (l *lockedWriter) drawLine(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	pad := ""
	if n := l.barLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	_, _ = fmt.Fprintf(l.w, "\r%s%s", line, pad)
	l.barLen = max(len(line), 1)
}

// barShown reports whether the bar's line is shown (a write blanks it
// first, so it starts at the line's start).
func (l *lockedWriter) barShown() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.barLen > 0
}

// endLine ends the bar's line, leaving it shown.
func (l *lockedWriter) endLine() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.barLen > 0 {
		_, _ = fmt.Fprintln(l.w)
		l.barLen = 0
	}
}

// clearBar blanks the bar's line, if shown; l.mu is held.
func (l *lockedWriter) clearBar() {
	if l.barLen > 0 {
		_, _ = fmt.Fprintf(l.w, "\r%s\r", strings.Repeat(" ", l.barLen))
		l.barLen = 0
	}
}

// probeInput checks that path can be read (opening it as its format: the
// Parquet footer, the Arrow IPC schema, the CSV header and type sample)
// and returns its row count when the format records it (Parquet), else -1.
// A stream input ("-", a pipe) is read once: it is opened here (intr, the
// interrupt, ends a read waiting for its writer) and returned open, to be
// sent from; it has no row count.
func probeInput(ctx, intr context.Context, path string, o inputOptions, stdin io.Reader) (n int64, stream *input, err error) {
	format := o.format
	defer recoverDecode(&err, inputName(path))
	isStream, other, err := streamKind(path, stdin)
	if err != nil {
		return 0, nil, err
	}
	if isStream {
		in, err := openStream(intr, path, o, stdin)
		return -1, in, err
	}
	if other != "" {
		return 0, nil, usageErrorf("send", "%s is %s: send reads regular files, standard input (-) and pipes", path, other)
	}
	if err := notCompressed(path); err != nil {
		return 0, nil, err
	}
	fm, err := detectFormat(path, format)
	if err != nil {
		return 0, nil, err
	}
	if fm != formatParquet {
		in, err := openInput(ctx, path, o)
		if err != nil {
			return 0, nil, err
		}
		return -1, nil, in.Close()
	}
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", path, parquetOpenError(path, err))
	}
	defer pf.Close()
	return pf.NumRows(), nil, nil
}

// compressedMagic are the first bytes of the compressed files send names
// when refusing them, and the command that decompresses them to stdout.
var compressedMagic = []struct {
	magic, name, ext, decompress string
}{
	{"\x1f\x8b", "gzip", ".gz", "gzip -dc"},
	{"\x00", "bzip2", ".bz2", "bzip2 -dc"}, // by extension only: "BZh" may start a CSV header
	{"\xfd7zXZ\x00", "xz", ".xz", "xz -dc"},
	{"\x28\xb5\x2f\xfd", "zstd", ".zst", "zstd -dc"},
	{"PK\x03\x04", "zip", ".zip", "unzip -p"},
}

// compressedKind is the compression of a file starting with head and
// named with the extension ext (lower case), or nil.
func compressedKind(head []byte, ext string) *struct{ magic, name, ext, decompress string } {
	for i, c := range compressedMagic {
		if c.magic != "\x00" && strings.HasPrefix(string(head), c.magic) || ext == c.ext {
			return &compressedMagic[i]
		}
	}
	return nil
}

// notCompressed refuses a compressed file (by its first bytes or its
// extension): send reads Arrow IPC, Parquet and CSV files as they are. The
// remedy decompresses it into send's standard input, or, for Parquet
// (which cannot be read from a pipe), to a file.
func notCompressed(path string) error {
	head := make([]byte, 6)
	if f, err := os.Open(path); err == nil {
		n, _ := io.ReadFull(f, head)
		head = head[:n]
		_ = f.Close()
	}
	ext := strings.ToLower(filepath.Ext(path))
	c := compressedKind(head, ext)
	if c == nil {
		return nil
	}
	inner := path
	if ext == c.ext {
		inner = strings.TrimSuffix(path, filepath.Ext(path))
	}
	if e := strings.ToLower(filepath.Ext(inner)); e == ".parquet" || e == ".pq" {
		if inner == path {
			inner += ".parquet"
		}
		return usageErrorf("send", "%s is %s-compressed: compressed input is not supported, and Parquet cannot be read from a pipe; "+
			"decompress it to a file first: %s %s > %s && zerobus send [flags] %s", path, c.name, c.decompress, path, inner, inner)
	}
	return usageErrorf("send", "%s is %s-compressed: compressed input is not supported; decompress it on the way in: "+
		"%s %s | zerobus send [flags] -", path, c.name, c.decompress, path)
}

// pendingBatch is a batch handed to SendBatchAsync and not yet accounted.
type pendingBatch struct {
	fut      *core.SendFuture
	rec      arrow.RecordBatch // retained until accounted (for -quarantine)
	file     string
	startRow int64 // index in the file of the batch's first row
}

// sender runs the send loop.
type sender struct {
	w   *core.Wrapper
	q   *quarantine
	mem memory.Allocator
	c   *counters
	sum *summary

	pending []pendingBatch
	byKind  map[core.ErrorKind]int64
	fails   failureLog
	resent  core.RecoveryCount // stream recoveries and rows re-sent (possible duplicates)
	// schema is the first batch's: -local's listing of stored rows
	// prints its timestamp and date columns as times and dates.
	schema *arrow.Schema
	// graceExpired: the grace after an interrupt ran out and the batches
	// still in flight were cancelled.
	graceExpired atomic.Bool
	// streams are the stream inputs, opened by probeInput, by the index of
	// the file; sendFile takes them (and closes them).
	streams []*input
}

// hardStop is the send's part of HardStop: the process quits at once (a
// second Ctrl-C). It prints one line on stderr from the counters (with
// -json, and withJSON, also a minimal JSON object on stdout) and removes
// the quarantine's temporary files.
func (s *sender) hardStop(env sendEnv, f *sendFlags, withJSON bool) {
	if s.q != nil {
		s.q.abort()
	}
	c := s.c
	read, sent, failed, unknown := c.rowsRead.Load(), c.rowsSent.Load(), c.rowsFailed.Load(), c.rowsUnknown.Load()
	inFlight := max(0, read-sent-failed)
	file, fileRow := "", c.fileRow.Load()
	if in := c.current.Load(); in != nil {
		file = in.path
	}
	where := "before the first file"
	if file != "" {
		where = fmt.Sprintf("at row %s of %s (file %d of %d)", thousands(fileRow), inputName(file), min(c.filesDone.Load()+1, int64(c.totalFiles)), c.totalFiles)
	}
	failedText := ""
	if failed > 0 {
		failedText = fmt.Sprintf(", %s failed", thousands(failed))
		if unknown > 0 {
			failedText += fmt.Sprintf(" (%s of them unknown: they may be stored)", thousands(unknown))
		}
	}
	fmt.Fprintf(env.stderr, "zerobus send: quit at once: %s rows acknowledged%s, %s in flight (unknown: they may be stored); reading stopped %s\n",
		thousands(sent), failedText, thousands(inFlight), where)
	if s.q != nil {
		fmt.Fprintf(env.stderr, "zerobus send: quit at once: -quarantine %s not written (its temporary file is removed)\n", f.quarantine)
	}
	if f.asJSON && !f.quiet && withJSON {
		b, err := json.Marshal(map[string]any{
			"success": false, "interrupted": true, "aborted": true, "table": s.sum.table, "files": f.files,
			"rows_read": read, "rows_sent": sent, "rows_failed": failed, "rows_unknown": unknown + inFlight,
			"rows_in_flight": inFlight, "stopped_file": file, "stopped_row": fileRow,
		})
		if err == nil {
			_, _ = env.stdout.Write(append(b, '\n'))
		}
	}
}

// inFlightNotice says what the interrupt waits for: "waiting up to 30s
// (-grace) for 3 batches (1,200 rows), then cancelling them".
func inFlightNotice(c *counters, grace time.Duration) string {
	batches := c.batchesQueued.Load() - c.batches.Load()
	rows := c.rowsRead.Load() - c.rowsSent.Load() - c.rowsFailed.Load()
	if batches <= 0 {
		return "none is in flight now"
	}
	what := "1 batch"
	if batches > 1 {
		what = fmt.Sprintf("%s batches", thousands(batches))
	}
	return fmt.Sprintf("waiting up to %s (-grace) for %s (%s rows), then cancelling them", grace, what, thousands(rows))
}

// run reads every file and sends its batches, sendWindow at a time. It
// returns the first error that stopped it (reading a file, a failure that
// would repeat for every batch, an interrupt).
//
// ctx is the interrupt: when it ends, reading stops before the next batch
// and run returns nil with s.sum.interrupted set. Batches are sent under
// sendCtx, which sendMain cancels when the grace after the interrupt ends.
func (s *sender) run(ctx, sendCtx context.Context, f *sendFlags) (err error) {
	s.byKind = map[core.ErrorKind]int64{}
	defer func() {
		for len(s.pending) > 0 {
			if aerr := s.accountOldest(); aerr != nil && err == nil {
				err = aerr
			}
		}
	}()
	o := inputOptions{format: f.format, batchRows: f.batchRows, csvInferRows: f.csvInferRows, csvNoInference: f.csvStrings,
		csvTable: f.csvTable, mem: s.mem}
	for i, path := range f.files {
		var in *input
		if i < len(s.streams) {
			in, s.streams[i] = s.streams[i], nil
		}
		if err := s.sendFile(ctx, sendCtx, path, in, o); err != nil {
			return err
		}
		if s.sum.interrupted {
			return nil
		}
		s.c.filesDone.Add(1)
	}
	return nil
}

// sendFile sends the file path; in is its input when already open (a
// stream input, opened by probeInput), else nil.
func (s *sender) sendFile(ctx, sendCtx context.Context, path string, in *input, o inputOptions) error {
	if in != nil {
		defer in.Close()
	}
	if ctx.Err() != nil {
		s.sum.interrupted = true
		return nil
	}
	if in == nil {
		var err error
		if in, err = openInput(sendCtx, path, o); err != nil {
			return err
		}
		defer in.Close()
	}
	s.c.current.Store(in)
	s.c.fileRow.Store(0)
	var row int64
	for in.reader.Next() {
		if ctx.Err() != nil {
			s.sum.interrupted = true
			return nil
		}
		rec := in.reader.RecordBatch()
		rec.Retain()
		if s.schema == nil {
			s.schema = rec.Schema()
		}
		s.c.rowsRead.Add(rec.NumRows())
		s.pending = append(s.pending, pendingBatch{fut: s.w.SendBatchAsync(sendCtx, rec), rec: rec, file: path, startRow: row})
		s.c.batchesQueued.Add(1)
		row += rec.NumRows()
		s.c.fileRow.Store(row)
		for len(s.pending) >= sendWindow {
			if err := s.accountOldest(); err != nil {
				return err
			}
		}
	}
	if err := in.reader.Err(); err != nil {
		if in.stream && ctx.Err() != nil { // the interrupt ended a read waiting for the pipe's writer
			s.sum.interrupted = true
			return nil
		}
		s.sum.stopped = fmt.Errorf("reading %s failed after %s rows (see the error below); the rows read before were sent and are counted above",
			inputName(path), thousands(row))
		s.sum.stoppedJSON = fmt.Sprintf("reading %s failed after %s rows (error says why); the rows read before were sent and are counted here",
			inputName(path), thousands(row))
		return fmt.Errorf("%s: %w", inputName(path), err)
	}
	return nil
}

// accountOldest waits for the oldest pending batch and records its result.
// It returns an error when the failure would repeat for every later batch.
func (s *sender) accountOldest() error {
	p := s.pending[0]
	s.pending = s.pending[1:]
	defer p.rec.Release()
	<-p.fut.Ready()
	res, _ := p.fut.Wait(context.Background())
	s.c.rowsSent.Add(int64(res.SuccessfulCount))
	s.c.rowsFailed.Add(int64(res.FailedCount))
	s.c.rowsUnknown.Add(int64(res.UnknownCount))
	s.c.bytes.Add(int64(res.BatchSizeBytes))
	s.c.batches.Add(1)
	s.resent.Add(res)
	if res.FailedCount == 0 {
		return nil
	}
	for _, fr := range res.FailedRows {
		s.byKind[core.KindOf(fr.Err)]++
		s.fails.add(p.file, p.startRow+int64(fr.Index), fr.Err)
	}
	if s.q != nil {
		failed, err := res.ExtractFailedBatchWith(s.mem, p.rec)
		if err != nil {
			return fmt.Errorf("-quarantine: %w", err)
		}
		err = s.q.write(failed)
		failed.Release()
		if err != nil {
			return err
		}
	}
	if res.Err != nil && core.KindOf(res.Err).Fatal() && res.SuccessfulCount == 0 {
		if core.KindOf(res.Err) == core.KindCanceled && s.graceExpired.Load() {
			// the grace after an interrupt ran out and cancelled the batch:
			// the summary's "interrupted:" line says so; it did not stop the run
			return nil
		}
		if s.sum.stopped == nil {
			s.sum.stopped = res.Err
		}
		return &stoppedError{err: res.Err}
	}
	return nil
}

// stoppedError is the error of a run stopped by a failure that would repeat
// for every batch. summarized: a printed summary holds the failure.
type stoppedError struct {
	err        error
	summarized bool
}

func (e *stoppedError) Error() string {
	if e.summarized {
		return "stopped early (see the summary)"
	}
	return "stopped: " + trimPrefix(e.err)
}
func (e *stoppedError) Unwrap() error { return e.err }

func (s *sender) fillSummary(now time.Time) {
	s.sum.rowsRead = s.c.rowsRead.Load()
	s.sum.rowsTotal = s.c.totalRows
	if s.sum.rowsTotal < 0 && s.c.filesDone.Load() == int64(s.c.totalFiles) {
		// no count before reading (CSV, Arrow IPC, a pipe), but every file
		// was read to its end: the total is the rows read
		s.sum.rowsTotal = s.c.rowsRead.Load()
	}
	s.sum.rowsSent = s.c.rowsSent.Load()
	s.sum.rowsFailed = s.c.rowsFailed.Load()
	s.sum.rowsUnknown = s.c.rowsUnknown.Load()
	s.sum.bytes = s.c.bytes.Load()
	s.sum.batches = s.c.batches.Load()
	s.sum.elapsed = now.Sub(s.c.start)
	s.sum.filesDone = s.c.filesDone.Load()
	s.sum.byKind = s.byKind
	s.sum.fails = &s.fails
	s.sum.recoveries, s.sum.rowsResent = int64(s.resent.Recoveries()), int64(s.resent.ResentRows())
}

// printLanded prints what the -local server stored; schema is the Arrow
// schema of the first batch sent (nil when none was), which says which
// stored integers are times and dates.
func printLanded(w io.Writer, srv *zerobuslocal.Server, table string, schema *arrow.Schema) {
	n := srv.RecordCount(table)
	fmt.Fprintf(w, "local server: table %s holds %s rows\n", table, thousands(int64(n)))
	if n == 0 {
		return
	}
	if n > localSampleMaxTable {
		fmt.Fprintf(w, "  (rows not listed for tables over %s rows: listing decodes every stored row)\n", thousands(localSampleMaxTable))
		return
	}
	rows := srv.Rows(table)
	var fields []arrow.Field
	if schema != nil {
		fields = schema.Fields()
	}
	show := min(len(rows), localSampleRows)
	fmt.Fprintf(w, "  first %d:\n", show)
	for _, r := range rows[:show] {
		text := "<raw JSON> " + string(r.Raw)
		if r.Message != nil {
			text = landedRow(r.Message, fields)
		}
		fmt.Fprintf(w, "    %s\n", text)
	}
}

// landedRow is one stored row on one line in protobuf text format, except
// that values of Arrow timestamp columns (stored as microseconds since the
// epoch) print as RFC 3339 UTC times (as times without a zone when the
// column has no time zone: TIMESTAMP_NTZ) and date columns (days since the
// epoch) as dates, at any depth. fields are the Arrow fields m was sent
// from (the table's, a struct's, a map entry's key and value); a field
// matched by name whose stored kind is not what that type gives prints in
// protobuf's form.
func landedRow(m protoreflect.Message, fields []arrow.Field) string {
	var parts []string
	fds := m.Descriptor().Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		if !m.Has(fd) {
			continue
		}
		if text, ok := landedTimeField(m, fd, fields); ok {
			parts = append(parts, text...)
			continue
		}
		// protobuf's own text of the field alone (it inserts random extra
		// spaces on purpose: Fields collapses them)
		one := m.Type().New()
		one.Set(fd, m.Get(fd))
		parts = append(parts, strings.Join(strings.Fields(prototext.MarshalOptions{}.Format(one.Interface())), " "))
	}
	return strings.Join(parts, " ")
}

// landedTimeField is field fd of m as landedRow prints it when it is or
// holds a time; false when it does not.
func landedTimeField(m protoreflect.Message, fd protoreflect.FieldDescriptor, fields []arrow.Field) ([]string, bool) {
	dt := landedFieldType(fields, string(fd.Name()))
	if dt == nil || !holdsTime(dt) {
		return nil, false
	}
	name, v := string(fd.Name()), m.Get(fd)
	var parts []string
	switch t := dt.(type) {
	case *arrow.MapType:
		if !fd.IsMap() {
			return nil, false
		}
		entryFields := []arrow.Field{{Name: "key", Type: t.KeyType()}, {Name: "value", Type: t.ItemType()}}
		for _, k := range sortedMapKeys(v.Map()) {
			entry := dynamicpb.NewMessage(fd.Message())
			entry.Set(fd.MapKey(), k.Value())
			entry.Set(fd.MapValue(), v.Map().Get(k))
			parts = append(parts, name+":{"+landedRow(entry, entryFields)+"}")
		}
	case arrow.ListLikeType:
		if !fd.IsList() {
			return nil, false
		}
		for j := range v.List().Len() {
			text, ok := landedValue(v.List().Get(j), fd, t.Elem())
			if !ok {
				return nil, false
			}
			parts = append(parts, name+":"+text)
		}
	default:
		if fd.IsList() || fd.IsMap() {
			return nil, false
		}
		text, ok := landedValue(v, fd, dt)
		if !ok {
			return nil, false
		}
		parts = append(parts, name+":"+text)
	}
	return parts, true
}

// landedValue is one value of field fd sent from Arrow type dt.
func landedValue(v protoreflect.Value, fd protoreflect.FieldDescriptor, dt arrow.DataType) (string, bool) {
	k := fd.Kind()
	switch t := dt.(type) {
	case *arrow.TimestampType:
		if k != protoreflect.Int64Kind {
			return "", false
		}
		at := time.UnixMicro(v.Int()).UTC()
		if t.TimeZone == "" {
			return at.Format("2006-01-02T15:04:05.999999"), true
		}
		return at.Format(time.RFC3339Nano), true
	case *arrow.Date32Type, *arrow.Date64Type:
		if k != protoreflect.Int32Kind {
			return "", false
		}
		return time.Unix(v.Int()*86400, 0).UTC().Format(time.DateOnly), true
	case *arrow.DictionaryType:
		return landedValue(v, fd, t.ValueType)
	case *arrow.StructType:
		if k != protoreflect.MessageKind {
			return "", false
		}
		return "{" + landedRow(v.Message(), t.Fields()) + "}", true
	}
	return "", false
}

// holdsTime reports whether values of dt are or hold a timestamp or date.
func holdsTime(dt arrow.DataType) bool {
	switch t := dt.(type) {
	case *arrow.TimestampType, *arrow.Date32Type, *arrow.Date64Type:
		return true
	case *arrow.DictionaryType:
		return holdsTime(t.ValueType)
	case *arrow.MapType:
		return holdsTime(t.KeyType()) || holdsTime(t.ItemType())
	case arrow.ListLikeType:
		return holdsTime(t.Elem())
	case *arrow.StructType:
		for _, f := range t.Fields() {
			if holdsTime(f.Type) {
				return true
			}
		}
	}
	return false
}

func landedFieldType(fields []arrow.Field, name string) arrow.DataType {
	for _, f := range fields {
		if f.Name == name {
			return f.Type
		}
	}
	return nil
}

// sortedMapKeys are m's keys in the order protobuf's text format prints
// them: false before true, numbers ascending, strings by bytes.
func sortedMapKeys(m protoreflect.Map) []protoreflect.MapKey {
	keys := make([]protoreflect.MapKey, 0, m.Len())
	m.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	sort.Slice(keys, func(i, j int) bool {
		switch a := keys[i].Interface().(type) {
		case bool:
			return !a && keys[j].Bool()
		case int32, int64:
			return keys[i].Int() < keys[j].Int()
		case uint32, uint64:
			return keys[i].Uint() < keys[j].Uint()
		default:
			return keys[i].String() < keys[j].String()
		}
	})
	return keys
}

// quarantineFile is one quarantine output file.
type quarantineFile struct {
	path   string // the name it gets (-quarantine, or its -2, -3... sibling)
	tmp    string // the file written, beside path; renamed to path by close
	rows   int64
	schema *arrow.Schema
	f      *os.File
	w      *ipc.Writer // created at the first write
}

// quarantine writes failed rows to Arrow IPC stream files: the -quarantine
// path for the first schema, and path-2.ext, path-3.ext... for batches of
// other schemas (one IPC stream holds one schema).
//
// Each is written to a temporary file in the same directory and renamed to
// its name by close, only when it holds rows: an existing file of that name
// is replaced then and left alone otherwise, and never truncated while the
// inputs are read. No quarantine name may be an input file.
type quarantine struct {
	mu      sync.Mutex // write, close and abort (HardStop) may race
	aborted bool       // by abort: nothing is written any more
	base    string
	inputs  []string // the input files, as given
	files   []*quarantineFile
}

// quarantineName is the name of the quarantine file for the n-th schema
// (1-based): path itself, then path-2.ext, path-3.ext...
func quarantineName(path string, n int) string {
	if n <= 1 {
		return path
	}
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), n, ext)
}

// sameAsInput returns the input that name is (the same file, by
// os.SameFile, however spelled), or "".
func sameAsInput(name string, inputs []string) string {
	st, err := os.Stat(name)
	if err != nil {
		return ""
	}
	for _, in := range inputs {
		if ist, err := os.Stat(in); err == nil && os.SameFile(st, ist) {
			return in
		}
	}
	return ""
}

// openQuarantine checks path and creates the temporary file of its first
// quarantine file now, so a bad path fails before anything is sent.
// inputs are the files to send: path, and the names of the files for more
// schemas (at most one schema per input), may not be one of them.
func openQuarantine(path string, inputs []string) (*quarantine, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, usageErrorf("send", "-quarantine %s is a directory; give a file name", path)
	}
	for n := 1; n <= max(1, len(inputs)); n++ {
		name := quarantineName(path, n)
		in := sameAsInput(name, inputs)
		switch {
		case in == "":
		case n == 1:
			return nil, usageErrorf("send", "-quarantine %s is the input file %s; give another path for the failed rows", path, in)
		default:
			return nil, usageErrorf("send", "-quarantine %s: %s, where the failed rows of a second schema would go, is the input file %s; give another path",
				path, name, in)
		}
	}
	q := &quarantine{base: path, inputs: inputs}
	if _, err := q.add(); err != nil {
		return nil, usageErrorf("send", "-quarantine %w", err)
	}
	return q, nil
}

// abort closes and removes the temporary files (HardStop: the process
// quits); later writes and close do nothing.
func (q *quarantine) abort() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.aborted {
		return
	}
	q.aborted = true
	for _, qf := range q.files {
		_ = qf.f.Close() // before the removal: Windows removes no open file
		_ = os.Remove(qf.tmp)
	}
}

// add creates the temporary file of the next quarantine file.
func (q *quarantine) add() (*quarantineFile, error) {
	name := quarantineName(q.base, len(q.files)+1)
	if in := sameAsInput(name, q.inputs); in != "" {
		return nil, fmt.Errorf("%s is the input file %s", name, in)
	}
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".*.tmp")
	if err != nil { // named by the directory: the temporary file is ours
		var pe *os.PathError
		switch st, serr := os.Stat(dir); {
		case errors.Is(serr, os.ErrNotExist):
			return nil, fmt.Errorf("%s: the directory %s does not exist", name, dir)
		case serr == nil && !st.IsDir():
			return nil, fmt.Errorf("%s: %s is not a directory", name, dir)
		case errors.As(err, &pe):
			return nil, fmt.Errorf("%s: cannot create a file in the directory %s: %w", name, dir, pe.Err)
		}
		return nil, err
	}
	qf := &quarantineFile{path: name, tmp: f.Name(), f: f}
	q.files = append(q.files, qf)
	return qf, nil
}

func (q *quarantine) write(rec arrow.RecordBatch) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.aborted {
		return nil
	}
	var qf *quarantineFile
	for _, c := range q.files {
		if c.schema == nil || c.schema.Equal(rec.Schema()) {
			qf = c
			break
		}
	}
	if qf == nil {
		var err error
		if qf, err = q.add(); err != nil {
			return fmt.Errorf("-quarantine: a batch with another schema needs another file: %w", err)
		}
	}
	if qf.w == nil {
		qf.schema = rec.Schema()
		qf.w = ipc.NewWriter(qf.f, ipc.WithSchema(rec.Schema()))
	}
	if err := qf.w.Write(rec); err != nil {
		return fmt.Errorf("-quarantine: writing %s: %w", qf.path, err)
	}
	qf.rows += rec.NumRows()
	return nil
}

// close finishes every file and renames those holding rows to their names
// (returning them); the temporary files without rows are removed.
func (q *quarantine) close() ([]quarantineFile, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.aborted {
		return nil, nil
	}
	var out []quarantineFile
	var errs []error
	for _, qf := range q.files {
		if qf.w != nil {
			if err := qf.w.Close(); err != nil {
				errs = append(errs, fmt.Errorf("-quarantine: finishing %s: %w", qf.path, err))
			}
		}
		if err := qf.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("-quarantine: closing %s: %w", qf.path, err))
		}
		if qf.rows == 0 {
			_ = os.Remove(qf.tmp) // ours: created by this run
			continue
		}
		path := qf.path
		if err := os.Rename(qf.tmp, qf.path); err != nil {
			errs = append(errs, fmt.Errorf("-quarantine: the failed rows are in %s: %w", qf.tmp, err))
			path = qf.tmp
		}
		out = append(out, quarantineFile{path: path, rows: qf.rows})
	}
	return out, errors.Join(errs...)
}

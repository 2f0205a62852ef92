package cli

// `zerobus table`: print a table's columns as Unity Catalog describes them,
// with the Arrow type each is sent as (core.Wrapper.TableSchema).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

func init() {
	register(command{name: "table", summary: "print a table's columns: Unity Catalog and Arrow types, nullability", run: runTable})
}

const tableUsage = `usage: zerobus table [flags] [TABLE]

Prints the columns of table TABLE (catalog.schema.table; default: -table or
the configured table_name) as Unity Catalog describes them: each column's
name, Unity Catalog type, the Arrow type batches for the table should give
it (the mapping both transports send with; a DECIMAL(p,s) column is the
decimal's text, large_utf8, or a decimal128(p,s)) and whether it is
nullable. Nothing is sent and no stream is opened.

Connection settings are read as by zerobus send: -config FILE (YAML keys as
in the README's "Configuration") or, without -config, the environment
(ZEROBUS_ENDPOINT, ZEROBUS_TABLE_NAME, UNITY_CATALOG_URL or
DATABRICKS_HOST, ZEROBUS_CLIENT_ID, ZEROBUS_CLIENT_SECRET, ...); the flags
below override both. Prefer the environment or the config file for the
secret.

Output: one line per column on stdout, or with -json one JSON object:
{"table": ..., "columns": [{"name", "type", "arrow_type", "nullable"}, ...]}
("type" is the Unity Catalog type, e.g. "DECIMAL(10,2)", "ARRAY<STRING>").

Exit status: 0 the columns were printed; 1 they could not be read (no such
table, the catalog refused or unreachable, credentials refused); 2 bad
flags, arguments or configuration (also zerobus_writer_disabled, with which
nothing is contacted).

flags:
`

// tableFlags are the parsed flags of `zerobus table`: the connection
// settings of send's (sendConfig reads them), -json.
type tableFlags struct {
	conn   sendFlags
	asJSON bool
}

func parseTableFlags(args []string, stdout io.Writer) (*tableFlags, error) {
	f := &tableFlags{conn: sendFlags{set: map[string]bool{}, connOnly: true}}
	c := &f.conn
	fs := newFlagSet("table", tableUsage)
	defineConnFlags(fs, c, "the table, catalog.schema.table (the argument TABLE sets it too)")
	fs.BoolVar(&f.asJSON, "json", false, "print the columns as one JSON object on stdout")
	pos, err := fs.parse(args, stdout)
	if err != nil {
		return nil, err
	}
	fs.Visit(func(fl *flag.Flag) { c.set[fl.Name] = true })
	c.verbose = *fs.verbose
	switch {
	case len(pos) > 1:
		return nil, usageErrorf("table", "one table at a time: got %d arguments (%s)", len(pos), strings.Join(pos, " "))
	case len(pos) == 1 && c.set["table"] && pos[0] != c.table:
		return nil, usageErrorf("table", "-table %s and the argument %s: give one", c.table, pos[0])
	case len(pos) == 1:
		c.table = pos[0]
		c.set["table"] = true
	}
	return f, nil
}

func runTable(ctx context.Context, args []string, env Env) error {
	f, err := parseTableFlags(args, env.Stdout)
	if err != nil {
		return err
	}
	cfg, err := sendConfig(&f.conn, env.LookupEnv)
	if err != nil {
		return configError(err, &f.conn, env.LookupEnv)
	}
	if f.conn.dryRun {
		return &setupError{fmt.Errorf("zerobus_writer_disabled is true (%s): the wrapper then contacts nothing, so the "+
			"table's columns cannot be read from Unity Catalog; unset it", f.conn.writerOffBy)}
	}
	// Reading the columns writes no debug file and exports no telemetry.
	cfg.DebugEnabled, cfg.DebugArrowEnabled, cfg.DebugProtobufEnabled, cfg.DebugKindsExplicit = false, false, false, false
	cfg.ObservabilityEnabled, cfg.LogFile = false, ""
	if f.conn.verbose {
		cfg.LogLevel = "debug" // as -v logs, so the logged config says so
	}
	w, err := core.New(ctx, cfg, core.WithLogger(slog.New(stderrLogHandler(env.Stderr, f.conn.verbose))))
	if err != nil {
		return configError(err, &f.conn, env.LookupEnv)
	}
	defer w.Close(context.WithoutCancel(ctx))
	s, err := w.TableSchema(ctx)
	if err != nil {
		return err
	}
	if f.asJSON {
		return printTableJSON(env.Stdout, cfg.TableName, s)
	}
	return printTableText(env.Stdout, cfg.TableName, s)
}

// tableColumn is one column as `zerobus table -json` prints it.
type tableColumn struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	ArrowType string `json:"arrow_type"`
	Nullable  bool   `json:"nullable"`
}

func tableColumns(s *arrow.Schema) []tableColumn {
	cols := make([]tableColumn, s.NumFields())
	for i, f := range s.Fields() {
		cols[i] = tableColumn{Name: f.Name, Type: core.TableTypeName(f), ArrowType: f.Type.String(), Nullable: f.Nullable}
	}
	return cols
}

func printTableJSON(w io.Writer, table string, s *arrow.Schema) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Table   string        `json:"table"`
		Columns []tableColumn `json:"columns"`
	}{table, tableColumns(s)})
}

func printTableText(w io.Writer, table string, s *arrow.Schema) error {
	fmt.Fprintf(w, "table %s: %d %s\n", table, s.NumFields(), pick(s.NumFields(), "column", "columns"))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tTYPE\tARROW TYPE\tNULLABLE")
	for _, c := range tableColumns(s) {
		null := "yes"
		if !c.Nullable {
			null = "no"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Name, c.Type, c.ArrowType, null)
	}
	return tw.Flush()
}

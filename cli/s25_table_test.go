package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// tableRun runs `zerobus args...` in-process with env as the environment
// and returns the exit status, stdout and stderr.
func tableRun(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := RunEnv(t.Context(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	return code, out.String(), errOut.String()
}

// connEnv are the environment variables that point the command line at s.
func connEnv(s *zerobuslocal.Server) map[string]string {
	return map[string]string{"ZEROBUS_ENDPOINT": s.Endpoint(), "UNITY_CATALOG_URL": s.WorkspaceURL(),
		"ZEROBUS_CLIENT_ID": s.ClientID(), "ZEROBUS_CLIENT_SECRET": s.ClientSecret()}
}

const tableTypesDDL = "id BIGINT NOT NULL, name STRING, price DECIMAL(10,2) NOT NULL, at TIMESTAMP, " +
	"ntz TIMESTAMP_NTZ, day DATE, ok BOOLEAN, i INT, small SMALLINT, tiny TINYINT, f FLOAT, d DOUBLE, " +
	"raw BINARY, tags ARRAY<STRING>, attrs MAP<STRING,BIGINT>, loc STRUCT<lat:DOUBLE NOT NULL,lon:DOUBLE>, v VARIANT"

// tableTypesWant are the columns of tableTypesDDL as `zerobus table -json`
// prints them: the Unity Catalog type, TableSchema's Arrow type,
// nullability.
var tableTypesWant = []tableColumn{
	{"id", "BIGINT", "int64", false},
	{"name", "STRING", "large_utf8", true},
	{"price", "DECIMAL(10,2)", "large_utf8", false},
	{"at", "TIMESTAMP", "timestamp[us, tz=UTC]", true},
	{"ntz", "TIMESTAMP_NTZ", "timestamp[us]", true},
	{"day", "DATE", "date32", true},
	{"ok", "BOOLEAN", "bool", true},
	{"i", "INT", "int32", true},
	{"small", "SMALLINT", "int16", true},
	{"tiny", "TINYINT", "int8", true},
	{"f", "FLOAT", "float32", true},
	{"d", "DOUBLE", "float64", true},
	{"raw", "BINARY", "large_binary", true},
	{"tags", "ARRAY<STRING>", "list<element: large_utf8, nullable>", true},
	{"attrs", "MAP<STRING, BIGINT>", "map<large_utf8, int64, items_nullable>", true},
	{"loc", "STRUCT<lat: DOUBLE NOT NULL, lon: DOUBLE>", "struct<lat: float64, lon: float64>", true},
	{"v", "VARIANT", "struct<metadata: large_binary, value: large_binary>", true},
}

// `zerobus table` prints a table's columns, configured as zerobus send is
// (the environment, a -config file, flags), the table as the argument, by
// -table or by the configuration: with -json exactly the Unity Catalog
// types, Arrow types and nullability of every column, in the table's
// order; as text one aligned line per column.
func TestTableColumns(t *testing.T) {
	s := startServer(t)
	const table = "main.default.cli_table_types"
	csvTable(t, s, table, tableTypesDDL)
	env := connEnv(s)

	yaml := filepath.Join(t.TempDir(), "zerobus.yaml")
	if err := os.WriteFile(yaml, []byte("endpoint: "+s.Endpoint()+"\nunity_catalog_url: "+s.WorkspaceURL()+
		"\nclient_id: "+s.ClientID()+"\nclient_secret: ${SECRET}\ntable_name: "+table+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	envTable := map[string]string{"ZEROBUS_TABLE_NAME": table}
	for k, v := range env {
		envTable[k] = v
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"argument", env, []string{"table", "-json", table}},
		{"-table", env, []string{"table", "-json", "-table", table}},
		{"environment", envTable, []string{"table", "-json"}},
		{"-config", map[string]string{"SECRET": s.ClientSecret()}, []string{"table", "-json", "-config", yaml}},
		{"flags", nil, append([]string{"table", "-json"}, connFlags(s, table)...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := tableRun(t, tc.env, tc.args...)
			if code != ExitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			var got struct {
				Table   string        `json:"table"`
				Columns []tableColumn `json:"columns"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("stdout %q: %v", out, err)
			}
			if got.Table != table || !slices.Equal(got.Columns, tableTypesWant) {
				t.Errorf("got %s %+v\nwant %s %+v", got.Table, got.Columns, table, tableTypesWant)
			}
		})
	}

	code, out, errOut := tableRun(t, env, "table", table)
	if code != ExitOK {
		t.Fatalf("text: exit %d, stderr %q", code, errOut)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2+len(tableTypesWant) || lines[0] != "table "+table+": 17 columns" {
		t.Fatalf("text output:\n%s", out)
	}
	col := strings.Index(lines[1], "TYPE")
	for i, c := range tableTypesWant {
		null := map[bool]string{true: "yes", false: "no"}[c.Nullable]
		line := lines[2+i]
		if f := strings.Fields(line); f[0] != c.Name || !strings.HasPrefix(line[col:], c.Type+" ") || !strings.HasSuffix(line, " "+null) ||
			!strings.Contains(line, "  "+c.ArrowType+"  ") {
			t.Errorf("line %q, want %s %s %s %s aligned under the header %q", line, c.Name, c.Type, c.ArrowType, null, lines[1])
		}
	}
}

// The errors of `zerobus table`: a table Unity Catalog does not know (exit
// 1, naming it), a wrong secret (exit 1, the secret not printed),
// zerobus_writer_disabled (exit 2: nothing would be contacted), a missing
// connection setting (exit 2 naming its flag), two tables.
func TestTableErrors(t *testing.T) {
	s := startServer(t)
	env := connEnv(s)
	const missing = "main.default.cli_no_such_table"
	code, out, errOut := tableRun(t, env, "table", missing)
	if code != ExitFailed || out != "" || errOut != "zerobus table: the columns of table "+missing+" cannot be read from Unity Catalog: no such table (HTTP 404): check table_name, or create the table\n" {
		t.Errorf("missing table: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	const secret = "wrong-secret-7c1d9e"
	bad := map[string]string{}
	for k, v := range env {
		bad[k] = v
	}
	bad["ZEROBUS_CLIENT_SECRET"] = secret
	code, out, errOut = tableRun(t, bad, "table", missing)
	if code != ExitFailed || out != "" || strings.Contains(errOut, secret) || !strings.Contains(errOut, "client_secret") {
		t.Errorf("wrong secret: exit %d, stdout %q, stderr %q; want exit 1 naming client_secret, not the secret", code, out, errOut)
	}

	off := map[string]string{"ZEROBUS_WRITER_DISABLED": "true"}
	for k, v := range env {
		off[k] = v
	}
	code, _, errOut = tableRun(t, off, "table", missing)
	if code != ExitUsage || !strings.Contains(errOut, "zerobus_writer_disabled is true (env ZEROBUS_WRITER_DISABLED)") {
		t.Errorf("writer disabled: exit %d, stderr %q", code, errOut)
	}

	noURL := map[string]string{}
	for k, v := range env {
		noURL[k] = v
	}
	delete(noURL, "ZEROBUS_ENDPOINT")
	code, _, errOut = tableRun(t, noURL, "table", missing)
	if code != ExitUsage || !strings.Contains(errOut, "flag -endpoint or env ZEROBUS_ENDPOINT") ||
		!strings.HasSuffix(errOut, "\nset the connection with -endpoint, -workspace-url, -client-id, -client-secret and -table, "+
			"the ZEROBUS_* environment variables or -config FILE\n") { // no -local or -dry-run to try: table has neither
		t.Errorf("no endpoint: exit %d, stderr %q", code, errOut)
	}

	code, _, errOut = tableRun(t, env, "table", "a.b.c", "d.e.f")
	if code != ExitUsage || !strings.Contains(errOut, "one table at a time") {
		t.Errorf("two tables: exit %d, stderr %q", code, errOut)
	}
}

// `zerobus help` lists the command; `zerobus table -h` prints its usage
// with its flags.
func TestTableHelp(t *testing.T) {
	code, out, _ := tableRun(t, nil, "help")
	if code != ExitOK || !strings.Contains(out, "\n  table    print a table's columns") {
		t.Errorf("zerobus help: exit %d:\n%s", code, out)
	}
	code, out, _ = tableRun(t, nil, "table", "-h")
	if code != ExitOK || !strings.HasPrefix(out, "usage: zerobus table [flags] [TABLE]") || !strings.Contains(out, "-json") ||
		!strings.Contains(out, "-config") {
		t.Errorf("zerobus table -h: exit %d:\n%s", code, out)
	}
}

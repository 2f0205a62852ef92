package core_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// s18Lines decodes the JSON lines of path (an OTLP JSON file or a log).
func s18Lines(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s: %v: %s", path, err, line)
		}
		out = append(out, m)
	}
	return out
}

// s18Get walks m along keys (map keys or, for lists, the first element).
func s18Get(v any, keys ...string) any {
	for _, k := range keys {
		if l, ok := v.([]any); ok {
			if len(l) == 0 {
				return nil
			}
			v = l[0]
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// s18Attrs maps an OTLP JSON attribute list to key → value text.
func s18Attrs(list any) map[string]string {
	out := map[string]string{}
	l, _ := list.([]any)
	for _, a := range l {
		m, _ := a.(map[string]any)
		k, _ := m["key"].(string)
		v, _ := m["value"].(map[string]any)
		for _, val := range v {
			if str, ok := val.(string); ok {
				out[k] = str // stringValue; intValue is a string in OTLP JSON too
				continue
			}
			b, _ := json.Marshal(val)
			out[k] = string(b)
		}
	}
	return out
}

// s18Resources returns the resource attributes of every export line of a
// metrics.jsonl.
func s18Resources(t *testing.T, path string) []map[string]string {
	var out []map[string]string
	for _, line := range s18Lines(t, path) {
		for _, rm := range line["resourceMetrics"].([]any) {
			out = append(out, s18Attrs(s18Get(rm, "resource", "attributes")))
		}
	}
	return out
}

func s18Server(t *testing.T, table, ddl string) (core.Config, *zerobuslocal.Server) {
	t.Helper()
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if ddl != "" {
		cols, err := zerobuslocal.ParseColumns(ddl)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.CreateTableColumns(table, cols); err != nil {
			t.Fatal(err)
		}
	}
	cfg := core.DefaultConfig()
	cfg.Endpoint, cfg.UnityCatalogURL = srv.Endpoint(), srv.WorkspaceURL()
	cfg.ClientID, cfg.ClientSecret = srv.ClientID(), srv.ClientSecret()
	cfg.TableName = table
	cfg.RetryBaseDelay, cfg.RetryMaxDelay = time.Millisecond, 5*time.Millisecond
	return cfg, srv
}

func s18IDBatch(ids ...int64) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues(ids, nil)
	return b.NewRecordBatch()
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestS18TwoWrappersHaveTheirOwnInstance: two Wrappers of one process, each
// setting its telemetry up from its Config (observability_enabled), export
// rows.sent with distinct service.instance.id values, so a backend keeps
// two cumulative series (100 and 7 rows) instead of one flipping between
// them; the resource also names the host, the process and the library's
// version, and so does the instrumentation scope.
func TestS18TwoWrappersHaveTheirOwnInstance(t *testing.T) {
	cfg, srv := s18Server(t, "main.default.s18_two", "")
	ctx := context.Background()
	var dirs []string
	for i, n := range []int{100, 7} {
		dir := t.TempDir()
		dirs = append(dirs, dir)
		c := cfg
		c.ObservabilityEnabled, c.ObservabilityOutputDir, c.ObservabilityInterval = true, dir, time.Hour
		w, err := core.New(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int64, n)
		for j := range ids {
			ids[j] = int64(i*1000 + j)
		}
		rec := s18IDBatch(ids...)
		res, err := w.SendBatch(ctx, rec)
		rec.Release()
		if err != nil || res.SuccessfulCount != n {
			t.Fatalf("send %d rows: %v (%d ok)", n, err, res.SuccessfulCount)
		}
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := srv.RecordCount("main.default.s18_two"); got != 107 {
		t.Fatalf("server stored %d rows, want 107", got)
	}
	var ids []string
	for _, dir := range dirs {
		res := s18Resources(t, filepath.Join(dir, "metrics.jsonl"))
		if len(res) == 0 {
			t.Fatalf("%s: no export", dir)
		}
		r := res[len(res)-1]
		id := r["service.instance.id"]
		if !uuidRE.MatchString(id) {
			t.Errorf("service.instance.id = %q, want a random UUID", id)
		}
		for _, k := range []string{"host.name", "process.pid", "process.runtime.name", "service.name"} {
			if r[k] == "" {
				t.Errorf("resource lacks %s: %v", k, r)
			}
		}
		if r["process.pid"] != strconv.Itoa(os.Getpid()) {
			t.Errorf("process.pid = %q, want %d", r["process.pid"], os.Getpid())
		}
		if r["service.version"] != core.Version {
			t.Errorf("service.version = %q, want %q", r["service.version"], core.Version)
		}
		lines := s18Lines(t, filepath.Join(dir, "metrics.jsonl"))
		if got := s18Get(lines[len(lines)-1], "resourceMetrics", "scopeMetrics", "scope", "version"); got != core.Version {
			t.Errorf("scope version = %v, want %q", got, core.Version)
		}
		ids = append(ids, id)
	}
	if ids[0] == ids[1] {
		t.Errorf("both wrappers exported service.instance.id %q", ids[0])
	}
}

// TestS18InstanceIDFromEnvironmentWins: a service.instance.id set in
// OTEL_RESOURCE_ATTRIBUTES is kept, not replaced by the random one.
func TestS18InstanceIDFromEnvironmentWins(t *testing.T) {
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "service.instance.id=worker-7,deployment.environment=test")
	dir := t.TempDir()
	cfg := core.DefaultConfig()
	cfg.TableName, cfg.WriterDisabled = "main.default.s18_env", true
	cfg.ObservabilityEnabled, cfg.ObservabilityOutputDir, cfg.ObservabilityInterval = true, dir, time.Hour
	tel, err := core.SetupTelemetry(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	w, err := core.New(context.Background(), cfg, core.WithTelemetry(tel))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	res := s18Resources(t, filepath.Join(dir, "metrics.jsonl"))
	if len(res) == 0 {
		t.Fatal("no metrics exported")
	}
	if r := res[len(res)-1]; r["service.instance.id"] != "worker-7" || r["deployment.environment"] != "test" {
		t.Errorf("resource %v, want service.instance.id=worker-7 from the environment", r)
	}
}

package pybind

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64), Nullable: true},
}, nil)

// testBatch builds n rows with ids start..start+n-1.
func testBatch(mem memory.Allocator, start, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, testSchema)
	defer b.Release()
	for i := start; i < start+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%5 == 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("name-%d", i))
		}
		lb := b.Field(2).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.Float64Builder).AppendValues([]float64{float64(i), 0.5}, nil)
	}
	return b.NewRecordBatch()
}

func TestParseConfig(t *testing.T) {
	cfg, err := parseConfig(`{"table_name": "a.b.c", "client_secret": "x${NOPE}y", "retry_base_delay_ms": 250, "debug_enabled": true}`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TableName != "a.b.c" || cfg.ClientSecret != "x${NOPE}y" || cfg.RetryBaseDelay.Milliseconds() != 250 || !cfg.DebugEnabled {
		t.Errorf("parseConfig = %v (secret literal %v)", cfg, cfg.ClientSecret == "x${NOPE}y")
	}
	if cfg.RetryMaxAttempts != core.DefaultRetryMaxAttempts {
		t.Errorf("RetryMaxAttempts = %d, want the default %d", cfg.RetryMaxAttempts, core.DefaultRetryMaxAttempts)
	}
	_, err = parseConfig(`{"tabel_name": "a.b.c"}`)
	if err == nil || !strings.Contains(err.Error(), "tabel_name") {
		t.Errorf("unknown key error = %v, want it named", err)
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	want := core.DefaultConfig()
	want.Endpoint, want.TableName, want.ClientSecret = "http://127.0.0.1:1", "a.b.c", "s"
	want.DebugRotationInterval = 0
	want.DebugArrowCompression = "zstd"
	want.ProxyURL = "http://user:proxy-pw@127.0.0.1:3128"
	text, err := toJSON(core.SettingsOf(want))
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseConfig(text)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), got.String()); diff != "" {
		t.Errorf("config changed through JSON (-want +got):\n%s", diff)
	}
	if got.ClientSecret != "s" {
		t.Errorf("secret lost through JSON")
	}
	if got.ProxyURL != want.ProxyURL {
		t.Errorf("ProxyURL through JSON: got %q, want %q", got.ProxyURL, want.ProxyURL)
	}
}

func TestErrorsCarryDetails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		kind    core.ErrorKind
		message string
		check   func(d core.ErrorDetails) bool
	}{
		{"configuration", ValidateConfig(`{"table_name": "bad", "retry_base_delay_ms": -5}`), core.KindConfiguration, "zerobus: invalid configuration",
			func(d core.ErrorDetails) bool {
				return d.Fatal && strings.Join(d.Keys, ",") == "endpoint,retry_base_delay_ms" && strings.Contains(d.Message, "is -5;")
			}},
		{"not json", ValidateConfig(`[1]`), core.KindConfiguration, "zerobus: ", nil},
		{"retry exhausted with cause", wrapErr(&core.RetryExhaustedError{Attempts: 2, Last: &core.ConnectionError{}}), core.KindRetryExhausted, "zerobus: gave up after 2 attempts",
			func(d core.ErrorDetails) bool {
				return d.Attempts == 2 && len(d.Causes) == 1 && d.Causes[0].Kind == core.KindConnection && d.Retryable
			}},
		{"explicit kind", errorOf(core.KindConversion, "zerobus: bad %s", "stream"), core.KindConversion, "zerobus: bad stream",
			func(d core.ErrorDetails) bool { return !d.Fatal && d.Row == -1 }},
		{"unknown", wrapErr(fmt.Errorf("plain")), core.KindUnknown, "plain", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil {
				t.Fatal("no error")
			}
			var d core.ErrorDetails
			if err := json.Unmarshal([]byte(tc.err.Error()), &d); err != nil {
				t.Fatalf("the message is not JSON details: %v: %s", err, tc.err)
			}
			if d.Kind != tc.kind || !strings.HasPrefix(d.Message, tc.message) || (tc.check != nil && !tc.check(d)) {
				t.Errorf("details = %+v, want kind %s, message %q...", d, tc.kind, tc.message)
			}
		})
	}
}

func startLocal(t *testing.T) *LocalServer {
	t.Helper()
	s, err := StartLocalServer(`{}`)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func localConfig(s *LocalServer, table string) string {
	b, _ := json.Marshal(map[string]any{
		"endpoint": s.Endpoint(), "table_name": table, "unity_catalog_url": s.WorkspaceURL(),
		"client_id": s.ClientID(), "client_secret": s.ClientSecret(),
	})
	return string(b)
}

// TestEnvIsDataNotProcessEnv checks that ConfigFromEnv and LoadConfigYAML
// read the environment given as JSON and leave the process environment alone.
func TestEnvIsDataNotProcessEnv(t *testing.T) {
	t.Setenv("ZEROBUS_TABLE_NAME", "from.process.env")
	text, err := ConfigFromEnv(`{"ZEROBUS_TABLE_NAME": "from.json.env", "RETRY_MAX_ATTEMPTS": "9"}`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"retry_max_attempts":9,"table_name":"from.json.env"}`; text != want { // only the keys set
		t.Errorf("ConfigFromEnv = %s, want %s", text, want)
	}
	if _, set := os.LookupEnv("RETRY_MAX_ATTEMPTS"); set || os.Getenv("ZEROBUS_TABLE_NAME") != "from.process.env" {
		t.Error("the process environment changed")
	}
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("table_name: ${TBL}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text, err = LoadConfigYAML(path, `{"TBL": "a.b.c"}`)
	if want := `{"table_name":"a.b.c"}`; err != nil || text != want { // only the keys set
		t.Errorf("LoadConfigYAML = %s, %v; want %s", text, err, want)
	}
	if _, set := os.LookupEnv("TBL"); set {
		t.Error("TBL leaked into the process environment")
	}
	if _, err := LoadConfigYAML(path, `{}`); err == nil || !strings.Contains(err.Error(), "${TBL}") {
		t.Errorf("unset variable: %v", err)
	}
	tab, err := SettingsTable()
	if err != nil || !strings.Contains(tab, `"key":"client_secret"`) || !strings.Contains(tab, `"secret":true`) {
		t.Errorf("SettingsTable = %.200s, %v", tab, err)
	}
	kinds, err := ErrorKinds()
	if err != nil || !strings.Contains(kinds, `{"kind":"canceled","retryable":false,"fatal":true}`) {
		t.Errorf("ErrorKinds = %s, %v", kinds, err)
	}
}

// TestLocalOptionsAreServerOptions: the options JSON is zerobuslocal.Options'
// own form (no key table here); unknown keys and bad fault codes are errors
// naming them.
func TestLocalOptionsAreServerOptions(t *testing.T) {
	s, err := StartLocalServer(`{"client_id": "me", "tls": true, "allowed_hosts": ["box"]}`)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.ClientID() != "me" || !strings.HasPrefix(s.Endpoint(), "https://") || s.CACertPEM() == "" {
		t.Errorf("options not applied: %s %s", s.ClientID(), s.Endpoint())
	}
	if _, err := StartLocalServer(`{"stream_lifetime_ms": 5}`); err == nil || !strings.Contains(err.Error(), `unknown field \"stream_lifetime_ms\"`) {
		t.Errorf("unknown key: %v", err)
	}
	if err := s.InjectFault("", `{"kind": "error", "code": "NOPE"}`); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("bad code: %v", err)
	}
	if err := s.InjectFault("", `{"kind": "partial_ack", "records": 2, "close_after_ns": 1000000}`); err != nil {
		t.Errorf("partial_ack: %v", err)
	}
}

package tests_go

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

const testSecret = "s3cr3t-VALUE-do-not-print"

func validConfig() core.Config {
	cfg := core.DefaultConfig()
	cfg.Endpoint = "https://1234.zerobus.us-west-2.cloud.databricks.com"
	cfg.TableName = "main.default.events"
	cfg.UnityCatalogURL = "https://dbc-1234.cloud.databricks.com"
	cfg.ClientID = "client-id"
	cfg.ClientSecret = testSecret
	return cfg
}

func TestDefaultConfig(t *testing.T) {
	cfg := core.DefaultConfig()
	want := map[string]any{
		"RetryMaxAttempts":      5,
		"RetryBaseDelay":        100 * time.Millisecond,
		"RetryMaxDelay":         30 * time.Second,
		"MaxInflightRequests":   1000,
		"MaxMessageBytes":       10<<20 - 64<<10,
		"MaxRecordBytes":        4<<20 - 19,
		"DebugFlushInterval":    5 * time.Second,
		"DebugMaxFilesRetained": 10,
		"OTLPProtocol":          "grpc",
		"WriterDisabled":        false,
	}
	got := map[string]any{
		"RetryMaxAttempts":      cfg.RetryMaxAttempts,
		"RetryBaseDelay":        cfg.RetryBaseDelay,
		"RetryMaxDelay":         cfg.RetryMaxDelay,
		"MaxInflightRequests":   cfg.MaxInflightRequests,
		"MaxMessageBytes":       cfg.MaxMessageBytes,
		"MaxRecordBytes":        cfg.MaxRecordBytes,
		"DebugFlushInterval":    cfg.DebugFlushInterval,
		"DebugMaxFilesRetained": cfg.DebugMaxFilesRetained,
		"OTLPProtocol":          cfg.OTLPProtocol,
		"WriterDisabled":        cfg.WriterDisabled,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("DefaultConfig mismatch (-want +got):\n%s", d)
	}
	if err := validConfig().Validate(); err != nil {
		t.Errorf("valid config: Validate() = %v, want nil", err)
	}
}

func TestParseConfigYAML(t *testing.T) {
	t.Setenv("ZB_TEST_SECRET", testSecret)
	data := []byte(`
endpoint: http://127.0.0.1:5000
table_name: main.default.events
unity_catalog_url: http://127.0.0.1:5001
client_id: my-client
client_secret: ${ZB_TEST_SECRET}
proxy_url: http://proxy-user:${ZB_TEST_SECRET}@127.0.0.1:3128
retry_max_attempts: 7
retry_base_delay_ms: 250
retry_max_delay_ms: 5000
max_inflight_bytes: 32MiB
debug_enabled: true
debug_arrow_enabled: yes
debug_protobuf_enabled: false
debug_output_dir: /tmp/zb-debug
debug_flush_interval_secs: 2
debug_max_file_size: 1048576
debug_max_files_retained: -1
debug_arrow_compression: zstd
observability_enabled: true
otlp_endpoint: http://127.0.0.1:4317
zerobus_writer_disabled: false
streams_per_schema: ~
`)
	got, err := core.ParseConfigYAML(data)
	if err != nil {
		t.Fatalf("ParseConfigYAML: %v", err)
	}
	want := core.DefaultConfig()
	want.Endpoint = "http://127.0.0.1:5000"
	want.TableName = "main.default.events"
	want.UnityCatalogURL = "http://127.0.0.1:5001"
	want.ClientID = "my-client"
	want.ClientSecret = testSecret
	want.ProxyURL = "http://proxy-user:" + testSecret + "@127.0.0.1:3128"
	want.RetryMaxAttempts = 7
	want.RetryBaseDelay = 250 * time.Millisecond
	want.RetryMaxDelay = 5 * time.Second
	want.MaxInflightBytes = 32 << 20
	want.DebugEnabled = true
	want.DebugArrowEnabled, want.DebugKindsExplicit = true, true // the key given: the per-kind switches decide
	want.DebugOutputDir = "/tmp/zb-debug"
	want.DebugFlushInterval = 2 * time.Second
	want.DebugMaxFileSize = 1 << 20
	want.DebugMaxFilesRetained = -1
	want.DebugArrowCompression = "zstd"
	want.ObservabilityEnabled = true
	want.OTLPEndpoint = "http://127.0.0.1:4317"
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("config mismatch (-want +got):\n%s", d)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate() = %v", err)
	}
}

func TestLoadConfigYAMLErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		yaml     string
		wantKind core.ErrorKind
		want     []string // substrings of the error
	}{
		{
			name: "unknown key names key, line and file",
			yaml: "endpoint: http://127.0.0.1:1\ntable_nme: a.b.c\n",
			want: []string{"table_nme", "line 2", "unknown key", `did you mean "table_name"`, "bad.yaml"},
		},
		{
			name: "bad values all reported",
			yaml: "retry_max_attempts: many\ndebug_enabled: maybe\nretry_base_delay_ms: soon\n",
			want: []string{"3 problems", "retry_max_attempts", `"many" is not an integer`, "debug_enabled", "not a boolean", "retry_base_delay_ms", "milliseconds"},
		},
		{
			name: "unset env reference",
			yaml: "client_secret: ${ZB_SURELY_NOT_SET_VAR}\n",
			want: []string{"client_secret", "ZB_SURELY_NOT_SET_VAR", "not set"},
		},
		{
			name: "not a mapping",
			yaml: "- a\n- b\n",
			want: []string{"mapping"},
		},
		{
			name: "syntax error",
			yaml: "endpoint: [\n",
			want: []string{"not valid YAML"},
		},
		{
			name: "nested value",
			yaml: "endpoint:\n  host: x\n",
			want: []string{"endpoint", "single value"},
		},
		{
			name: "duplicate key",
			yaml: "endpoint: a\nendpoint: b\n",
			want: []string{"duplicate key"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := core.LoadConfigYAML(path)
			if err == nil {
				t.Fatal("LoadConfigYAML: got nil error, want one")
			}
			var ce *core.ConfigurationError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not *core.ConfigurationError", err)
			}
			if got := core.KindOf(err); got != core.KindConfiguration {
				t.Errorf("KindOf = %q, want %q", got, core.KindConfiguration)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := core.LoadConfigYAML(filepath.Join(dir, "nope.yaml"))
		if err == nil || !strings.Contains(err.Error(), "nope.yaml") || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want a not-exist error naming nope.yaml", err)
		}
	})
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"ZEROBUS_ENDPOINT":          "http://127.0.0.1:7000",
		"ZEROBUS_TABLE_NAME":        "cat.sch.tbl",
		"DATABRICKS_HOST":           "http://127.0.0.1:7001", // fallback for UNITY_CATALOG_URL
		"ZEROBUS_CLIENT_ID":         "primary-id",
		"DATABRICKS_CLIENT_ID":      "fallback-id", // ignored: primary set
		"DATABRICKS_CLIENT_SECRET":  testSecret,
		"ZEROBUS_PROXY_URL":         "https://proxy.example.com:8443",
		"RETRY_MAX_ATTEMPTS":        "3",
		"RETRY_BASE_DELAY_MS":       "10",
		"RETRY_MAX_DELAY_MS":        "1000",
		"DEBUG_ENABLED":             "true",
		"DEBUG_ARROW_ENABLED":       "1",
		"DEBUG_PROTOBUF_ENABLED":    "false",
		"DEBUG_OUTPUT_DIR":          "/tmp/dbg",
		"DEBUG_FLUSH_INTERVAL_SECS": "9",
		"DEBUG_MAX_FILE_SIZE":       "2MiB",
		"DEBUG_MAX_FILES_RETAINED":  "4",
		"DEBUG_ARROW_COMPRESSION":   "lz4",
		"OTLP_ENABLED":              "true",
		"OTLP_ENDPOINT":             "http://127.0.0.1:4318",
		"ZEROBUS_WRITER_DISABLED":   "true",
		"ZEROBUS_MAX_RECORD_BYTES":  "",
	}
	cfg := core.DefaultConfig()
	if err := cfg.ApplyEnv(mapLookup(env)); err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	want := core.DefaultConfig()
	want.Endpoint = "http://127.0.0.1:7000"
	want.TableName = "cat.sch.tbl"
	want.UnityCatalogURL = "http://127.0.0.1:7001"
	want.ClientID = "primary-id"
	want.ClientSecret = testSecret
	want.ProxyURL = "https://proxy.example.com:8443"
	want.RetryMaxAttempts = 3
	want.RetryBaseDelay = 10 * time.Millisecond
	want.RetryMaxDelay = time.Second
	want.DebugEnabled = true
	want.DebugArrowEnabled, want.DebugKindsExplicit = true, true
	want.DebugOutputDir = "/tmp/dbg"
	want.DebugFlushInterval = 9 * time.Second
	want.DebugMaxFileSize = 2 << 20
	want.DebugMaxFilesRetained = 4
	want.DebugArrowCompression = "lz4"
	want.ObservabilityEnabled = true
	want.OTLPEndpoint = "http://127.0.0.1:4318"
	want.WriterDisabled = true
	if d := cmp.Diff(want, cfg); d != "" {
		t.Errorf("config mismatch (-want +got):\n%s", d)
	}

	t.Run("process environment", func(t *testing.T) {
		t.Setenv("ZEROBUS_TABLE_NAME", "a.b.c")
		t.Setenv("RETRY_MAX_ATTEMPTS", "2")
		got, err := core.ConfigFromEnv()
		if err != nil {
			t.Fatal(err)
		}
		if got.TableName != "a.b.c" || got.RetryMaxAttempts != 2 {
			t.Errorf("ConfigFromEnv: table %q attempts %d, want a.b.c and 2", got.TableName, got.RetryMaxAttempts)
		}
	})

	t.Run("bad values name the variable and leave config unchanged", func(t *testing.T) {
		cfg := core.DefaultConfig()
		err := cfg.ApplyEnv(mapLookup(map[string]string{
			"RETRY_MAX_ATTEMPTS":  "five",
			"DEBUG_ENABLED":       "perhaps",
			"DEBUG_MAX_FILE_SIZE": "big",
			"ZEROBUS_TABLE_NAME":  "x.y.z",
		}))
		if err == nil {
			t.Fatal("ApplyEnv: nil error, want one")
		}
		for _, w := range []string{"RETRY_MAX_ATTEMPTS", "DEBUG_ENABLED", "DEBUG_MAX_FILE_SIZE", "environment", "3 problems"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("error %q does not mention %q", err, w)
			}
		}
		if d := cmp.Diff(core.DefaultConfig(), cfg); d != "" {
			t.Errorf("config changed despite error (-want +got):\n%s", d)
		}
	})
}

func mapLookup(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*core.Config)
		want   []string // each must appear; "" config must be valid
	}{
		{"valid", func(c *core.Config) {}, nil},
		{"zero values mean defaults", func(c *core.Config) {
			c.RetryMaxAttempts, c.MaxMessageBytes, c.MaxRecordBytes, c.OTLPProtocol, c.LogLevel = 0, 0, 0, "", ""
		}, nil},
		{"writer disabled needs a table and a debug output", func(c *core.Config) {
			*c = core.Config{TableName: "a.b.c", WriterDisabled: true, DebugProtobufEnabled: true, DebugOutputDir: "dbg"}
		}, nil},
		{"writer disabled without debug output", func(c *core.Config) {
			*c = core.Config{TableName: "events", WriterDisabled: true}
		}, []string{"WriterDisabled (yaml zerobus_writer_disabled, env ZEROBUS_WRITER_DISABLED when loading from the environment): is true but no debug output"}},
		{"credentials are checked when sending, not here", func(c *core.Config) {
			c.ClientID, c.ClientSecret, c.UnityCatalogURL = "", "", ""
		}, nil},
		{"everything missing", func(c *core.Config) { *c = core.Config{} }, []string{
			"2 problems", "TableName (yaml table_name, env ZEROBUS_TABLE_NAME when loading from the environment): is required",
			"Endpoint (yaml endpoint, env ZEROBUS_ENDPOINT when loading from the environment): is required",
		}},
		{"table name of one part", func(c *core.Config) { c.TableName = "events" }, nil},
		{"table name of two parts", func(c *core.Config) { c.TableName = "default.events_2" }, nil},
		{"table name of four parts", func(c *core.Config) { c.TableName = "a.b.c.d" }, []string{"4 dot-separated parts", "catalog.schema.table"}},
		{"table name chars, one part", func(c *core.Config) { c.TableName = "my-table" }, []string{`'-'`, "table part"}},
		{"table name chars", func(c *core.Config) { c.TableName = "main.default.my-table" }, []string{`'-'`, "table part"}},
		{"table name empty part", func(c *core.Config) { c.TableName = "main..t" }, []string{"empty schema part"}},
		{"endpoint scheme", func(c *core.Config) { c.Endpoint = "ftp://host" }, []string{"Endpoint", "https://"}},
		{"endpoint path", func(c *core.Config) { c.Endpoint = "https://host/x/y" }, []string{"must not have a path"}},
		// Validate passed these and New failed with "zerobus: invalid configuration: zerobus: invalid stream
		// config: Endpoint ... must be a bare host": now Validate names them by field/key like every problem
		{"endpoint query", func(c *core.Config) { c.Endpoint = "https://host/?o=1" }, []string{"Endpoint (yaml endpoint, env ZEROBUS_ENDPOINT when loading from the environment)", "must not have a query or fragment"}},
		{"endpoint fragment", func(c *core.Config) { c.Endpoint = "https://host#x" }, []string{"must not have a query or fragment"}},
		{"endpoint plaintext without a port", func(c *core.Config) { c.Endpoint = "http://host/" }, []string{"Endpoint (yaml endpoint, env ZEROBUS_ENDPOINT when loading from the environment)", "plaintext http:// without a port"}},
		{"endpoint schemeless host name", func(c *core.Config) { c.Endpoint = "1234.zerobus.us-west-2.cloud.databricks.com" }, nil},
		{"endpoint schemeless host and port", func(c *core.Config) { c.Endpoint = "localhost:7443" }, nil},
		{"endpoint schemeless single word", func(c *core.Config) { c.Endpoint = "invalid-endpoint" }, []string{
			`Endpoint (yaml endpoint, env ZEROBUS_ENDPOINT when loading from the environment): "invalid-endpoint" has no scheme and is not a host name`}},
		{"ranges", func(c *core.Config) {
			c.RetryMaxAttempts = -1
			c.RetryBaseDelay = time.Second
			c.RetryMaxDelay = time.Millisecond
			c.MaxMessageBytes = 20 << 20
			c.MaxRecordBytes = -5
			c.StreamsPerSchema = 1000
			c.AckTimeout = -time.Second
		}, []string{"RetryMaxAttempts", "at least 1", "RetryMaxDelay", "below RetryBaseDelay", "MaxMessageBytes", "10 MiB",
			"MaxRecordBytes", "StreamsPerSchema", "AckTimeout"}},
		{"debug needs dir", func(c *core.Config) { c.DebugArrowEnabled = true }, []string{"DebugOutputDir (yaml debug_output_dir, env DEBUG_OUTPUT_DIR when loading from the environment): is required"}},
		{"debug arrow compression zstd", func(c *core.Config) { c.DebugArrowCompression = "zstd" }, nil},
		{"debug arrow compression lz4 any case", func(c *core.Config) { c.DebugArrowCompression = "LZ4" }, nil},
		{"debug arrow compression none", func(c *core.Config) { c.DebugArrowCompression = "none" }, nil},
		{"debug arrow compression gzip", func(c *core.Config) { c.DebugArrowCompression = "gzip" }, []string{
			`DebugArrowCompression (yaml debug_arrow_compression, env DEBUG_ARROW_COMPRESSION when loading from the environment): is "gzip"`,
			`"none"`, `"zstd"`, `"lz4"`}},
		{"observability endpoint must be a URL", func(c *core.Config) { c.ObservabilityEnabled = true; c.OTLPEndpoint = "localhost:4317" }, []string{"OTLPEndpoint", "https://"}},
		{"proxy url scheme", func(c *core.Config) { c.ProxyURL = "socks5://proxy.example.com:1080" }, []string{
			"ProxyURL (yaml proxy_url, env ZEROBUS_PROXY_URL when loading from the environment)", "http:// or https://"}},
		{"proxy url path and query", func(c *core.Config) { c.ProxyURL = "http://proxy.example.com:3128/p?q=1" }, []string{
			"ProxyURL (yaml proxy_url, env ZEROBUS_PROXY_URL when loading from the environment)", "(no path, query or fragment)"}},
		{"proxy url host", func(c *core.Config) { c.ProxyURL = "http://:3128" }, []string{"ProxyURL", "has no host"}},
		{"proxy url with credentials is valid", func(c *core.Config) { c.ProxyURL = "https://user:pw@proxy.example.com:8443/" }, nil},
		{"enums", func(c *core.Config) { c.OTLPProtocol = "udp"; c.LogLevel = "loud" }, []string{`"udp"`, `"grpc" or "http"`, `"loud"`, "debug, info, warn or error"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error mentioning %q", tc.want)
			}
			if core.KindOf(err) != core.KindConfiguration {
				t.Errorf("KindOf = %q", core.KindOf(err))
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%s", w, err)
				}
			}
		})
	}
}

func TestConfigRedaction(t *testing.T) {
	cfg := validConfig()
	var buf strings.Builder
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("config", "cfg", cfg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", &cfg)
	outputs := []string{
		cfg.String(), cfg.GoString(),
		fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg), fmt.Sprintf("%q", cfg),
		fmt.Sprintf("%v", &cfg), fmt.Sprintf("%+v", &cfg), fmt.Sprintf("%#v", &cfg),
		fmt.Sprint([]core.Config{cfg}), fmt.Sprintf("%+v", struct{ C core.Config }{cfg}),
		buf.String(),
	}
	for i, out := range outputs {
		if strings.Contains(out, testSecret) {
			t.Errorf("output %d leaks the secret: %s", i, out)
		}
		if !strings.Contains(out, "client_secret") || !strings.Contains(out, "<redacted>") {
			t.Errorf("output %d does not show client_secret: <redacted>: %s", i, out)
		}
		if !strings.Contains(out, "main.default.events") {
			t.Errorf("output %d does not show the table: %s", i, out)
		}
	}
}

// TestURLCredentialsRedacted: a URL field carrying user:password@ is
// rejected with a message naming the field, and neither that message nor
// the printed Config (or SetupTelemetry's error) shows the password.
func TestURLCredentialsRedacted(t *testing.T) {
	const pw = "hunter2-url-password"
	tests := []struct {
		name   string
		field  string
		mutate func(*core.Config, string)
	}{
		{"endpoint with a bad scheme", "Endpoint", func(c *core.Config, u string) { c.Endpoint = "ftp://" + u + "host" }},
		{"endpoint", "Endpoint", func(c *core.Config, u string) { c.Endpoint = "https://" + u + "1234.zerobus.example.com" }},
		{"endpoint without scheme", "Endpoint", func(c *core.Config, u string) { c.Endpoint = u + "host:443/path" }},
		{"endpoint unparsable", "Endpoint", func(c *core.Config, u string) { c.Endpoint = "https://" + u + "host:bad%zz" }},
		{"unity catalog url", "UnityCatalogURL", func(c *core.Config, u string) { c.UnityCatalogURL = "ftp://" + u + "dbc.example.com" }},
		{"unity catalog url https", "UnityCatalogURL", func(c *core.Config, u string) { c.UnityCatalogURL = "https://" + u + "dbc.example.com" }},
		{"otlp endpoint", "OTLPEndpoint", func(c *core.Config, u string) { c.OTLPEndpoint = "ftp://" + u + "collector:4317" }},
		{"otlp endpoint http", "OTLPEndpoint", func(c *core.Config, u string) { c.OTLPEndpoint = "http://" + u + "collector:4317" }},
		{"otlp endpoint unparsable", "OTLPEndpoint", func(c *core.Config, u string) { c.OTLPEndpoint = "http://" + u + "collector:4317/%zz" }},
		{"proxy url with a bad scheme", "ProxyURL", func(c *core.Config, u string) { c.ProxyURL = "socks5://" + u + "proxy:1080" }},
		{"proxy url with a path", "ProxyURL", func(c *core.Config, u string) { c.ProxyURL = "http://" + u + "proxy:3128/x" }},
		{"proxy url unparsable", "ProxyURL", func(c *core.Config, u string) { c.ProxyURL = "http://" + u + "proxy:3128/%zz" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.mutate(&cfg, "admin:"+pw+"@")
			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			var ce *core.ConfigurationError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate() = %T, want *core.ConfigurationError", err)
			}
			found := false
			for _, p := range ce.Problems {
				found = found || p.Field == tc.field
			}
			if !found {
				t.Errorf("no problem for %s in %v", tc.field, err)
			}
			var buf strings.Builder
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", cfg)
			texts := []string{err.Error(), fmt.Sprintf("%+v", err), cfg.String(), fmt.Sprintf("%#v", cfg), buf.String()}
			if tc.field == "OTLPEndpoint" {
				_, serr := core.SetupTelemetry(t.Context(), cfg)
				if serr == nil {
					t.Errorf("SetupTelemetry accepted %s", tc.field)
				} else {
					texts = append(texts, serr.Error())
				}
			}
			for _, txt := range texts {
				if strings.Contains(txt, pw) || strings.Contains(txt, "admin:") {
					t.Errorf("the URL's credentials leak into: %s", txt)
				}
			}
		})
	}
}

// TestProxyURLPasswordRedacted: a valid ProxyURL with user:password is
// printed (every fmt verb, slog) with its user information redacted.
func TestProxyURLPasswordRedacted(t *testing.T) {
	const pw = "proxy-Passw0rd-in-url"
	cfg := validConfig()
	cfg.ProxyURL = "http://proxy-user:" + pw + "@proxy.example.com:3128"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil", err)
	}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", cfg)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "cfg", &cfg)
	for i, out := range []string{cfg.String(), cfg.GoString(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg),
		fmt.Sprintf("%#v", cfg), fmt.Sprintf("%q", cfg), fmt.Sprintf("%+v", &cfg), buf.String()} {
		if strings.Contains(out, pw) || strings.Contains(out, "proxy-user") {
			t.Errorf("output %d shows the proxy credentials: %s", i, out)
		}
		if !strings.Contains(out, "proxy.example.com:3128") {
			t.Errorf("output %d does not show the proxy host: %s", i, out)
		}
	}
}

// TestValidationPhases: Validate checks formats and combinations; New also
// checks what sending needs (a catalog.schema.table name and the OAuth
// settings) and accepts a conversion-only Wrapper (WriterDisabled without
// debug output) that Validate reports.
func TestValidationPhases(t *testing.T) {
	ctx := context.Background()
	short := validConfig()
	short.TableName, short.ClientID, short.ClientSecret, short.UnityCatalogURL = "events", "", "", ""
	if err := short.Validate(); err != nil {
		t.Fatalf("Validate() = %v, want nil (one-part name, no credentials)", err)
	}
	_, err := core.New(ctx, short)
	var ce *core.ConfigurationError
	if !errors.As(err, &ce) {
		t.Fatalf("New = %v, want *core.ConfigurationError", err)
	}
	var fields []string
	for _, p := range ce.Problems {
		fields = append(fields, p.Field)
	}
	if d := cmp.Diff([]string{"TableName", "UnityCatalogURL", "ClientID", "ClientSecret"}, fields); d != "" {
		t.Errorf("New problems (-want +got):\n%s\n%v", d, err)
	}
	for _, w := range []string{`"events" names no catalog or schema; sending needs the full name catalog.schema.table`,
		"ClientSecret (yaml client_secret, env ZEROBUS_CLIENT_SECRET when loading from the environment): is required for OAuth when sending"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("New error does not contain %q:\n%v", w, err)
		}
	}
	two := validConfig()
	two.TableName = "default.events"
	if _, err := core.New(ctx, two); err == nil || !strings.Contains(err.Error(), `"default.events" names no catalog;`) {
		t.Errorf("New with a two-part name = %v, want the catalog named missing", err)
	}

	// Writer disabled: short names and no credentials are fine for New, and
	// so is the missing debug output that Validate reports.
	offline := core.Config{TableName: "events", WriterDisabled: true}
	if err := offline.Validate(); err == nil || !strings.Contains(err.Error(), "WriterDisabled") {
		t.Errorf("Validate() = %v, want the WriterDisabled problem", err)
	}
	w, err := core.New(ctx, offline)
	if err != nil {
		t.Fatalf("New(writer disabled) = %v", err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

package tests_go

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestDurationSettingsOutOfRange: a *_ms or *_secs value whose duration does
// not fit (ack_timeout_ms: 18446744073710 used to wrap to 448µs) is refused
// by the YAML and environment loaders with a problem naming the key; the
// largest value that fits is accepted exactly.
func TestDurationSettingsOutOfRange(t *testing.T) {
	for _, tc := range []struct {
		key, env, value string
	}{
		{"ack_timeout_ms", "ZEROBUS_ACK_TIMEOUT_MS", "18446744073710"},
		{"create_timeout_ms", "ZEROBUS_CREATE_TIMEOUT_MS", "9223372036855"},
		{"flush_timeout_ms", "ZEROBUS_FLUSH_TIMEOUT_MS", "-9223372036855"},
		{"retry_base_delay_ms", "RETRY_BASE_DELAY_MS", "9223372036854775807"},
		{"debug_flush_interval_secs", "DEBUG_FLUSH_INTERVAL_SECS", "9223372037"},
		{"observability_interval_secs", "OTLP_INTERVAL_SECS", "18446744073710"},
		{"ack_timeout_ms", "ZEROBUS_ACK_TIMEOUT_MS", "99999999999999999999"}, // over int64
	} {
		t.Run(tc.key, func(t *testing.T) {
			_, yerr := core.ParseConfigYAML([]byte(tc.key + ": " + tc.value + "\n"))
			cfg := core.DefaultConfig()
			eerr := cfg.ApplyEnv(func(k string) (string, bool) { return tc.value, k == tc.env })
			for name, err := range map[string]error{"yaml": yerr, "env": eerr} {
				var ce *core.ConfigurationError
				if !errors.As(err, &ce) || len(ce.Problems) != 1 {
					t.Fatalf("%s: error %v, want one configuration problem", name, err)
				}
				if p := ce.Problems[0]; p.YAMLKey != tc.key || !strings.Contains(p.Message, "out of range") {
					t.Errorf("%s: problem %+v, want key %s and \"out of range\"", name, p, tc.key)
				}
			}
		})
	}
	cfg, err := core.ParseConfigYAML([]byte("ack_timeout_ms: 9223372036854\n"))
	if err != nil {
		t.Fatalf("the largest whole millisecond count that fits: %v", err)
	}
	if want := 9223372036854 * time.Millisecond; cfg.AckTimeout != want {
		t.Errorf("AckTimeout = %v, want %v", cfg.AckTimeout, want)
	}
}

// TestMaxMessageBytesLowersDefaultRecordLimit: max_message_bytes below the
// default record limit lowers the record limit (it used to fail validation);
// an explicit max_record_bytes over max_message_bytes is refused with a
// message saying what to set.
func TestMaxMessageBytesLowersDefaultRecordLimit(t *testing.T) {
	yaml := "table_name: main.default.t\nzerobus_writer_disabled: true\nmax_message_bytes: 1MiB\n" +
		"debug_arrow_enabled: true\ndebug_output_dir: " + t.TempDir() + "\n"
	cfg, err := core.ParseConfigYAML([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate with max_message_bytes 1 MiB: %v", err)
	}
	w := newWrapper(t, cfg)
	if got := w.Config().MaxRecordBytes; got != 1<<20 {
		t.Errorf("effective MaxRecordBytes = %d, want %d (lowered to max_message_bytes)", got, 1<<20)
	}
	// A row over the lowered limit fails alone, naming it; the small row converts.
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"small", strings.Repeat("x", 1<<20)}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	res, _ := w.SendBatch(testCtx(t), rec)
	if res == nil || res.SuccessfulCount != 1 || len(res.FailedRows) != 1 || res.FailedRows[0].Index != 1 ||
		!strings.Contains(res.FailedRows[0].Err.Error(), "-byte limit") || strings.Contains(res.FailedRows[0].Err.Error(), "4194285") {
		t.Errorf("result %v, want row 1 failed over the lowered limit and row 0 converted", res)
	}

	cfg, err = core.ParseConfigYAML([]byte("table_name: main.default.t\nendpoint: http://127.0.0.1:1\nmax_message_bytes: 1MiB\nmax_record_bytes: 2MiB\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Validate()
	var ce *core.ConfigurationError
	if !errors.As(err, &ce) || len(ce.Problems) != 1 {
		t.Fatalf("Validate = %v, want one problem", err)
	}
	p := ce.Problems[0]
	for _, want := range []string{"2097152", "1048576", "max_record_bytes", "max_message_bytes"} {
		if p.YAMLKey != "max_record_bytes" || !strings.Contains(p.Message, want) {
			t.Errorf("problem %+v: want key max_record_bytes and %q in the message", p, want)
		}
	}
}

// TestURLPortsOutOfRange: a proxy URL, endpoint or workspace URL with a port
// outside 1..65535 fails validation naming the setting.
func TestURLPortsOutOfRange(t *testing.T) {
	for _, tc := range []struct {
		field, key string
		set        func(*core.Config)
	}{
		{"ProxyURL", "proxy_url", func(c *core.Config) { c.ProxyURL = "http://proxy.example.com:99999999" }},
		{"ProxyURL", "proxy_url", func(c *core.Config) { c.ProxyURL = "http://proxy.example.com:0" }},
		{"ProxyURL", "proxy_url", func(c *core.Config) { c.ProxyURL = "https://u:p@proxy.example.com:65536" }},
		{"Endpoint", "endpoint", func(c *core.Config) { c.Endpoint = "https://1234.zerobus.example.com:99999999" }},
		{"Endpoint", "endpoint", func(c *core.Config) { c.Endpoint = "localhost:70000" }},
		{"UnityCatalogURL", "unity_catalog_url", func(c *core.Config) { c.UnityCatalogURL = "https://dbc.example.com:123456" }},
	} {
		cfg := validConfig()
		tc.set(&cfg)
		err := cfg.Validate()
		var ce *core.ConfigurationError
		if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].YAMLKey != tc.key || !strings.Contains(ce.Problems[0].Message, "1 and 65535") {
			t.Errorf("%s: Validate = %v, want one problem for %s naming the port range", tc.field, err, tc.key)
		}
	}
	cfg := validConfig()
	cfg.ProxyURL = "http://proxy.example.com:65535"
	if err := cfg.Validate(); err != nil {
		t.Errorf("port 65535: %v", err)
	}
}

package core_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

func TestSettingsTable(t *testing.T) {
	tab := core.Settings()
	byKey := map[string]core.Setting{}
	for _, s := range tab {
		if _, dup := byKey[s.Key]; dup {
			t.Errorf("key %s listed twice", s.Key)
		}
		byKey[s.Key] = s
		if s.Doc == "" || s.Field == "" || len(s.Env) == 0 {
			t.Errorf("%s: incomplete row %+v", s.Key, s)
		}
	}
	for key, want := range map[string]any{
		"retry_max_attempts": int64(core.DefaultRetryMaxAttempts), "retry_base_delay_ms": int64(100),
		"retry_max_delay_ms": int64(30000), "debug_flush_interval_secs": int64(5), "debug_max_files_retained": int64(10),
		"otlp_protocol": "grpc", "transport": "protobuf", "debug_enabled": false, "endpoint": "",
		"max_inflight_bytes": int64(core.DefaultMaxInflightBytes),
	} {
		if got := byKey[key].Default; got != want {
			t.Errorf("%s default = %#v, want %#v", key, got, want)
		}
	}
	if s := byKey["retry_base_delay_ms"]; s.Type != "duration" || s.Unit != "ms" || s.Field != "RetryBaseDelay" {
		t.Errorf("retry_base_delay_ms row = %+v", s)
	}
	if s := byKey["debug_max_file_size"]; s.Type != "size" || s.Unit != "bytes" {
		t.Errorf("debug_max_file_size row = %+v", s)
	}
	for _, s := range tab {
		if s.Secret != (s.Key == "client_secret" || s.Key == "proxy_url") {
			t.Errorf("%s: Secret = %v", s.Key, s.Secret)
		}
	}
	if _, ok := byKey["transport"]; !ok {
		t.Error("transport missing")
	}
	if _, err := json.Marshal(tab); err != nil {
		t.Fatal(err)
	}
}

func TestConfigFromSettings(t *testing.T) {
	cfg, err := core.ConfigFromSettings(map[string]any{
		"table_name": "a.b.c", "client_secret": "x${NOPE}y", "retry_base_delay_ms": json.Number("250"),
		"retry_max_delay_ms": 4000.0, "debug_enabled": true, "max_inflight_bytes": "1MiB", "ack_timeout_ms": nil,
		"debug_flush_interval_secs": 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TableName != "a.b.c" || cfg.ClientSecret != "x${NOPE}y" || cfg.RetryBaseDelay != 250*time.Millisecond ||
		cfg.RetryMaxDelay != 4*time.Second || !cfg.DebugEnabled || cfg.MaxInflightBytes != 1<<20 ||
		cfg.AckTimeout != core.DefaultAckTimeout || cfg.DebugFlushInterval != 7*time.Second {
		t.Errorf("ConfigFromSettings = %v", cfg)
	}

	_, err = core.ConfigFromSettings(map[string]any{"tabel_name": "x", "retry_max_attempts": "many",
		"debug_enabled": 1, "client_secret": 12345, "endpoint": 3})
	msg := err.Error()
	for _, want := range []string{"5 problems", `tabel_name: unknown setting; did you mean "table_name"?`,
		`retry_max_attempts (env RETRY_MAX_ATTEMPTS when loading from the environment): "many" is not an integer`,
		"debug_enabled (env DEBUG_ENABLED when loading from the environment): expected a boolean, got 1 (int)",
		"client_secret (env ZEROBUS_CLIENT_SECRET when loading from the environment): expected a string, got a value of type int", "endpoint (env ZEROBUS_ENDPOINT when loading from the environment): expected a string"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "12345") || strings.Contains(msg, "TableName") || strings.Contains(msg, "RetryMaxAttempts") {
		t.Errorf("error shows the secret or Go field names:\n%s", msg)
	}
	if core.KindOf(err) != core.KindConfiguration {
		t.Errorf("kind = %s", core.KindOf(err))
	}
}

func TestSettingsOfRoundTrip(t *testing.T) {
	want := core.DefaultConfig()
	want.Endpoint, want.TableName, want.ClientSecret = "http://127.0.0.1:1", "a.b.c", "s"
	want.DebugRotationInterval = 0
	want.ProxyURL = "http://user:pw@127.0.0.1:3128"
	m := core.SettingsOf(want)
	if _, ok := m["otlp_endpoint"]; ok {
		t.Error("empty string settings must be left out")
	}
	got, err := core.ConfigFromSettings(m)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() || got.ClientSecret != "s" || got.ProxyURL != want.ProxyURL {
		t.Errorf("round trip changed the config:\n%v\n%v", want, got)
	}
}

func TestByKeyError(t *testing.T) {
	err := core.ByKeyError(core.Config{TableName: "bad name"}.Validate())
	if err == nil || !strings.Contains(err.Error(), "table_name (env ZEROBUS_TABLE_NAME when loading from the environment): ") || strings.Contains(err.Error(), "TableName") {
		t.Errorf("ByKeyError = %v", err)
	}
	if core.KindOf(err) != core.KindConfiguration {
		t.Errorf("kind = %s", core.KindOf(err))
	}
	// field names inside a message are named by key too
	cfg := core.DefaultConfig()
	cfg.TableName, cfg.Endpoint, cfg.RetryBaseDelay, cfg.RetryMaxDelay = "a.b.c", "http://127.0.0.1:1", time.Second, time.Millisecond
	cfg.WriterDisabled = true
	msg := core.ByKeyError(cfg.Validate()).Error()
	// and durations are in the key's unit (milliseconds here), not Go's "1ms"
	if !strings.Contains(msg, "retry_max_delay_ms (env RETRY_MAX_DELAY_MS when loading from the environment): is 1, below retry_base_delay_ms 1000;") ||
		strings.Contains(msg, "RetryBaseDelay") {
		t.Errorf("ByKeyError message:\n%s", msg)
	}
	cfg.RetryMaxDelay, cfg.ObservabilityInterval, cfg.AckTimeout = cfg.RetryBaseDelay, -1500*time.Millisecond, -1500*time.Microsecond
	msg = core.ByKeyError(cfg.Validate()).Error()
	for _, want := range []string{"observability_interval_secs (env OTLP_INTERVAL_SECS when loading from the environment): is -1.5; must be positive",
		"ack_timeout_ms (env ZEROBUS_ACK_TIMEOUT_MS when loading from the environment): is -1.5; must be positive"} {
		if !strings.Contains(msg, want) {
			t.Errorf("ByKeyError message lacks %q:\n%s", want, msg)
		}
	}
	cfg.RetryMaxDelay, cfg.ObservabilityInterval, cfg.AckTimeout = time.Millisecond, 0, 0
	// without ByKey the Go names stay
	if msg := cfg.Validate().Error(); !strings.Contains(msg, "RetryMaxDelay (yaml retry_max_delay_ms, env RETRY_MAX_DELAY_MS when loading from the environment): is 1ms, below RetryBaseDelay 1s") {
		t.Errorf("Validate message:\n%s", msg)
	}
}

// TestDocTableMatchesSettings checks the key table in the package
// documentation (doc.go) against Settings, so the doc cannot drift.
func TestDocTableMatchesSettings(t *testing.T) {
	src, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var doc []string
	in := false
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(line, "//\tEndpoint ") {
			in = true
		}
		if in && !strings.HasPrefix(line, "//\t") {
			break
		}
		if in {
			doc = append(doc, strings.Join(strings.Fields(strings.TrimPrefix(line, "//\t")), " "))
		}
	}
	var want []string
	for _, s := range core.Settings() {
		want = append(want, s.Field+" "+s.Key+" "+docDefault(s)+" "+strings.Join(s.Env, ", "))
	}
	if strings.Join(doc, "\n") != strings.Join(want, "\n") {
		t.Errorf("doc.go key table differs from Settings():\ndoc:\n%s\nwant:\n%s", strings.Join(doc, "\n"), strings.Join(want, "\n"))
	}
}

// docDefault is a setting's default as doc.go's key table shows it:
// Settings' Default (DefaultConfig's value, in the key's unit), "—" for
// none, a size in MiB or KiB when it is a whole number of them.
func docDefault(s core.Setting) string {
	switch v := s.Default.(type) {
	case nil:
		return "—"
	case string:
		if v == "" {
			return "—"
		}
		return v
	case int64:
		if s.Type == "size" && v%(1<<20) == 0 {
			return fmt.Sprintf("%dMiB", v>>20)
		}
		if s.Type == "size" && v%(1<<10) == 0 {
			return fmt.Sprintf("%dKiB", v>>10)
		}
	}
	return fmt.Sprint(s.Default)
}

// The defaults doc.go's key table shows (docDefault) are DefaultConfig's,
// read back through the loaders: a shown default given as the key's value
// loads DefaultConfig's field, so the column cannot drift from it.
func TestDocTableDefaultsAreDefaultConfig(t *testing.T) {
	d := core.SettingsOf(core.DefaultConfig())
	for _, s := range core.Settings() {
		shown := docDefault(s)
		if shown == "—" {
			if v, ok := d[s.Key]; ok && v != "" && v != nil {
				t.Errorf("%s: doc shows no default, DefaultConfig has %v", s.Key, v)
			}
			continue
		}
		var given any = shown
		if s.Type == "bool" {
			given = shown == "true"
		}
		cfg, err := core.ConfigFromSettings(map[string]any{s.Key: given})
		if err != nil {
			t.Errorf("%s: the shown default %q does not load: %v", s.Key, shown, err)
			continue
		}
		if got, want := fmt.Sprint(core.SettingsOf(cfg)[s.Key]), fmt.Sprint(d[s.Key]); got != want {
			t.Errorf("%s: the shown default %q loads as %s, DefaultConfig has %s", s.Key, shown, got, want)
		}
	}
}

// Setting.URL marks exactly the settings Config.String prints with their
// user information redacted: the Python package redacts the keys it marks,
// so a URL setting added here must not print its password from Python.
func TestSettingURLMatchesStringRedaction(t *testing.T) {
	n := 0
	for _, s := range core.Settings() {
		if s.Type != "string" || (s.Secret && !s.URL) { // a secret is never shown at all
			continue
		}
		c, err := core.ConfigFromSettings(map[string]any{s.Key: "https://user:pw-" + s.Key + "@h.example.com:1"})
		if err != nil {
			continue // not a free-form string (an enum)
		}
		redacted := !strings.Contains(c.String(), "pw-"+s.Key)
		if redacted != s.URL {
			t.Errorf("%s: Setting.URL %t, but Config.String redacts its user information: %t", s.Key, s.URL, redacted)
		}
		if s.URL {
			n++
		}
	}
	if n < 4 {
		t.Errorf("%d URL settings; endpoint, unity_catalog_url, proxy_url and otlp_endpoint are", n)
	}
}

// Millis saturates instead of overflowing: a binding's "wait for ever"
// timeout (Python's math.inf, 1e10 s) must not become a deadline in the past.
func TestMillisSaturates(t *testing.T) {
	for ms, want := range map[int64]time.Duration{
		1500: 1500 * time.Millisecond, 0: 0, -3: -3 * time.Millisecond,
		math.MaxInt64: math.MaxInt64, 1e13: math.MaxInt64, math.MinInt64: math.MinInt64,
		int64(math.MaxInt64 / time.Millisecond): time.Duration(math.MaxInt64/time.Millisecond) * time.Millisecond,
	} {
		if got := core.Millis(ms); got != want {
			t.Errorf("Millis(%d) = %v, want %v", ms, got, want)
		}
	}
}

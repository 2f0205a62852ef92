package pybind

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// parseConfig builds a core.Config from a JSON object whose keys are core's
// YAML keys (endpoint, table_name, client_secret, retry_base_delay_ms, ...),
// parsed by core's YAML loader (JSON is YAML), so unknown keys and bad values
// are reported exactly as for a YAML file. String values are taken
// literally: "${" is not expanded as it is in YAML files. The result is not
// validated.
func parseConfig(configJSON string) (core.Config, error) {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(configJSON))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return core.Config{}, &core.ConfigurationError{Err: fmt.Errorf("the settings are not a JSON object: %w", err)}
	}
	for k, v := range m {
		if s, ok := v.(string); ok {
			m[k] = strings.ReplaceAll(s, "${", "$${")
		}
	}
	// Re-encode with sorted keys, one per line, so the loader's line numbers
	// are stable.
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{\n")
	for i, k := range keys {
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(m[k])
		if err != nil {
			return core.Config{}, &core.ConfigurationError{Err: fmt.Errorf("setting %s: %w", k, err)}
		}
		b.Write(kb)
		b.WriteString(": ")
		b.Write(vb)
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return core.ParseConfigYAML([]byte(b.String()))
}

// ValidateConfig parses configJSON (see parseConfig) and applies
// core.Config.Validate, which reports every problem at once.
func ValidateConfig(configJSON string) error {
	cfg, err := parseConfig(configJSON)
	if err != nil {
		return wrapErr(err)
	}
	return wrapErr(cfg.Validate())
}

// syncEnv makes the Go runtime's environment equal to envJSON (a JSON
// object of name to value, Python's os.environ). The Go runtime copies the
// process environment once at start-up, so variables Python sets later are
// invisible to os.LookupEnv until synced.
func syncEnv(envJSON string) error {
	if envJSON == "" {
		return nil
	}
	var env map[string]string
	if err := json.Unmarshal([]byte(envJSON), &env); err != nil {
		return errorOf(core.KindConfiguration, "zerobus: the environment is not a JSON object of strings: %v", err)
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := env[name]; !ok && name != "" {
			_ = os.Unsetenv(name)
		}
	}
	for k, v := range env {
		if cur, ok := os.LookupEnv(k); !ok || cur != v {
			_ = os.Setenv(k, v)
		}
	}
	return nil
}

// LoadConfigYAML reads a YAML config file with core.LoadConfigYAML, with
// "${VAR}" resolved against envJSON (see syncEnv; "" keeps the current
// environment), and returns every setting as a JSON object keyed by YAML
// key (durations in the keys' units). The client secret and the proxy URL
// (with any password) are included: the Python side keeps them in its
// configuration object and never prints them.
func LoadConfigYAML(path, envJSON string) (string, error) {
	if err := syncEnv(envJSON); err != nil {
		return "", err
	}
	cfg, err := core.LoadConfigYAML(path)
	if err != nil {
		return "", wrapErr(err)
	}
	return configJSON(cfg)
}

// ConfigFromEnv applies the environment envJSON (see syncEnv) with
// core.ConfigFromEnv and returns the settings as LoadConfigYAML does.
func ConfigFromEnv(envJSON string) (string, error) {
	if err := syncEnv(envJSON); err != nil {
		return "", err
	}
	cfg, err := core.ConfigFromEnv()
	if err != nil {
		return "", wrapErr(err)
	}
	return configJSON(cfg)
}

// configJSON renders cfg keyed by YAML key, the inverse of parseConfig.
func configJSON(c core.Config) (string, error) {
	ms := func(d time.Duration) int64 { return d.Milliseconds() }
	secs := func(d time.Duration) int64 { return int64(d / time.Second) }
	m := map[string]any{
		"endpoint":                     c.Endpoint,
		"table_name":                   c.TableName,
		"unity_catalog_url":            c.UnityCatalogURL,
		"client_id":                    c.ClientID,
		"client_secret":                c.ClientSecret,
		"proxy_url":                    c.ProxyURL,
		"retry_max_attempts":           c.RetryMaxAttempts,
		"retry_base_delay_ms":          ms(c.RetryBaseDelay),
		"retry_max_delay_ms":           ms(c.RetryMaxDelay),
		"max_inflight_requests":        c.MaxInflightRequests,
		"max_inflight_bytes":           c.MaxInflightBytes,
		"max_message_bytes":            c.MaxMessageBytes,
		"max_record_bytes":             c.MaxRecordBytes,
		"create_timeout_ms":            ms(c.CreateTimeout),
		"ack_timeout_ms":               ms(c.AckTimeout),
		"flush_timeout_ms":             ms(c.FlushTimeout),
		"streams_per_schema":           c.StreamsPerSchema,
		"all_fields_optional":          c.AllFieldsOptional,
		"debug_enabled":                c.DebugEnabled,
		"debug_arrow_enabled":          c.DebugArrowEnabled,
		"debug_protobuf_enabled":       c.DebugProtobufEnabled,
		"debug_output_dir":             c.DebugOutputDir,
		"debug_flush_interval_secs":    secs(c.DebugFlushInterval),
		"debug_max_file_size":          c.DebugMaxFileSize,
		"debug_rotation_interval_secs": secs(c.DebugRotationInterval),
		"debug_max_files_retained":     c.DebugMaxFilesRetained,
		"debug_arrow_compression":      c.DebugArrowCompression,
		"observability_enabled":        c.ObservabilityEnabled,
		"otlp_endpoint":                c.OTLPEndpoint,
		"otlp_protocol":                c.OTLPProtocol,
		"observability_output_dir":     c.ObservabilityOutputDir,
		"observability_interval_secs":  secs(c.ObservabilityInterval),
		"log_level":                    c.LogLevel,
		"zerobus_writer_disabled":      c.WriterDisabled,
		"transport":                    c.Transport,
		"arrow_flight_compression":     c.ArrowFlightCompression,
	}
	// Empty strings mean "not set": leave them out so Python sees None.
	for k, v := range m {
		if s, ok := v.(string); ok && s == "" {
			delete(m, k)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", errorOf(core.KindUnknown, "zerobus: encoding the settings: %v", err)
	}
	return string(b), nil
}

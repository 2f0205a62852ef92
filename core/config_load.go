package core

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// setting maps one Config field to its key and environment variables; YAML,
// environment and settings-map loading share the parsers so all accept the
// same value forms.
type setting struct {
	field  string   // Go field name
	key    string   // YAML key (and keyword of Python's WrapperConfiguration; see Setting.Key)
	env    []string // environment variables, highest precedence first
	acc    access   // type, unit, parse and read
	secret bool     // never echoed in errors or printed
	doc    string   // one line
}

// set parses v into c's field as the YAML, environment and settings-map
// loaders do. An explicit 0 for a key whose 0 would be replaced by a non-zero
// default is refused: Config's zero value stands for "the default" so that
// Go code can leave fields out, but a 0 written in YAML, the environment or
// Python must not silently become the default (retry_max_attempts=0 meant 5
// attempts, ack_timeout_ms=0 the default timeout).
func (s *setting) set(c *Config, v string) error {
	if err := s.acc.set(c, v); err != nil {
		return err
	}
	if def, ok := s.zeroForDefault(c); ok {
		unit := ""
		if s.acc.unit != "" {
			unit = " " + s.acc.unit
		}
		return fmt.Errorf("0 is not accepted (it would silently mean the default, %v%s): leave the setting unset for the default, or give another value", def, unit)
	}
	return nil
}

// zeroForDefault reports whether c holds 0 for s where Config reads 0 as a
// non-zero default, and returns that default (in the key's unit).
func (s *setting) zeroForDefault(c *Config) (any, bool) {
	if !s.acc.isZero(c) {
		return nil, false
	}
	def := s.acc.get(ptr(c.withDefaults()))
	return def, def != any(int64(0))
}

func ptr[T any](v T) *T { return &v }

// access parses a textual value into a Config field and reads it back in
// the key's unit.
type access struct {
	typ  string // "string", "int", "bool", "duration", "size"
	unit string // "ms", "s", "bytes" or ""
	set  func(c *Config, v string) error
	get  func(c *Config) any  // string, int64 or bool (a duration that is not a whole number of units: its text)
	zero func(c *Config) bool // the field itself is 0 (nil: get gives int64 0)
	url  bool                 // a URL printed with its user information redacted (RedactURL)
}

// isZero reports whether the field of a is 0 (not only its value in the
// key's unit: a duration below the unit reads back as 0 but is not 0).
func (a access) isZero(c *Config) bool {
	if a.zero != nil {
		return a.zero(c)
	}
	return a.get(c) == any(int64(0))
}

// explicitZero makes a given 0 for a field whose 0 would mean a non-zero
// default store as (a value Config reads as what the original API meant by
// 0: NoRetryDelay, DebugRotateEveryWrite, DebugRetainNone). It reads back as 0 in the key's
// unit, so SettingsOf and ConfigFromSettings round-trip it.
func explicitZero[T comparable](as T, f func(*Config) *T, mk func(func(*Config) *T) access) access {
	a := mk(f)
	set := a.set
	a.set = func(c *Config, v string) error {
		if err := set(c, v); err != nil {
			return err
		}
		var zero T
		if *f(c) == zero {
			*f(c) = as
		}
		return nil
	}
	get := a.get
	a.get = func(c *Config) any {
		if *f(c) == as {
			return int64(0)
		}
		return get(c)
	}
	return a
}

func durMs(f func(*Config) *time.Duration) access { return dur(time.Millisecond, f) }

// Setting describes one configuration key: the exported form of the table
// YAML files, environment variables and SettingsMap/ConfigFromSettings all
// read. Language bindings check their keyword lists against it.
type Setting struct {
	Key     string   `json:"key"`     // YAML key and Python keyword, e.g. "retry_base_delay_ms" (the observability keys, e.g. log_level, are folded into WrapperConfiguration's observability_config)
	Field   string   `json:"field"`   // Config field, e.g. "RetryBaseDelay"
	Type    string   `json:"type"`    // "string", "int", "bool", "duration" (a whole number of Unit) or "size" (bytes)
	Unit    string   `json:"unit"`    // "ms", "s", "bytes" or ""
	Default any      `json:"default"` // DefaultConfig's value in Unit: string, int64 or bool ("" or nil = unset)
	Secret  bool     `json:"secret"`  // the value is never printed or echoed in errors
	URL     bool     `json:"url"`     // a URL whose user information (user:password@) is never printed
	Env     []string `json:"env"`     // environment variables, highest precedence first
	Doc     string   `json:"doc"`     // one line
}

// Settings returns every configuration key in a stable order (a fresh copy).
func Settings() []Setting {
	d := DefaultConfig()
	out := make([]Setting, len(settings))
	for i, s := range settings {
		out[i] = Setting{Key: s.key, Field: s.field, Type: s.acc.typ, Unit: s.acc.unit, Default: s.acc.get(&d),
			Secret: s.secret, URL: s.acc.url, Env: append([]string(nil), s.env...), Doc: s.doc}
	}
	return out
}

// settings is the single table of every loadable Config field.
var settings = []setting{
	{"Endpoint", "endpoint", []string{"ZEROBUS_ENDPOINT"}, urlStr(func(c *Config) *string { return &c.Endpoint }), false, "Zerobus gRPC endpoint URL (https://<workspace-id>.zerobus.<region>.cloud.databricks.com)"},
	{"TableName", "table_name", []string{"ZEROBUS_TABLE_NAME"}, str(func(c *Config) *string { return &c.TableName }), false, "target table, catalog.schema.table"},
	{"UnityCatalogURL", "unity_catalog_url", []string{"UNITY_CATALOG_URL", "DATABRICKS_HOST"}, urlStr(func(c *Config) *string { return &c.UnityCatalogURL }), false, "workspace URL serving /oidc/v1/token"},
	{"ClientID", "client_id", []string{"ZEROBUS_CLIENT_ID", "DATABRICKS_CLIENT_ID"}, str(func(c *Config) *string { return &c.ClientID }), false, "service principal client id (OAuth)"},
	{"ClientSecret", "client_secret", []string{"ZEROBUS_CLIENT_SECRET", "DATABRICKS_CLIENT_SECRET"}, str(func(c *Config) *string { return &c.ClientSecret }), true, "service principal secret; never printed"},
	{"ProxyURL", "proxy_url", []string{"ZEROBUS_PROXY_URL"}, urlStr(func(c *Config) *string { return &c.ProxyURL }), true, "HTTP(S) proxy for all traffic, http://[user:password@]host[:port]; the password is never printed"},
	{"TLSCAFile", "tls_ca_file", []string{"ZEROBUS_TLS_CA_FILE"}, str(func(c *Config) *string { return &c.TLSCAFile }), false, "PEM file of CA certificates trusted instead of the system roots (endpoint, workspace, https proxy)"},
	{"RetryMaxAttempts", "retry_max_attempts", []string{"RETRY_MAX_ATTEMPTS"}, integer(func(c *Config) *int { return &c.RetryMaxAttempts }), false, "attempts of stream creation/recovery in a row, and of each token request (at most 4); 1 disables retries"},
	{"RetryBaseDelay", "retry_base_delay_ms", []string{"RETRY_BASE_DELAY_MS"}, explicitZero(NoRetryDelay, func(c *Config) *time.Duration { return &c.RetryBaseDelay }, durMs), false, "first backoff step; 0 retries without waiting"},
	{"RetryMaxDelay", "retry_max_delay_ms", []string{"RETRY_MAX_DELAY_MS"}, explicitZero(NoRetryDelay, func(c *Config) *time.Duration { return &c.RetryMaxDelay }, durMs), false, "backoff cap; 0 (with retry_base_delay_ms 0) retries without waiting"},
	{"MaxInflightRequests", "max_inflight_requests", []string{"ZEROBUS_MAX_INFLIGHT_REQUESTS"}, integer(func(c *Config) *int { return &c.MaxInflightRequests }), false, "unacknowledged requests, all streams of the Wrapper together"},
	{"MaxInflightBytes", "max_inflight_bytes", []string{"ZEROBUS_MAX_INFLIGHT_BYTES"}, size64(func(c *Config) *int64 { return &c.MaxInflightBytes }), false, "unacknowledged bytes, all streams of the Wrapper together"},
	{"MaxMessageBytes", "max_message_bytes", []string{"ZEROBUS_MAX_MESSAGE_BYTES"}, sizeInt(func(c *Config) *int { return &c.MaxMessageBytes }), false, "largest request sent"},
	{"MaxRecordBytes", "max_record_bytes", []string{"ZEROBUS_MAX_RECORD_BYTES"}, sizeInt(func(c *Config) *int { return &c.MaxRecordBytes }), false, "largest single record"},
	{"CreateTimeout", "create_timeout_ms", []string{"ZEROBUS_CREATE_TIMEOUT_MS"}, dur(time.Millisecond, func(c *Config) *time.Duration { return &c.CreateTimeout }), false, "timeout for creating a stream"},
	{"AckTimeout", "ack_timeout_ms", []string{"ZEROBUS_ACK_TIMEOUT_MS"}, dur(time.Millisecond, func(c *Config) *time.Duration { return &c.AckTimeout }), false, "time without an acknowledgement before the stream is recovered"},
	{"FlushTimeout", "flush_timeout_ms", []string{"ZEROBUS_FLUSH_TIMEOUT_MS"}, dur(time.Millisecond, func(c *Config) *time.Duration { return &c.FlushTimeout }), false, "timeout for Flush and Close"},
	{"StreamsPerSchema", "streams_per_schema", []string{"ZEROBUS_STREAMS_PER_SCHEMA"}, integer(func(c *Config) *int { return &c.StreamsPerSchema }), false, "parallel streams per Arrow schema"},
	{"AllFieldsOptional", "all_fields_optional", []string{"ZEROBUS_ALL_FIELDS_OPTIONAL"}, boolean(func(c *Config) *bool { return &c.AllFieldsOptional }), false, "treat every column as optional (proto2 optional) when the table's columns cannot be read from Unity Catalog (they decide otherwise)"},
	{"DebugEnabled", "debug_enabled", []string{"DEBUG_ENABLED"}, boolean(func(c *Config) *bool { return &c.DebugEnabled }), false, "write both Arrow and protobuf debug files, unless debug_arrow_enabled or debug_protobuf_enabled is given (also false): then those decide"},
	{"DebugArrowEnabled", "debug_arrow_enabled", []string{"DEBUG_ARROW_ENABLED"}, debugKind(func(c *Config) *bool { return &c.DebugArrowEnabled }), false, "write Arrow IPC debug files; given (also false), it and debug_protobuf_enabled decide over debug_enabled"},
	{"DebugProtobufEnabled", "debug_protobuf_enabled", []string{"DEBUG_PROTOBUF_ENABLED"}, debugKind(func(c *Config) *bool { return &c.DebugProtobufEnabled }), false, "write protobuf debug files; given (also false), it and debug_arrow_enabled decide over debug_enabled"},
	{"DebugOutputDir", "debug_output_dir", []string{"DEBUG_OUTPUT_DIR"}, str(func(c *Config) *string { return &c.DebugOutputDir }), false, "directory for debug files (required when a debug output is on)"},
	{"DebugFlushInterval", "debug_flush_interval_secs", []string{"DEBUG_FLUSH_INTERVAL_SECS"}, dur(time.Second, func(c *Config) *time.Duration { return &c.DebugFlushInterval }), false, "flush debug files at least this often"},
	{"DebugMaxFileSize", "debug_max_file_size", []string{"DEBUG_MAX_FILE_SIZE"}, explicitZero(DebugRotateEveryWrite, func(c *Config) *int64 { return &c.DebugMaxFileSize }, size64), false, "rotate a debug file after this many bytes; 0 after every write"},
	{"DebugRotationInterval", "debug_rotation_interval_secs", []string{"DEBUG_ROTATION_INTERVAL_SECS"}, dur(time.Second, func(c *Config) *time.Duration { return &c.DebugRotationInterval }), false, "rotate debug files at least this often; 0 never"},
	{"DebugMaxFilesRetained", "debug_max_files_retained", []string{"DEBUG_MAX_FILES_RETAINED"}, explicitZero(DebugRetainNone, func(c *Config) *int { return &c.DebugMaxFilesRetained }, integer), false, "rotated debug files kept per kind; 0 keeps none (only the active file), negative keeps all"},
	{"DebugArrowCompression", "debug_arrow_compression", []string{"DEBUG_ARROW_COMPRESSION"}, str(func(c *Config) *string { return &c.DebugArrowCompression }), false, "Arrow debug file compression: zstd, lz4 or none"},
	{"ObservabilityEnabled", "observability_enabled", []string{"OTLP_ENABLED"}, boolean(func(c *Config) *bool { return &c.ObservabilityEnabled }), false, "export OpenTelemetry metrics and spans"},
	{"OTLPEndpoint", "otlp_endpoint", []string{"OTLP_ENDPOINT"}, urlStr(func(c *Config) *string { return &c.OTLPEndpoint }), false, "OTLP collector endpoint"},
	{"OTLPProtocol", "otlp_protocol", []string{"OTLP_PROTOCOL"}, str(func(c *Config) *string { return &c.OTLPProtocol }), false, "OTLP protocol: grpc or http"},
	{"ObservabilityOutputDir", "observability_output_dir", []string{"OTLP_OUTPUT_DIR"}, str(func(c *Config) *string { return &c.ObservabilityOutputDir }), false, "write OTLP JSON files to this directory"},
	{"ObservabilityInterval", "observability_interval_secs", []string{"OTLP_INTERVAL_SECS", "OTLP_WRITE_INTERVAL_SECS"}, dur(time.Second, func(c *Config) *time.Duration { return &c.ObservabilityInterval }), false, "metric export interval"},
	{"LogLevel", "log_level", []string{"ZEROBUS_LOG_LEVEL", "OTLP_LOG_LEVEL"}, str(func(c *Config) *string { return &c.LogLevel }), false, "log level: debug, info, warn or error"},
	{"LogFile", "log_file", []string{"ZEROBUS_LOG_FILE"}, str(func(c *Config) *string { return &c.LogFile }), false, "also write JSON log lines to this file (rotated)"},
	{"TelemetryMaxFileMB", "observability_max_file_mb", []string{"OTLP_MAX_FILE_MB"}, integer(func(c *Config) *int { return &c.TelemetryMaxFileMB }), false, "rotate telemetry and log files at this size in MiB"},
	{"TelemetryMaxBackups", "observability_max_backups", []string{"OTLP_MAX_BACKUPS"}, integer(func(c *Config) *int { return &c.TelemetryMaxBackups }), false, "rotated copies kept of each telemetry or log file"},
	{"WriterDisabled", "zerobus_writer_disabled", []string{"ZEROBUS_WRITER_DISABLED"}, boolean(func(c *Config) *bool { return &c.WriterDisabled }), false, "convert (and write debug files) but send nothing"},
	{"Transport", "transport", []string{"ZEROBUS_TRANSPORT"}, str(func(c *Config) *string { return &c.Transport }), false, "how batches travel: protobuf or arrow_flight"},
	{"ArrowFlightCompression", "arrow_flight_compression", []string{"ZEROBUS_ARROW_FLIGHT_COMPRESSION"}, str(func(c *Config) *string { return &c.ArrowFlightCompression }), false, "with transport arrow_flight, compression: zstd or lz4 (IPC buffers), grpc_zstd (whole gRPC messages) or none (refused with transport protobuf)"},
}

// problemFor builds a ConfigProblem for a field, filling in its YAML key and
// primary environment variable from the settings table.
func problemFor(field, msg string) ConfigProblem {
	p := ConfigProblem{Field: field, Message: msg}
	for _, s := range settings {
		if s.field == field {
			p.YAMLKey = s.key
			p.EnvVar = s.env[0]
			break
		}
	}
	return p
}

func str(f func(*Config) *string) access {
	return access{typ: "string",
		set: func(c *Config, v string) error { *f(c) = v; return nil },
		get: func(c *Config) any { return *f(c) }}
}

// urlStr is str for a URL setting, which printing shows with its user
// information redacted (Config.String, and the Python package through
// Setting.URL).
func urlStr(f func(*Config) *string) access {
	a := str(f)
	a.url = true
	return a
}

func integer(f func(*Config) *int) access {
	return access{typ: "int",
		set: func(c *Config, v string) error {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if errors.Is(err, strconv.ErrRange) {
				return fmt.Errorf("%s is out of range: at least %d, at most %d", strings.TrimSpace(v), math.MinInt, math.MaxInt)
			}
			if err != nil {
				return fmt.Errorf("%q is not an integer", v)
			}
			*f(c) = n
			return nil
		},
		get: func(c *Config) any { return int64(*f(c)) }}
}

func boolean(f func(*Config) *bool) access {
	return access{typ: "bool",
		set: func(c *Config, v string) error {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "1", "t", "true", "yes", "y", "on":
				*f(c) = true
			case "0", "f", "false", "no", "n", "off":
				*f(c) = false
			default:
				return fmt.Errorf("%q is not a boolean; use true or false", v)
			}
			return nil
		},
		get: func(c *Config) any { return *f(c) }}
}

// debugKind is boolean for a per-kind debug switch: setting it also sets
// DebugKindsExplicit (the key was given). It reads back as nil (unset:
// SettingsOf leaves it out, Settings shows no default) unless the per-kind
// switches decide, so a settings map round trip keeps "not given" and an
// explicit false apart.
func debugKind(f func(*Config) *bool) access {
	b := boolean(f)
	return access{typ: b.typ,
		set: func(c *Config, v string) error {
			if err := b.set(c, v); err != nil {
				return err
			}
			c.DebugKindsExplicit = true
			return nil
		},
		get: func(c *Config) any {
			if !c.debugKindsDecide() {
				return nil
			}
			return *f(c)
		}}
}

// dur parses a whole number of units (e.g. milliseconds for *_ms keys); a
// Go duration string with a unit ("1.5s") is accepted too when it is a whole
// number of units ("500ms" is refused for a *_secs key), so every loader and
// SettingsOf (which gives the value in units) agree.
func dur(unit time.Duration, f func(*Config) *time.Duration) access {
	u, short := "milliseconds", "ms"
	if unit == time.Second {
		u, short = "seconds", "s"
	}
	limit := unitsLimit(unit)
	return access{typ: "duration", unit: short,
		set: func(c *Config, v string) error {
			s := strings.TrimSpace(v)
			n, err := strconv.ParseInt(s, 10, 64)
			if err == nil && n >= -limit && n <= limit {
				*f(c) = time.Duration(n) * unit
				return nil
			}
			if err == nil || errors.Is(err, strconv.ErrRange) {
				return fmt.Errorf("%s is out of range: at most %d %s (about 292 years)", s, limit, u)
			}
			if d, err := time.ParseDuration(s); err == nil {
				if d%unit != 0 {
					return fmt.Errorf("%q is not a whole number of %s, the unit of this key", v, u)
				}
				*f(c) = d
				return nil
			}
			return fmt.Errorf("%q is not a whole number of %s (or a duration like \"1.5s\")", v, u)
		},
		get: func(c *Config) any {
			if d := *f(c); d%unit != 0 {
				return durationText(d) // never cut: see SettingsOf
			}
			return int64(*f(c) / unit)
		},
		zero: func(c *Config) bool { return *f(c) == 0 }}
}

// durationText is d as Go duration text ("1.5s", "250ms", "1us"; "us" for
// "µs", so the text is ASCII).
func durationText(d time.Duration) string {
	return strings.Replace(d.String(), "µs", "us", 1)
}

// unitsLimit is the most units a time.Duration holds (about 292 years).
func unitsLimit(unit time.Duration) int64 { return int64(math.MaxInt64 / unit) }

// Millis is ms milliseconds as a time.Duration, saturating at the longest
// one (about 292 years) instead of overflowing into a negative duration: the
// one place the language bindings' millisecond timeouts become durations.
func Millis(ms int64) time.Duration {
	switch limit := unitsLimit(time.Millisecond); {
	case ms > limit:
		return math.MaxInt64
	case ms < -limit:
		return math.MinInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// TimeoutMillis is a language binding's timeout argument, given in seconds,
// as the whole milliseconds its calls take (> 0; 0 is the binding's "none
// given", so it is never returned): under 1 ms is 1 ms, and anything longer
// than the longest time.Duration (infinity too) is math.MaxInt64, which
// Millis saturates. A negative timeout or NaN is refused with an error naming
// the value and what a timeout may be: a timeout has no meaning below zero,
// and taking it as 1 ms (what Python did) reported "timeout=0.001 s passed"
// for a value the caller never gave.
func TimeoutMillis(seconds float64) (int64, error) {
	if math.IsNaN(seconds) || seconds < 0 {
		what := "is negative"
		if math.IsNaN(seconds) {
			what = "is not a number"
		}
		return 0, fmt.Errorf("zerobus: timeout=%s %s: give 0 or more seconds (under 0.001 waits 1 ms; "+
			"infinity: no bound), or no timeout for the call's default bound",
			strings.ToLower(strconv.FormatFloat(seconds, 'f', -1, 64)), what) // -inf, nan: as the bindings spell them
	}
	ms := seconds * 1000
	switch {
	case ms >= math.MaxInt64:
		return math.MaxInt64, nil
	case ms < 1:
		return 1, nil
	}
	return int64(ms), nil
}

// parseSize parses a byte count: a plain integer or one with a KB/MB/GB
// (×1000) or KiB/MiB/GiB (×1024) suffix.
func parseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}} {
		if len(s) > len(u.suffix) && strings.EqualFold(s[len(s)-len(u.suffix):], u.suffix) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil && n > (1<<62)/mult || errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%s is out of range: at most %d bytes (4 EiB)", strings.TrimSpace(v), int64(1)<<62)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a byte size; use an integer, optionally with KiB/MiB/GiB", v)
	}
	return n * mult, nil
}

func size64(f func(*Config) *int64) access {
	return access{typ: "size", unit: "bytes",
		set: func(c *Config, v string) error {
			n, err := parseSize(v)
			if err != nil {
				return err
			}
			*f(c) = n
			return nil
		},
		get: func(c *Config) any { return *f(c) }}
}

func sizeInt(f func(*Config) *int) access {
	return access{typ: "size", unit: "bytes",
		set: func(c *Config, v string) error {
			n, err := parseSize(v)
			if err != nil {
				return err
			}
			if n > 1<<31-1 {
				return fmt.Errorf("%q is too large", v)
			}
			*f(c) = int(n)
			return nil
		},
		get: func(c *Config) any { return int64(*f(c)) }}
}

// LoadConfigYAML reads a YAML config file: DefaultConfig overridden by the
// file's keys (see ParseConfigYAML). Errors are *ConfigurationError naming the
// file, and the key and line of each problem.
func LoadConfigYAML(path string) (Config, error) {
	return LoadConfigYAMLEnv(path, os.LookupEnv)
}

// ParseConfigYAML parses YAML config bytes: a flat mapping whose keys mirror
// the Config fields in snake_case (endpoint, table_name, unity_catalog_url,
// client_id, client_secret, retry_max_attempts, retry_base_delay_ms, …; the
// package documentation lists them all). Keys not given keep DefaultConfig
// values; a null value also keeps the default. Unknown keys are errors, and
// so is a second YAML document (after "---"), which would be ignored.
// String values may reference environment variables as ${NAME} (write $${ for
// a literal "${"); an unset variable is an error. The result is not validated:
// call Validate or let New do it. When some values are refused, the problems
// Validate finds in the file's other values are reported with them (the keys
// the file leaves out are not reported missing: code or flags may set them);
// the Config returned with that *ConfigurationError holds the values that
// loaded (the refused keys at their defaults), so that a caller completing
// it can Validate it and report the settings still missing at once.
func ParseConfigYAML(data []byte) (Config, error) {
	return parseYAML(data, "", os.LookupEnv)
}

func parseYAML(data []byte, source string, lookup func(string) (string, bool)) (Config, error) {
	cfg, _, err := parseYAMLSet(data, source, lookup)
	return cfg, err
}

// parseYAMLSet is parseYAML also returning the keys the document sets (a
// null value sets nothing), in document order.
func parseYAMLSet(data []byte, source string, lookup func(string) (string, bool)) (Config, []string, error) {
	cfg := DefaultConfig()
	doc, err := yamlDocument(data)
	if err != nil {
		return Config{}, nil, &ConfigurationError{Source: source, Err: err}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 { // empty document
		return cfg, nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Config{}, nil, &ConfigurationError{Source: source, Err: fmt.Errorf("line %d: the document must be a mapping of keys to values", root.Line)}
	}
	byKey := make(map[string]*setting, len(settings))
	for i := range settings {
		byKey[settings[i].key] = &settings[i]
	}
	var ps []ConfigProblem
	var set []string
	given := map[string]givenAt{}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		s, ok := byKey[k.Value]
		if !ok {
			ps = append(ps, ConfigProblem{Field: k.Value, YAMLKey: k.Value,
				Message: fmt.Sprintf("line %d: unknown key%s", k.Line, suggest(k.Value))})
			continue
		}
		p := ConfigProblem{Field: s.field, YAMLKey: s.key, EnvVar: s.env[0]}
		if prev, dup := seen[k.Value]; dup {
			p.Message = fmt.Sprintf("line %d: duplicate key (first set on line %d)", k.Line, prev)
			ps = append(ps, p)
			continue
		}
		seen[k.Value] = k.Line
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if v.Kind != yaml.ScalarNode {
			p.Message = fmt.Sprintf("line %d: must be a single value, not a list or mapping", v.Line)
			ps = append(ps, p)
			continue
		}
		if v.Tag == "!!null" {
			continue
		}
		if v.Style&yaml.TaggedStyle != 0 && !plainTags[v.Tag] {
			// !!binary would otherwise be taken as its literal base64 text
			p.Message = fmt.Sprintf("line %d: the YAML tag %s is not supported; write the value as plain text", v.Line, v.Tag)
			ps = append(ps, p)
			continue
		}
		prev := cfg
		val, err := ExpandEnv(v.Value, lookup)
		// A value that is only ${NAME} references expanding to nothing: said so, as "" alone would not show why.
		empty := ""
		if err == nil && val == "" && strings.Contains(v.Value, "${") {
			empty = fmt.Sprintf(" (%s is set but empty)", v.Value)
		}
		if err == nil {
			err = s.set(&cfg, val)
		}
		if err == nil {
			set = append(set, s.key)
			given[s.field] = givenAt{prefix: fmt.Sprintf("line %d%s: ", v.Line, empty)}
		} else {
			cfg = prev
			msg := err.Error()
			if s.secret { // never echo a secret back
				msg = "invalid value"
				if strings.Contains(err.Error(), "${") {
					msg = err.Error()
				}
			}
			p.Message = fmt.Sprintf("line %d: %s%s", v.Line, msg, empty)
			ps = append(ps, p)
		}
	}
	if len(ps) > 0 {
		// The file's other values are checked too, so one round shows every problem.
		// The values that loaded come back with it: a caller that completes
		// the file (the CLI's flags) validates them to list the settings
		// still missing in the same round (the loader cannot: flags or code
		// may set them).
		return cfg, nil, &ConfigurationError{Source: source, Problems: withRestChecked(cfg, ps, given)}
	}
	return cfg, set, nil
}

// plainTags are the YAML tags a value may carry explicitly (!!str 5); any
// other (!!binary, a custom !tag) is refused rather than read as plain text.
var plainTags = map[string]bool{"!!str": true, "!!int": true, "!!bool": true, "!!float": true, "!!null": true}

// yamlDocument decodes the one YAML document of data (a zero node when data
// holds none). A second document with content (after "---" or "...") is an
// error, not dropped: its keys would be accepted and ignored. One that sets
// nothing (a stray "---" at the end, "--- ~", "--- {}") is accepted, as is a
// "---" before the only document.
func yamlDocument(data []byte) (yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, next yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		return yaml.Node{}, fmt.Errorf("not valid YAML: %w", err)
	}
	for {
		next = yaml.Node{}
		switch err := dec.Decode(&next); {
		case err == io.EOF:
			return doc, nil
		case err != nil:
			return yaml.Node{}, fmt.Errorf("not valid YAML: %w", err)
		case len(next.Content) > 0 && next.Content[0].Tag != "!!null" &&
			(next.Content[0].Kind != yaml.MappingNode || len(next.Content[0].Content) > 0):
			return yaml.Node{}, fmt.Errorf(`line %d: a second YAML document; a config file holds one mapping (remove the "---" or "...")`, next.Line)
		}
	}
}

// LoadConfigYAMLSettings reads a YAML config file as LoadConfigYAMLEnv does
// and returns only the settings the file sets, by key, each in its key's
// unit as SettingsOf gives it (an empty string setting is left out there
// too). Keys the file leaves out or sets to null are absent, also when a
// value equals the default. Secrets are included: the caller must not print
// them.
func LoadConfigYAMLSettings(path string, lookup func(string) (string, bool)) (map[string]any, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	cfg, set, err := parseYAMLSet(data, path, lookup)
	if err != nil {
		return nil, err
	}
	return settingsOfKeys(cfg, set), nil
}

// readConfigFile reads a config file, the error naming it.
func readConfigFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigurationError{Source: path, Err: fmt.Errorf("cannot read config file: %w", err)}
	}
	return data, nil
}

// settingsOfKeys is SettingsOf(c) restricted to keys.
func settingsOfKeys(c Config, keys []string) map[string]any {
	all := SettingsOf(c)
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

// suggest proposes a known key close to an unknown one.
func suggest(key string) string {
	keys := make([]string, len(settings))
	for i, s := range settings {
		keys[i] = s.key
	}
	phrase := DidYouMean(key, keys)
	if phrase == "" {
		return "; see the package documentation for the list of keys"
	}
	return "; " + phrase
}

// ExpandEnv replaces ${NAME} in s with the value lookup gives for NAME
// (os.LookupEnv, or a given environment); "$${" is a literal "${". Other
// "$" characters are kept as they are (secrets may contain them). An
// unterminated or empty reference, or a variable lookup does not have, is
// an error. It is the YAML loader's rule for every string value, and the
// Spark data source's for its options.
func ExpandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			b.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated \"${\" (write \"$${\" for a literal)")
			}
			name := s[i+2 : i+end]
			if name == "" {
				return "", fmt.Errorf("empty variable reference \"${}\"")
			}
			val, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("references ${%s}, which is not set in the environment", name)
			}
			b.WriteString(val)
			i += end + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
}

// EnvVarOf returns the environment variable ApplyEnv reads the setting of
// Go field name field from (ConfigProblem.Field) through lookup: the first
// of its names (Setting.Env) that is set and not empty, e.g. DATABRICKS_HOST
// when UNITY_CATALOG_URL is not set; "" when none is. A caller that loaded a
// Config with ApplyEnv names with it the variable that gave a value a
// problem of Validate or New is about (Validate names the primary one,
// not knowing where the value came from).
func EnvVarOf(field string, lookup func(string) (string, bool)) string {
	for _, s := range settings {
		if s.field == field {
			name, _ := s.envValue(lookup)
			return name
		}
	}
	return ""
}

// envValue is the first of s's environment variables that is set and not
// empty, and its value: the one ApplyEnv reads ("" when none is).
func (s *setting) envValue(lookup func(string) (string, bool)) (name, value string) {
	for _, name := range s.env {
		if v, ok := lookup(name); ok && v != "" {
			return name, v
		}
	}
	return "", ""
}

// ConfigFromEnv returns DefaultConfig overridden by the process environment
// (see ApplyEnv). The result is not validated.
func ConfigFromEnv() (Config, error) {
	cfg := DefaultConfig()
	if err := cfg.ApplyEnv(os.LookupEnv); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// ApplyEnv overrides fields of c from environment variables read through
// lookup (os.LookupEnv in production, a map in tests). The accepted names
// are the Env lists of Settings (the package documentation shows them), the
// first set one of a list winning (e.g. UNITY_CATALOG_URL before
// DATABRICKS_HOST). Unset and empty variables leave the field alone. Bad
// values are reported together as a *ConfigurationError naming each
// variable, with the problems Validate finds in the values of the other
// variables set; c is then unchanged.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	_, err := c.applyEnvSet(lookup)
	return err
}

// applyEnvSet is ApplyEnv also returning the keys of the settings the
// environment sets (a variable that is set and not empty).
func (c *Config) applyEnvSet(lookup func(string) (string, bool)) ([]string, error) {
	next := *c
	var ps []ConfigProblem
	var set []string
	given := map[string]givenAt{}
	for i := range settings {
		s := &settings[i]
		name, v := s.envValue(lookup)
		if name == "" {
			continue
		}
		prev := next
		if err := s.set(&next, v); err != nil {
			next = prev
			msg := err.Error()
			if s.secret {
				msg = "invalid value"
			}
			ps = append(ps, ConfigProblem{Field: s.field, YAMLKey: s.key, EnvVar: name, Message: msg})
		} else {
			set = append(set, s.key)
			given[s.field] = givenAt{envVar: name}
		}
	}
	if len(ps) > 0 {
		// The environment's other values are checked too, so one round shows every problem.
		return nil, &ConfigurationError{Source: "environment", Problems: withRestChecked(next, ps, given)}
	}
	*c = next
	return set, nil
}

// EnvSettings returns only the settings the environment read through
// lookup sets (see ApplyEnv), by key, each in its key's unit as SettingsOf
// gives it. Secrets are included: the caller must not print them.
func EnvSettings(lookup func(string) (string, bool)) (map[string]any, error) {
	cfg := DefaultConfig()
	set, err := cfg.applyEnvSet(lookup)
	if err != nil {
		return nil, err
	}
	return settingsOfKeys(cfg, set), nil
}

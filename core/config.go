package core

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/debugfile"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/flightstream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// Default values of Config, as set by DefaultConfig. A zero numeric or
// duration field in a Config passed to New also means "the default" (the
// loaders, YAML, environment and settings maps, refuse an explicit 0 where
// it would mean a non-zero default, naming the key, except where the
// original API gave 0 a meaning: NoRetryDelay, DebugRotateEveryWrite,
// DebugRetainNone). Each is
// defined once, by the package that applies it (stream, convert, debugfile,
// telemetry), and re-exported here; Settings lists them by key.
const (
	DefaultRetryMaxAttempts      = stream.DefaultMaxAttempts
	DefaultRetryBaseDelay        = stream.DefaultBaseDelay
	DefaultRetryMaxDelay         = stream.DefaultMaxDelay
	DefaultMaxInflightRequests   = stream.DefaultMaxInflightRequests
	DefaultMaxInflightBytes      = stream.DefaultMaxInflightBytes
	DefaultMaxMessageBytes       = stream.DefaultMaxMessageBytes
	DefaultMaxRecordBytes        = convert.DefaultMaxRecordBytes
	DefaultCreateTimeout         = stream.DefaultCreateTimeout
	DefaultAckTimeout            = stream.DefaultAckTimeout
	DefaultFlushTimeout          = stream.DefaultFlushTimeout
	DefaultStreamsPerSchema      = 2
	DefaultDebugFlushInterval    = debugfile.DefaultFlushInterval
	DefaultDebugMaxFileSize      = debugfile.DefaultMaxFileSize
	DefaultDebugMaxFilesRetained = debugfile.DefaultMaxFilesRetained
	DefaultObservabilityInterval = telemetry.DefaultExportInterval
	DefaultOTLPProtocol          = telemetry.DefaultProtocol
	DefaultLogLevel              = telemetry.DefaultLogLevel
)

// What a 0 given to a loader (YAML, environment, settings map, Python) is
// stored as where Config's own 0 means the default but the original API's 0
// meant something else. Each reads back as 0 in its key (SettingsOf).
const (
	// NoRetryDelay is an explicit retry_base_delay_ms / retry_max_delay_ms
	// of 0: retry without waiting (a backoff of at most a few nanoseconds).
	NoRetryDelay = time.Nanosecond
	// DebugRotateEveryWrite is an explicit debug_max_file_size of 0: rotate
	// a debug file after every write that leaves it non-empty.
	DebugRotateEveryWrite int64 = 1
	// DebugRetainNone is an explicit debug_max_files_retained of 0: keep no
	// rotated debug file (each rotation deletes them all; only the active
	// file stays).
	DebugRetainNone = debugfile.RetainNone
)

// retryMaxDelay is the backoff cap used: with RetryBaseDelay NoRetryDelay
// no retry waits (the original's 0 base grew as 0 × 2^n), whatever
// RetryMaxDelay says.
func (c Config) retryMaxDelay() time.Duration {
	if c.RetryBaseDelay == NoRetryDelay {
		return NoRetryDelay
	}
	return c.RetryMaxDelay
}

// Zerobus limits checked before anything is sent (protocol §6).
const (
	// MaxColumns is the most top-level columns a Zerobus table accepts.
	MaxColumns = 2000
	// MaxMessageBytesLimit is the largest request payload any server accepts.
	MaxMessageBytesLimit = 10 << 20
)

// Config holds every setting of a Wrapper. Build it with DefaultConfig,
// LoadConfigYAML, ParseConfigYAML or ConfigFromEnv, adjust fields in code,
// then pass it to New (which validates it). Each field's comment names its
// YAML key and environment variable; see the package documentation for the
// full table.
//
// Config is a plain value; it is safe to copy. Printing it (fmt, slog) never
// shows ClientSecret or the user:password of a URL (ProxyURL).
type Config struct {
	// Endpoint is the Zerobus gRPC endpoint: "https://<workspace-id>.zerobus.<region>.cloud.databricks.com",
	// a schemeless host name with a domain or port (https is assumed) or
	// "http://host:port" for plaintext local servers.
	// Required unless WriterDisabled. YAML endpoint, env ZEROBUS_ENDPOINT.
	Endpoint string
	// TableName is the target table, "catalog.schema.table" (ASCII letters,
	// digits, _). Required. Validate also accepts "schema.table" and
	// "table" (as the original Python API does); a Wrapper that sends needs
	// all three parts. YAML table_name, env ZEROBUS_TABLE_NAME.
	TableName string
	// UnityCatalogURL is the workspace URL that serves the OAuth token endpoint
	// (…/oidc/v1/token). Required for OAuth unless WriterDisabled. As for
	// Endpoint, a host name without a scheme is taken as https (the form
	// DATABRICKS_HOST often has); plaintext http:// needs a port (a local
	// server): the token request carries ClientSecret. YAML
	// unity_catalog_url, env UNITY_CATALOG_URL or DATABRICKS_HOST.
	UnityCatalogURL string
	// ClientID is the service principal's OAuth client id. Required for OAuth
	// unless WriterDisabled. YAML client_id, env ZEROBUS_CLIENT_ID or DATABRICKS_CLIENT_ID.
	ClientID string
	// ClientSecret is the service principal's OAuth secret. Required for OAuth
	// unless WriterDisabled. Never printed. YAML client_secret (use
	// "${ENV_VAR}"), env ZEROBUS_CLIENT_SECRET or DATABRICKS_CLIENT_SECRET.
	ClientSecret string
	// ProxyURL is an HTTP proxy for all traffic: "http://[user:password@]host[:port]"
	// or "https://…" (TLS to the proxy). gRPC connections become HTTP CONNECT
	// tunnels through it and OAuth token requests go through it, loopback
	// targets included; user:password is sent as Proxy-Authorization: Basic.
	// A token client given with WithHTTPClient is used as is (set its
	// Transport's Proxy yourself). Default "": the environment (HTTPS_PROXY,
	// NO_PROXY). Printed with user:password redacted.
	// YAML proxy_url, env ZEROBUS_PROXY_URL.
	ProxyURL string
	// TLSCAFile is a PEM file of CA certificates to trust for TLS instead of
	// the system roots: the Zerobus endpoint (gRPC and Arrow Flight), the
	// workspace (OAuth token and Unity Catalog requests) and an https://
	// ProxyURL. New reads it once; a missing or unreadable file, or one
	// without a valid certificate, is a *ConfigurationError naming it. With
	// WithRootCAs as well, both are trusted. A client given with
	// WithHTTPClient is used as is (set its TLS roots yourself). Default "":
	// the system roots. YAML tls_ca_file, env ZEROBUS_TLS_CA_FILE.
	TLSCAFile string

	// RetryMaxAttempts is how many times a failed stream creation or recovery
	// is attempted before the batch fails with *RetryExhaustedError. Default 5;
	// 1 disables retries. It also bounds the HTTP requests of one OAuth token
	// fetch (a 5xx, 408, 429 or network error tries again): as many, at most
	// 4, so 1 asks the token endpoint once per attempt. YAML
	// retry_max_attempts, env RETRY_MAX_ATTEMPTS.
	RetryMaxAttempts int
	// RetryBaseDelay is the first backoff delay (exponential with full jitter).
	// Default 100ms (0 means the default; NoRetryDelay retries without
	// waiting). YAML retry_base_delay_ms, env RETRY_BASE_DELAY_MS (0 there
	// means NoRetryDelay).
	RetryBaseDelay time.Duration
	// RetryMaxDelay caps the backoff delay. Default 30s. YAML
	// retry_max_delay_ms, env RETRY_MAX_DELAY_MS (0 there means NoRetryDelay).
	RetryMaxDelay time.Duration

	// MaxInflightRequests bounds unacknowledged requests across all streams
	// of the Wrapper (one window they share); sends block while it is
	// reached. Default 1000.
	// YAML max_inflight_requests, env ZEROBUS_MAX_INFLIGHT_REQUESTS.
	MaxInflightRequests int
	// MaxInflightBytes bounds unacknowledged record bytes across all streams
	// of the Wrapper, so memory does not grow with the number of sending
	// goroutines or streams (a single larger request is admitted alone).
	// Default 64 MiB. YAML max_inflight_bytes, env ZEROBUS_MAX_INFLIGHT_BYTES.
	MaxInflightBytes int64
	// MaxMessageBytes caps the record payload of one request; batches are
	// split to fit. Default 10 MiB − 64 KiB; at most 10 MiB.
	// YAML max_message_bytes, env ZEROBUS_MAX_MESSAGE_BYTES.
	MaxMessageBytes int
	// MaxRecordBytes caps one encoded row; larger rows fail individually.
	// Default 4 MiB − 19 bytes (older servers), or MaxMessageBytes when that
	// is lower; up to MaxMessageBytes for servers that accept 10 MiB.
	// Protobuf only: Validate refuses another value with transport
	// arrow_flight (a row is bounded by MaxMessageBytes there).
	// YAML max_record_bytes, env ZEROBUS_MAX_RECORD_BYTES.
	MaxRecordBytes int
	// CreateTimeout bounds one stream creation attempt, token fetch included.
	// Default 15s. YAML create_timeout_ms, env ZEROBUS_CREATE_TIMEOUT_MS.
	CreateTimeout time.Duration
	// AckTimeout: with requests in flight and no ack for this long, the RPC is
	// treated as failed and recovered. Default 60s.
	// YAML ack_timeout_ms, env ZEROBUS_ACK_TIMEOUT_MS.
	AckTimeout time.Duration
	// FlushTimeout bounds Flush and the flush inside Close when the caller's
	// context has no deadline. Default 300s.
	// YAML flush_timeout_ms, env ZEROBUS_FLUSH_TIMEOUT_MS.
	FlushTimeout time.Duration
	// StreamsPerSchema is how many streams (RPCs) a Wrapper opens per Arrow
	// schema; concurrent SendBatch calls spread over them. Default 2.
	// YAML streams_per_schema, env ZEROBUS_STREAMS_PER_SCHEMA.
	StreamsPerSchema int
	// AllFieldsOptional makes every descriptor field optional even when the
	// Arrow field is non-nullable (for tables whose columns are all nullable),
	// except a column Unity Catalog says is NOT NULL (see doc.go, Conversion
	// and limits). Default false. YAML all_fields_optional, env ZEROBUS_ALL_FIELDS_OPTIONAL.
	AllFieldsOptional bool

	// DebugEnabled turns on both debug outputs (legacy switch) unless the
	// per-kind switches below decide (see DebugKindsExplicit). Default false.
	// YAML debug_enabled, env DEBUG_ENABLED.
	DebugEnabled bool
	// DebugArrowEnabled writes every batch to an Arrow IPC stream file.
	// Default false. YAML debug_arrow_enabled, env DEBUG_ARROW_ENABLED.
	DebugArrowEnabled bool
	// DebugProtobufEnabled writes every encoded record (length-delimited) with
	// its descriptor. Default false. YAML debug_protobuf_enabled, env DEBUG_PROTOBUF_ENABLED.
	// Transport arrow_flight encodes no protobuf record: Validate refuses it
	// there as the only debug output, New warns that it is ignored beside
	// DebugArrowEnabled, and DebugEnabled writes the Arrow files only
	// (DebugKinds).
	DebugProtobufEnabled bool
	// DebugKindsExplicit makes DebugArrowEnabled and DebugProtobufEnabled
	// alone decide which debug files are written, also when both are false;
	// DebugEnabled then adds nothing. They decide anyway when one is true.
	// The loaders (YAML, environment, ConfigFromSettings, so Python too) set
	// it when debug_arrow_enabled or debug_protobuf_enabled is given, also as
	// false, as the original Python API's explicit flags take precedence over
	// debug_enabled: debug_enabled with debug_protobuf_enabled=false writes no
	// debug file. Not a key of its own. Default false.
	DebugKindsExplicit bool
	// DebugOutputDir is where debug files go ({dir}/zerobus/arrow, …/proto).
	// Required when a debug output is on. YAML debug_output_dir, env DEBUG_OUTPUT_DIR.
	DebugOutputDir string
	// DebugFlushInterval: debug data reaches disk at least this often.
	// Default 5s. YAML debug_flush_interval_secs, env DEBUG_FLUSH_INTERVAL_SECS.
	DebugFlushInterval time.Duration
	// DebugMaxFileSize rotates a debug file once it passes this many bytes.
	// Default 128 MiB. YAML debug_max_file_size, env DEBUG_MAX_FILE_SIZE (0
	// there means DebugRotateEveryWrite).
	DebugMaxFileSize int64
	// DebugRotationInterval rotates debug files this often; 0 (default) means
	// size-based rotation only. YAML debug_rotation_interval_secs, env DEBUG_ROTATION_INTERVAL_SECS.
	DebugRotationInterval time.Duration
	// DebugMaxFilesRetained keeps this many rotated files per table and kind;
	// DebugRetainNone keeps none, any other negative value keeps all.
	// Default 10 (0 means the default in code). YAML
	// debug_max_files_retained, env DEBUG_MAX_FILES_RETAINED (0 there means
	// DebugRetainNone).
	DebugMaxFilesRetained int
	// DebugArrowCompression compresses the Arrow debug files with Arrow IPC
	// buffer compression: "zstd", "lz4", or "" / "none" (default: no
	// compression). The files stay Arrow IPC streams that ReadDebugArrowFile,
	// arrow-go ipc.NewReader and pyarrow.ipc.open_stream decompress
	// transparently; protobuf debug files are never compressed.
	// YAML debug_arrow_compression, env DEBUG_ARROW_COMPRESSION.
	DebugArrowCompression string

	// ObservabilityEnabled exports OpenTelemetry data with the settings
	// below (see SetupTelemetry): New sets the export up itself unless
	// WithTelemetry is given, which then takes its place; WithLogger,
	// WithMeterProvider or WithTracerProvider replaces only its part (logs,
	// metrics, traces), the others are still exported, and New warns naming
	// the part replaced. Without it, OTLPEndpoint, ObservabilityOutputDir
	// and a non-default OTLPProtocol or ObservabilityInterval export
	// nothing: a valid value is accepted and New logs a warning naming it
	// (IgnoredExportSettings); a value Validate refuses (a bad URL or
	// protocol, a negative interval) is refused all the same. Default false.
	// YAML observability_enabled, env OTLP_ENABLED.
	ObservabilityEnabled bool
	// OTLPEndpoint is the OTLP collector, e.g. "http://127.0.0.1:4317".
	// Default "": the standard OTEL_EXPORTER_OTLP_* variables, else the
	// local collector's default port; with ObservabilityOutputDir set and
	// this empty, only the files are written (those variables are not
	// read). YAML otlp_endpoint, env OTLP_ENDPOINT.
	OTLPEndpoint string
	// OTLPProtocol is "grpc" (default) or "http". YAML otlp_protocol, env OTLP_PROTOCOL.
	OTLPProtocol string
	// ObservabilityOutputDir, when set, writes OTLP JSON files there instead
	// of (or besides) the endpoint. YAML observability_output_dir, env OTLP_OUTPUT_DIR.
	ObservabilityOutputDir string
	// ObservabilityInterval is the metric export interval. Default 10s.
	// YAML observability_interval_secs, env OTLP_INTERVAL_SECS.
	ObservabilityInterval time.Duration
	// LogLevel is debug, info (default), warn or error: the level of the
	// logger SetupTelemetry builds (New builds it only for LogFile or
	// ObservabilityEnabled; alone, LogLevel leaves the Wrapper silent).
	// YAML log_level, env ZEROBUS_LOG_LEVEL.
	LogLevel string
	// LogFile, when set, is a file SetupTelemetry's logger appends JSON
	// lines to (whether or not ObservabilityEnabled), rotated like the
	// telemetry files; New writes it unless WithTelemetry or WithLogger is
	// given (the latter with a warning naming log_file).
	// YAML log_file, env ZEROBUS_LOG_FILE.
	LogFile string
	// TelemetryMaxFileMB is the size in MiB at which each telemetry or log
	// file is rotated (renamed name-<time>.ext, started afresh).
	// Default 100; at most 1048576 (1 TiB). YAML observability_max_file_mb, env OTLP_MAX_FILE_MB.
	TelemetryMaxFileMB int
	// TelemetryMaxBackups is how many rotated copies of each telemetry or
	// log file are kept. Default 5; at least 1 (there is no "keep none": an
	// explicit 0 is refused, as 0 stands for the default). YAML observability_max_backups, env
	// OTLP_MAX_BACKUPS. Both are unused without a file (no LogFile, no
	// ObservabilityOutputDir exported to): New then warns naming them
	// (IgnoredExportSettings).
	TelemetryMaxBackups int

	// WriterDisabled converts batches (and writes debug files) but sends
	// nothing and needs no network or credentials; results report what would
	// have been sent. Default false. YAML zerobus_writer_disabled, env ZEROBUS_WRITER_DISABLED.
	WriterDisabled bool

	// Transport selects how batches travel: "protobuf" (default: every row
	// encoded as a protobuf record over the Zerobus gRPC stream) or
	// "arrow_flight" (the batches themselves, cast to the table's Arrow
	// types, over Arrow Flight DoPut with record-level acknowledgements).
	// YAML transport, env ZEROBUS_TRANSPORT.
	Transport string
	// ArrowFlightCompression compresses what transport arrow_flight sends:
	// the Arrow IPC buffers ("zstd", "lz4"), or each whole gRPC message
	// with zstd ("grpc_zstd", as the official Rust client's GrpcZstd; it
	// helps most on wide or sparse schemas), or nothing ("" / "none",
	// default). Validate refuses another value with transport protobuf.
	// YAML arrow_flight_compression, env ZEROBUS_ARROW_FLIGHT_COMPRESSION.
	ArrowFlightCompression string
}

// The values of Config.Transport.
const (
	TransportProtobuf    = "protobuf"
	TransportArrowFlight = "arrow_flight"
)

// DefaultConfig returns a Config with every default set and the required
// fields (endpoint, table, credentials) empty.
func DefaultConfig() Config {
	return Config{
		RetryMaxAttempts:      DefaultRetryMaxAttempts,
		RetryBaseDelay:        DefaultRetryBaseDelay,
		RetryMaxDelay:         DefaultRetryMaxDelay,
		MaxInflightRequests:   DefaultMaxInflightRequests,
		MaxInflightBytes:      DefaultMaxInflightBytes,
		MaxMessageBytes:       DefaultMaxMessageBytes,
		MaxRecordBytes:        DefaultMaxRecordBytes,
		CreateTimeout:         DefaultCreateTimeout,
		AckTimeout:            DefaultAckTimeout,
		FlushTimeout:          DefaultFlushTimeout,
		StreamsPerSchema:      DefaultStreamsPerSchema,
		DebugFlushInterval:    DefaultDebugFlushInterval,
		DebugMaxFileSize:      DefaultDebugMaxFileSize,
		DebugMaxFilesRetained: DefaultDebugMaxFilesRetained,
		ObservabilityInterval: DefaultObservabilityInterval,
		OTLPProtocol:          DefaultOTLPProtocol,
		LogLevel:              DefaultLogLevel,
		TelemetryMaxFileMB:    DefaultTelemetryMaxFileMB,
		TelemetryMaxBackups:   DefaultTelemetryMaxBackups,
		Transport:             TransportProtobuf,
	}
}

// withDefaults fills zero numeric/duration/enum fields with the defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setZero(&c.RetryMaxAttempts, d.RetryMaxAttempts)
	setZero(&c.RetryBaseDelay, d.RetryBaseDelay)
	setZero(&c.RetryMaxDelay, d.RetryMaxDelay)
	setZero(&c.MaxInflightRequests, d.MaxInflightRequests)
	setZero(&c.MaxInflightBytes, d.MaxInflightBytes)
	setZero(&c.MaxMessageBytes, d.MaxMessageBytes)
	setZero(&c.MaxRecordBytes, d.MaxRecordBytes)
	if c.MaxRecordBytes == DefaultMaxRecordBytes && c.MaxMessageBytes < c.MaxRecordBytes {
		c.MaxRecordBytes = max(c.MaxMessageBytes, 1) // a record never exceeds the message that carries it
	}
	setZero(&c.CreateTimeout, d.CreateTimeout)
	setZero(&c.AckTimeout, d.AckTimeout)
	setZero(&c.FlushTimeout, d.FlushTimeout)
	setZero(&c.StreamsPerSchema, d.StreamsPerSchema)
	setZero(&c.DebugFlushInterval, d.DebugFlushInterval)
	setZero(&c.DebugMaxFileSize, d.DebugMaxFileSize)
	setZero(&c.DebugMaxFilesRetained, d.DebugMaxFilesRetained)
	setZero(&c.ObservabilityInterval, d.ObservabilityInterval)
	setZero(&c.OTLPProtocol, d.OTLPProtocol)
	setZero(&c.LogLevel, d.LogLevel)
	setZero(&c.TelemetryMaxFileMB, d.TelemetryMaxFileMB)
	setZero(&c.TelemetryMaxBackups, d.TelemetryMaxBackups)
	setZero(&c.Transport, d.Transport)
	return c
}

func setZero[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// debugArrow and debugProto are the effective debug switches: the per-kind
// switches when one is on or DebugKindsExplicit, else DebugEnabled for both.
func (c Config) debugArrow() bool {
	return c.DebugArrowEnabled || (c.DebugEnabled && !c.debugKindsDecide())
}

// debugProto is false on transport arrow_flight, which encodes no protobuf
// record: the kind is not applicable there (debugProtoNotApplicable), and
// DebugKinds, the logged config and DebugStats say so. The one rule for
// what a transport writes.
func (c Config) debugProto() bool {
	return c.debugProtoAsked() && c.Transport != TransportArrowFlight
}

// debugProtoAsked reports whether the switches ask for protobuf debug files,
// whatever the transport.
func (c Config) debugProtoAsked() bool {
	return c.DebugProtobufEnabled || (c.DebugEnabled && !c.debugKindsDecide())
}

// debugProtoNotApplicable reports whether the switches ask for protobuf
// debug files that the transport cannot write (arrow_flight): debug_enabled
// there means the Arrow files only. Alone, an explicit
// debug_protobuf_enabled is refused (transportProblems).
func (c Config) debugProtoNotApplicable() bool {
	return c.debugProtoAsked() && c.Transport == TransportArrowFlight
}
func (c Config) debugKindsDecide() bool {
	return c.DebugArrowEnabled || c.DebugProtobufEnabled || c.DebugKindsExplicit
}

// debugRequested reports whether any debug switch is on, DebugEnabled
// included even when the per-kind switches turn every kind off: as in the
// original, it then still needs DebugOutputDir (but WriterDisabled needs a
// kind written: DebugKinds).
func (c Config) debugRequested() bool {
	return c.DebugEnabled || c.debugArrow() || c.debugProtoAsked()
}

// DebugKinds returns the kinds of debug files c effectively writes, in this
// order: "arrow" (debugArrow) and "protobuf" (debugProto); empty when debug
// output is off. On transport arrow_flight it never holds "protobuf" (no
// protobuf record is encoded there): debug_enabled writes the Arrow files
// only, and the logged config shows the protobuf kind as not applicable
// (debug_kinds_not_applicable). For display (the Python reprs show it); the
// rule is debugArrow's and debugProto's.
func (c Config) DebugKinds() []string {
	kinds := []string{}
	if c.debugArrow() {
		kinds = append(kinds, "arrow")
	}
	if c.debugProto() {
		kinds = append(kinds, "protobuf")
	}
	return kinds
}

// Validate reports every problem with the formats and combinations of c's
// settings at once, as a *ConfigurationError (nil if there is none): the
// table name is "table", "schema.table" or "catalog.schema.table" (ASCII
// letters, digits, _), URLs are well formed, TLSCAFile (unless
// WriterDisabled) is a readable PEM file of certificates, numbers are in
// range, a debug output needs DebugOutputDir, and WriterDisabled needs a
// debug output (a Wrapper that neither sends nor writes debug files has no
// effect), and no
// setting the transport would ignore is given (max_record_bytes or protobuf
// debug files alone with arrow_flight; arrow_flight_compression with
// protobuf). The export settings are checked whether or not
// ObservabilityEnabled uses them: a valid one it leaves unused is no problem
// (New warns, IgnoredExportSettings), an invalid one always is. Zero
// numeric fields count as their defaults.
//
// What only sending needs is checked when the Wrapper is created: New also
// requires, unless WriterDisabled, a catalog.schema.table name and the OAuth
// settings (UnityCatalogURL, ClientID, ClientSecret; not with
// WithHeadersProvider). New accepts WriterDisabled without a debug output,
// for conversion-only checks such as "zerobus send -dry-run". These are the
// phases of the original Python API: formats in validate(), credentials when
// a writing wrapper is created.
func (c Config) Validate() error { return c.validate(checks{observable: true}) }

// checks selects the rules of a validation phase beyond Validate's formats.
type checks struct {
	// sending: what a Wrapper that sends needs (unless WriterDisabled): a
	// catalog.schema.table name and, with credentials, the OAuth settings.
	sending     bool
	credentials bool
	// observable: WriterDisabled requires a debug output.
	observable bool
}

// validateForNew is New's phase: Validate's formats plus what sending needs.
func (c Config) validateForNew(oauth bool) error {
	return c.validate(checks{sending: true, credentials: oauth})
}

func (c Config) validate(ck checks) error {
	given := c
	c = c.withDefaults()
	var ps []ConfigProblem
	add := func(field, format string, args ...any) {
		p := problemFor(field, fmt.Sprintf(format, args...))
		p.keyMessage = inKeyUnits(field, format, args)
		ps = append(ps, p)
	}
	sending := ck.sending && !c.WriterDisabled

	if c.TableName == "" {
		add("TableName", "is required: the target table as catalog.schema.table")
	} else if msg := checkTableName(c.TableName, sending); msg != "" {
		add("TableName", "%q %s", c.TableName, msg)
	}
	if !c.WriterDisabled {
		if c.Endpoint == "" {
			add("Endpoint", "is required (e.g. https://<workspace-id>.zerobus.<region>.cloud.databricks.com), unless zerobus_writer_disabled is true")
		} else if msg := checkEndpoint(c.Endpoint); msg != "" {
			add("Endpoint", "%q %s", RedactURL(c.Endpoint), msg)
		}
		if sending && ck.credentials && c.UnityCatalogURL == "" {
			add("UnityCatalogURL", "is required for OAuth when sending: the workspace URL, e.g. https://<workspace>.cloud.databricks.com")
		} else if c.UnityCatalogURL != "" {
			if msg := checkWorkspaceURL(c.UnityCatalogURL); msg != "" {
				add("UnityCatalogURL", "%q %s", RedactURL(c.UnityCatalogURL), msg)
			} else if c.Endpoint != "" && checkEndpoint(c.Endpoint) == "" && sameHostPort(c.Endpoint, c.UnityCatalogURL) {
				// Refused, not warned: Zerobus and the workspace are never
				// the same host:port (the stream takes the workspace id
				// from the endpoint's first label, a workspace host's is
				// its name), and the mistake would otherwise show only at
				// the first send.
				add("Endpoint", "%q is the host:port of unity_catalog_url (the workspace URL): the Zerobus endpoint is https://<workspace-id>.zerobus.<region>.cloud.databricks.com", RedactURL(c.Endpoint))
			}
		}
		if sending && ck.credentials {
			if c.ClientID == "" {
				add("ClientID", "is required for OAuth when sending: the service principal's client (application) id")
			}
			if c.ClientSecret == "" {
				add("ClientSecret", "is required for OAuth when sending: the service principal's secret (in YAML use \"${ENV_VAR}\")")
			}
		}
		if c.ProxyURL != "" {
			if msg := checkProxyURL(c.ProxyURL); msg != "" {
				add("ProxyURL", "%q %s", RedactURL(c.ProxyURL), msg)
			}
		}
		if c.TLSCAFile != "" {
			// read here, not only in New: its problem is listed with the others
			if _, err := loadCAFile(c.TLSCAFile); err != nil {
				add("TLSCAFile", "%s", err.Error())
			}
		}
	}

	if c.RetryMaxAttempts < 1 {
		add("RetryMaxAttempts", "is %d; must be at least 1 (1 disables retries)", c.RetryMaxAttempts)
	}
	if c.RetryBaseDelay < 0 {
		add("RetryBaseDelay", "is %v; must not be negative", c.RetryBaseDelay)
	}
	if c.RetryMaxDelay < 0 {
		add("RetryMaxDelay", "is %v; must not be negative", c.RetryMaxDelay)
	} else if c.RetryBaseDelay > 0 && c.RetryMaxDelay < c.RetryBaseDelay {
		add("RetryMaxDelay", "is %v, below RetryBaseDelay %v; must be at least the base delay", c.RetryMaxDelay, c.RetryBaseDelay)
	}
	if c.MaxInflightRequests < 1 {
		add("MaxInflightRequests", "is %d; must be at least 1", c.MaxInflightRequests)
	}
	if c.MaxMessageBytes < 1<<10 || c.MaxMessageBytes > MaxMessageBytesLimit {
		add("MaxMessageBytes", "is %d; must be between 1024 and %d (10 MiB)", c.MaxMessageBytes, MaxMessageBytesLimit)
	}
	if c.MaxInflightBytes < int64(c.MaxMessageBytes) {
		add("MaxInflightBytes", "is %d; must be at least MaxMessageBytes (%d)", c.MaxInflightBytes, c.MaxMessageBytes)
	}
	switch {
	case c.MaxRecordBytes < 1:
		add("MaxRecordBytes", "is %d; must be between 1 and MaxMessageBytes (%d)", c.MaxRecordBytes, c.MaxMessageBytes)
	case c.MaxRecordBytes > c.MaxMessageBytes:
		add("MaxRecordBytes", "is %d, over MaxMessageBytes (%d): set max_record_bytes to at most %d, or max_message_bytes to at least %d (leave max_record_bytes unset and it follows a lower max_message_bytes)",
			c.MaxRecordBytes, c.MaxMessageBytes, c.MaxMessageBytes, c.MaxRecordBytes)
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"CreateTimeout", c.CreateTimeout}, {"AckTimeout", c.AckTimeout}, {"FlushTimeout", c.FlushTimeout}} {
		if d.v < 0 {
			add(d.field, "is %v; must be positive", d.v)
		}
	}
	if c.StreamsPerSchema < 1 || c.StreamsPerSchema > 64 {
		add("StreamsPerSchema", "is %d; must be between 1 and 64", c.StreamsPerSchema)
	}

	if c.debugRequested() && c.DebugOutputDir == "" {
		add("DebugOutputDir", "is required when debug output is enabled: a writable directory")
	}
	switch {
	case !ck.observable || !c.WriterDisabled || len(c.DebugKinds()) > 0:
	case c.debugRequested(): // debug_enabled, with both per-kind switches given false
		add("WriterDisabled", "is true and debug_enabled writes no file (debug_arrow_enabled and debug_protobuf_enabled "+
			"are both false), so nothing would be sent or written; enable debug_arrow_enabled or debug_protobuf_enabled")
	default:
		add("WriterDisabled", "is true but no debug output is enabled, so nothing would be sent or written; "+
			"enable debug_enabled (or debug_arrow_enabled / debug_protobuf_enabled) with a debug_output_dir")
	}
	if c.DebugFlushInterval < 0 {
		add("DebugFlushInterval", "is %v; must be positive", c.DebugFlushInterval)
	}
	if c.DebugMaxFileSize < 0 {
		add("DebugMaxFileSize", "is %d; must be positive (bytes)", c.DebugMaxFileSize)
	}
	if c.DebugRotationInterval < 0 {
		add("DebugRotationInterval", "is %v; must be 0 (no time rotation) or positive", c.DebugRotationInterval)
	}
	if _, err := debugfile.ParseCompression(c.DebugArrowCompression); err != nil {
		add("DebugArrowCompression", "is %q; must be \"none\" (or empty, the default), \"zstd\" or \"lz4\"", c.DebugArrowCompression)
	}

	switch c.Transport {
	case TransportProtobuf, TransportArrowFlight:
		ps = append(ps, transportProblems(given, c.Transport)...)
	default:
		add("Transport", "is %q; must be %q (the default) or %q", c.Transport, TransportProtobuf, TransportArrowFlight)
	}
	if _, _, err := flightstream.ParseCompression(c.ArrowFlightCompression); err != nil {
		add("ArrowFlightCompression", "is %q; must be \"none\" (or empty, the default), \"zstd\" or \"lz4\" (IPC buffers), or \"grpc_zstd\" (whole gRPC messages)", c.ArrowFlightCompression)
	}

	switch c.OTLPProtocol {
	case "grpc", "http", "http/protobuf":
	default:
		add("OTLPProtocol", "is %q; must be \"grpc\" or \"http\"", c.OTLPProtocol)
	}
	if c.OTLPEndpoint != "" {
		if msg := checkHTTPURL(c.OTLPEndpoint); msg != "" {
			add("OTLPEndpoint", "%q %s", RedactURL(c.OTLPEndpoint), msg)
		}
	}
	if c.ObservabilityInterval < 0 {
		add("ObservabilityInterval", "is %v; must be positive", c.ObservabilityInterval)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "warning", "error":
	default:
		add("LogLevel", "is %q; must be debug, info, warn or error", c.LogLevel)
	}
	if c.TelemetryMaxFileMB < 0 {
		add("TelemetryMaxFileMB", "is %d; must be positive", c.TelemetryMaxFileMB)
	} else if c.TelemetryMaxFileMB > maxTelemetryFileMB { // lumberjack's byte limit would overflow: every write refused
		add("TelemetryMaxFileMB", "is %d; must be at most %d (1 TiB)", c.TelemetryMaxFileMB, maxTelemetryFileMB)
	}
	if c.TelemetryMaxBackups < 0 {
		add("TelemetryMaxBackups", "is %d; must be positive", c.TelemetryMaxBackups)
	}

	if len(ps) == 0 {
		return nil
	}
	return &ConfigurationError{Problems: ps}
}

// maxTelemetryFileMB bounds TelemetryMaxFileMB: the rotation multiplies it
// by 2^20 into an int64, which a larger value overflows (with lumberjack,
// 2^44 left every telemetry and log file empty).
const maxTelemetryFileMB = 1 << 20

// IgnoredExportSettings lists the keys of the export settings given (not
// their defaults) that have no effect because ObservabilityEnabled is
// false, and of the file rotation settings given (observability_max_file_mb,
// observability_max_backups) that have none because no log or telemetry
// file is written (no LogFile, no ObservabilityOutputDir exported to); nil
// when there are none. (LogLevel is not one: it sets the level of the
// records a Python program receives, with or without a file.) New logs a
// warning naming them, and the Python package (whose original ignored them)
// raises a UserWarning with this same list. A valid such value is not
// refused, as an environment set for other programs, or the original's env
// file, may hold it; a value Validate refuses (otlp_protocol
// "carrier-pigeon", a negative interval) is not listed: it is an error on
// every surface, used or not.
func (c Config) IgnoredExportSettings() []string {
	return c.ignoredExport()
}

// IgnoredExportSettingsOf is IgnoredExportSettings for settings given as
// data (keys to values, as ConfigFromSettings takes them) that need not be
// valid: a value the loader or Validate refuses is not listed (the Python
// package drops what this names before validating, so a refused value
// reaches validation and is reported, as in Go and the CLI).
func IgnoredExportSettingsOf(settingsMap map[string]any) []string {
	cfg, _ := configFromSettings(settingsMap) // a refused value keeps its default: not given
	return cfg.ignoredExport()
}

// exportSettings are the export settings and whether a Config has each
// given (not at its default).
var exportSettings = []struct {
	key   string
	given func(Config) bool
}{
	{"otlp_endpoint", func(c Config) bool { return c.OTLPEndpoint != "" }},
	{"otlp_protocol", func(c Config) bool { return c.OTLPProtocol != "" && c.OTLPProtocol != DefaultOTLPProtocol }},
	{"observability_output_dir", func(c Config) bool { return c.ObservabilityOutputDir != "" }},
	{"observability_interval_secs", func(c Config) bool {
		return c.ObservabilityInterval != 0 && c.ObservabilityInterval != DefaultObservabilityInterval
	}},
}

// rotationSettings are the settings of the rotation of the telemetry and
// log files, and whether a Config has each given (not at its default):
// unused when no such file is written (writesTelemetryFile).
var rotationSettings = []struct {
	key   string
	given func(Config) bool
}{
	{"observability_max_file_mb", func(c Config) bool {
		return c.TelemetryMaxFileMB != 0 && c.TelemetryMaxFileMB != DefaultTelemetryMaxFileMB
	}},
	{"observability_max_backups", func(c Config) bool {
		return c.TelemetryMaxBackups != 0 && c.TelemetryMaxBackups != DefaultTelemetryMaxBackups
	}},
}

// writesTelemetryFile reports whether c writes a telemetry or log file that
// TelemetryMaxFileMB and TelemetryMaxBackups rotate: LogFile, or the export
// files of ObservabilityOutputDir.
func (c Config) writesTelemetryFile() bool {
	return c.LogFile != "" || c.ObservabilityEnabled && c.ObservabilityOutputDir != ""
}

// ignoredExport lists the export settings c has given when
// ObservabilityEnabled is false, then the rotation settings given when no
// file is written (writesTelemetryFile), leaving out those with a value
// Validate refuses. The one rule of the settings accepted and unused.
func (c Config) ignoredExport() []string {
	refused := map[string]bool{}
	var ce *ConfigurationError
	if errors.As(c.validate(checks{}), &ce) {
		for _, p := range ce.Problems {
			refused[p.YAMLKey] = true
		}
	}
	var ignored []string
	if !c.ObservabilityEnabled {
		for _, s := range exportSettings {
			if s.given(c) && !refused[s.key] {
				ignored = append(ignored, s.key)
			}
		}
	}
	if !c.writesTelemetryFile() {
		for _, s := range rotationSettings {
			if s.given(c) && !refused[s.key] {
				ignored = append(ignored, s.key)
			}
		}
	}
	return ignored
}

// isRotationSetting reports whether key is one of rotationSettings.
func isRotationSetting(key string) bool {
	for _, s := range rotationSettings {
		if s.key == key {
			return true
		}
	}
	return false
}

// checkTableName returns "" when name is "table", "schema.table" or
// "catalog.schema.table" (exactly the last when full) with ASCII letters,
// digits and underscores, else what is wrong.
func checkTableName(name string, full bool) string {
	parts := strings.Split(name, ".")
	if len(parts) > 3 {
		return fmt.Sprintf("has %d dot-separated parts; must be catalog.schema.table (or table / schema.table when not sending)", len(parts))
	}
	if full && len(parts) == 2 {
		return "names no catalog; sending needs the full name catalog.schema.table"
	}
	if full && len(parts) == 1 {
		return "names no catalog or schema; sending needs the full name catalog.schema.table"
	}
	names := [...]string{"catalog", "schema", "table"}
	for i, p := range parts {
		what := names[3-len(parts)+i]
		if p == "" {
			return fmt.Sprintf("has an empty %s part; must be catalog.schema.table", what)
		}
		for _, r := range p {
			if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return fmt.Sprintf("has %q in the %s part; only ASCII letters, digits and _ are allowed", r, what)
			}
		}
	}
	return ""
}

// checkEndpoint returns "" when ep is http(s)://host[:port] or a schemeless
// host name with a domain or a port (https is assumed), else what is wrong.
func checkEndpoint(ep string) string {
	s, schemeless := assumeHTTPS(ep)
	u, msg := parseURL(s)
	if msg != "" {
		return msg
	}
	if schemeless && notHostName(u) {
		return "has no scheme and is not a host name: write https://<workspace-id>.zerobus.<region>.cloud.databricks.com (or http://host:port for a local plaintext server)"
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "must use https:// (or http:// for a local plaintext server)"
	}
	if u.User != nil {
		return "must not contain user information (user:password@); the service principal's credentials go in ClientID and ClientSecret"
	}
	if u.Host == "" {
		return "has no host"
	}
	if u.Path != "" && u.Path != "/" {
		return "must not have a path; give scheme://host[:port]"
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "must not have a query or fragment; give scheme://host[:port]"
	}
	if u.Scheme == "http" && u.Port() == "" {
		return "is plaintext http:// without a port: give http://host:port (a local server) or use https://"
	}
	return stream.CheckPort(u)
}

// sameHostPort reports whether the endpoint ep and the workspace URL ws
// (both valid) name the same host and port (a scheme's default port when
// none is given).
func sameHostPort(ep, ws string) bool {
	hostPort := func(s string) string {
		s, _ = assumeHTTPS(s)
		u, err := url.Parse(s)
		if err != nil {
			return ""
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
		}
		return strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")) + ":" + port
	}
	a := hostPort(ep)
	return a != "" && a == hostPort(ws)
}

// assumeHTTPS returns s with "https://" in front when it has no scheme (the
// form of a host name Databricks tools accept, e.g. DATABRICKS_HOST), and
// whether it had none. Endpoint and UnityCatalogURL take that form.
func assumeHTTPS(s string) (string, bool) {
	if strings.Contains(s, "://") {
		return s, false
	}
	return "https://" + s, true
}

// notHostName reports whether u, given without a scheme, is no host name
// with a domain or a port (a word, a typo): then it is refused rather than
// taken as https.
func notHostName(u *url.URL) bool {
	return u.User == nil && !strings.Contains(u.Host, ".") && u.Port() == ""
}

// checkWorkspaceURL returns "" when s is http(s)://host[:port][/path] or,
// as for Endpoint (checkEndpoint), a schemeless host name with a domain or
// a port (https is assumed: workspaceURL), else what is wrong.
func checkWorkspaceURL(s string) string {
	full, schemeless := assumeHTTPS(s)
	if schemeless {
		if u, err := url.Parse(full); err == nil && notHostName(u) {
			return "has no scheme and is not a host name: write https://<workspace>.cloud.databricks.com (or http://host:port for a local server)"
		}
	}
	if msg := checkHTTPURL(full); msg != "" {
		return msg
	}
	// The token request sends client_id:client_secret to this URL: in
	// plaintext only to a server given with its port (a local one), as
	// checkEndpoint allows the endpoint.
	if u, err := url.Parse(full); err == nil && u.Scheme == "http" && u.Port() == "" {
		return "is plaintext http:// without a port, and the OAuth token request would send client_secret over it unencrypted: use https:// (or http://host:port for a local server)"
	}
	return ""
}

// workspaceURL is c.UnityCatalogURL with https:// in front when it has
// none (checkWorkspaceURL).
func (c Config) workspaceURL() string {
	if c.UnityCatalogURL == "" {
		return ""
	}
	s, _ := assumeHTTPS(c.UnityCatalogURL)
	return s
}

func checkHTTPURL(s string) string {
	u, msg := parseURL(s)
	if msg != "" {
		return msg
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "must start with https:// (or http:// for a local server)"
	}
	if u.User != nil {
		return "must not contain user information (user:password@)"
	}
	if u.Host == "" {
		return "has no host"
	}
	return stream.CheckPort(u)
}

// checkProxyURL returns "" when s is scheme://[user:password@]host[:port]
// with scheme http or https, else what is wrong.
func checkProxyURL(s string) string {
	u, msg := parseURL(s)
	if msg != "" {
		return msg
	}
	return stream.CheckProxy(u)
}

// userInfoSyntax is what parseURL says of user information that is not
// valid URL syntax. It never quotes the text: that is the password.
const userInfoSyntax = "is not a valid URL: its user information (user:password@, hidden here) " +
	"must be percent-encoded: write / as %2F, ? as %3F, # as %23, @ as %40, % as %25 and a space as %20 " +
	"(an @ in a path, query or fragment is written %40 too)"

// parseURL is url.Parse(s), or "" and what is wrong in words that never
// quote the user information (user:password@) of s. url.Parse's own reason
// quotes the text it choked on, and a password holding "/", "?" or "#"
// ends the host early, so the reason would hold part of the password
// (invalid port ":hunter2" after host). When s has an "@" after "://",
// the user information (up to the last "@", as RedactURL hides it) must
// hold none of "/?#" and parse on its own, and the reason for the rest
// comes from s with the user information replaced. An "@" without a
// "://" before it is refused without a reason from url.Parse too (it would
// take the user name for the scheme).
func parseURL(s string) (*url.URL, string) {
	start := strings.Index(s, "://")
	at := strings.LastIndexByte(s, '@')
	if at >= 0 && (start < 0 || at < start) {
		return nil, "is not a valid URL: it has an @ but no scheme:// before it (write scheme://user:password@host[:port])"
	}
	if at < 0 {
		u, err := url.Parse(s)
		if err != nil {
			return nil, "is not a valid URL: " + urlErrText(err)
		}
		return u, ""
	}
	user := s[start+len("://") : at]
	if strings.ContainsAny(user, "/?#") {
		return nil, userInfoSyntax
	}
	if _, err := url.Parse("http://" + user + "@host"); err != nil {
		return nil, userInfoSyntax
	}
	u, err := url.Parse(s)
	if err == nil {
		return u, ""
	}
	if _, err := url.Parse(s[:start] + "://user@" + s[at+1:]); err != nil {
		return nil, "is not a valid URL: " + urlErrText(err)
	}
	return nil, userInfoSyntax
}

// urlErrText is the reason of a url.Parse failure without the
// *url.Error prefix, which quotes the whole URL (user info included).
// Only for a URL without user information: parseURL.
func urlErrText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// RedactURL returns the URL-ish string s with any user information
// (user:password@) replaced by <redacted>, for messages and printing. It
// works on unparsable input too: everything between the scheme and the
// last '@' is hidden.
func RedactURL(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	start := 0
	if i := strings.Index(s, "://"); i >= 0 && i < at {
		start = i + len("://")
	}
	return s[:start] + redacted + s[at:]
}

// redacted is what printing shows instead of a secret.
const redacted = "<redacted>"

func (c Config) secretShown() string {
	if c.ClientSecret == "" {
		return ""
	}
	return redacted
}

// String describes c on one line with the client secret redacted.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("core.Config{")
	for i, kv := range c.fields() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %v", kv.key, kv.val)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String: %#v never reveals the secret either.
func (c Config) GoString() string { return c.String() }

// Format implements fmt.Formatter so every verb (%v, %+v, %#v, %s, %q)
// prints the redacted form.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", c.String())
		return
	}
	_, _ = f.Write([]byte(c.String()))
}

// LogValue implements slog.LogValuer with the client secret redacted.
func (c Config) LogValue() slog.Value {
	fs := c.fields()
	attrs := make([]slog.Attr, len(fs))
	for i, kv := range fs {
		attrs[i] = slog.Any(kv.key, kv.val)
	}
	return slog.GroupValue(attrs...)
}

type keyVal struct {
	key string
	val any
}

func (c Config) fields() []keyVal {
	return []keyVal{
		{"endpoint", RedactURL(c.Endpoint)},
		{"table_name", c.TableName},
		{"unity_catalog_url", RedactURL(c.UnityCatalogURL)},
		{"client_id", c.ClientID},
		{"client_secret", c.secretShown()},
		{"proxy_url", RedactURL(c.ProxyURL)},
		{"tls_ca_file", c.TLSCAFile},
		{"retry_max_attempts", c.RetryMaxAttempts},
		{"retry_base_delay", retryDelayShown(c.RetryBaseDelay)},
		{"retry_max_delay", retryDelayShown(c.RetryMaxDelay)},
		{"max_inflight_requests", c.MaxInflightRequests},
		{"max_inflight_bytes", c.MaxInflightBytes},
		{"max_message_bytes", c.MaxMessageBytes},
		{"max_record_bytes", c.MaxRecordBytes},
		{"create_timeout", c.CreateTimeout},
		{"ack_timeout", c.AckTimeout},
		{"flush_timeout", c.FlushTimeout},
		{"streams_per_schema", c.StreamsPerSchema},
		{"all_fields_optional", c.AllFieldsOptional},
		{"debug_enabled", c.DebugEnabled},
		{"debug_arrow_enabled", c.DebugArrowEnabled},
		{"debug_protobuf_enabled", c.DebugProtobufEnabled},
		{"debug_kinds", c.DebugKinds()},                             // what the switches above write
		{"debug_kinds_not_applicable", c.debugKindsNotApplicable()}, // asked for, but the transport writes none
		{"debug_output_dir", c.DebugOutputDir},
		{"debug_flush_interval", c.DebugFlushInterval},
		{"debug_max_file_size", c.debugMaxFileSizeShown()},
		{"debug_rotation_interval", c.DebugRotationInterval},
		{"debug_max_files_retained", c.debugMaxFilesRetainedShown()},
		{"debug_arrow_compression", c.DebugArrowCompression},
		{"observability_enabled", c.ObservabilityEnabled},
		{"otlp_endpoint", RedactURL(c.OTLPEndpoint)},
		{"otlp_protocol", c.OTLPProtocol},
		{"observability_output_dir", c.ObservabilityOutputDir},
		{"observability_interval", c.ObservabilityInterval},
		{"log_level", c.LogLevel},
		{"log_file", c.LogFile},
		{"observability_max_file_mb", c.TelemetryMaxFileMB},
		{"observability_max_backups", c.TelemetryMaxBackups},
		{"zerobus_writer_disabled", c.WriterDisabled},
		{"transport", c.Transport},
		{"arrow_flight_compression", c.ArrowFlightCompression},
	}
}

// debugKindsNotApplicable is what the logged config shows of the debug kinds
// asked for that the transport cannot write: ["protobuf"] on arrow_flight,
// else empty.
func (c Config) debugKindsNotApplicable() []string {
	if c.debugProtoNotApplicable() {
		return []string{"protobuf"}
	}
	return []string{}
}

// retryDelayShown is a retry delay as printed: NoRetryDelay as the 0 that
// asked for it ("0 (no wait)"), not the 1ns that stands for it.
func retryDelayShown(d time.Duration) any {
	if d == NoRetryDelay {
		return "0 (no wait)"
	}
	return d
}

// debugMaxFileSizeShown is DebugMaxFileSize as printed: DebugRotateEveryWrite
// as the 0 that asked for it, not the 1 byte that stands for it.
func (c Config) debugMaxFileSizeShown() any {
	if c.DebugMaxFileSize == DebugRotateEveryWrite {
		return "0 (rotate every write)"
	}
	return c.DebugMaxFileSize
}

// debugMaxFilesRetainedShown is DebugMaxFilesRetained as printed:
// DebugRetainNone as the 0 that asked for it, told apart from an unset 0
// (the default).
func (c Config) debugMaxFilesRetainedShown() any {
	if c.DebugMaxFilesRetained == DebugRetainNone {
		return "0 (keep none)"
	}
	return c.DebugMaxFilesRetained
}

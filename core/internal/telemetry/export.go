package telemetry

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
)

// Defaults of ExportConfig and of the exporters Setup builds.
const (
	// DefaultExportInterval is how often metrics are exported when
	// ExportConfig.Interval is zero.
	DefaultExportInterval = 10 * time.Second
	// DefaultProtocol is the OTLP transport used when ExportConfig.Protocol
	// is empty.
	DefaultProtocol = "grpc"
	// DefaultLogLevel is the level of Providers.Logger when
	// ExportConfig.LogLevel is empty.
	DefaultLogLevel = "info"
	// DefaultServiceName is the service.name resource attribute unless
	// OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say otherwise.
	DefaultServiceName = "zerobus-wrapper"
	// DefaultShutdownTimeout bounds Providers.Shutdown when its context has
	// no deadline, so a collector that is down cannot hang an exit.
	DefaultShutdownTimeout = 30 * time.Second

	// downGrace is all Shutdown gives the final export when the collector
	// refuses connections (see collectorDown): its retries could only wait.
	downGrace = 500 * time.Millisecond
	// probeTimeout bounds collectorDown's connection attempt.
	probeTimeout = time.Second

	// exportTimeout bounds one export attempt (one HTTP request or RPC).
	exportTimeout = 10 * time.Second
	// retryMaxElapsed bounds the retries of one export to an unreachable or
	// failing collector; the batch is then dropped (telemetry never blocks or
	// fails data transmission).
	retryMaxElapsed = 15 * time.Second

	// Files written in ExportConfig.OutputDir.
	MetricsFileName = "metrics.jsonl"
	TracesFileName  = "traces.jsonl"
	LogsFileName    = "logs.jsonl"
)

// ExportConfig sets up OpenTelemetry export for applications that have no
// OpenTelemetry SDK of their own. The zero value is valid and disabled.
type ExportConfig struct {
	// Enabled turns export on. Default false: Setup returns no-op providers
	// and a stderr logger, and touches neither the network nor the disk.
	Enabled bool `yaml:"enabled" json:"enabled"`

	// Endpoint is the OTLP collector base URL, e.g. "http://127.0.0.1:4317"
	// for gRPC or "http://127.0.0.1:4318" for HTTP. The scheme decides TLS:
	// "http" is plaintext, "https" uses TLS with the system roots. For HTTP
	// the signal paths /v1/metrics and /v1/traces are appended to the URL's
	// path. Default "": the standard OTEL_EXPORTER_OTLP_ENDPOINT (and the
	// per-signal variants) if set, else http://localhost:4317 (grpc) or
	// http://localhost:4318 (http), unless OutputDir is set, in which case
	// only the files are written. Setting both Endpoint and OutputDir
	// exports to both.
	Endpoint string `yaml:"endpoint" json:"endpoint"`

	// Protocol is the OTLP transport: "grpc" or "http" (OTLP/HTTP with
	// protobuf bodies; "http/protobuf" is accepted as a synonym).
	// Default "grpc".
	Protocol string `yaml:"protocol" json:"protocol"`

	// OutputDir turns on file mode: metrics and spans are written as OTLP
	// JSON, one export request per line, to OutputDir/metrics.jsonl and
	// OutputDir/traces.jsonl, and the logger writes JSON lines to
	// OutputDir/logs.jsonl (unless NoLogger). The directory is created if
	// missing; files are appended to and rotated at MaxFileMB. Default "":
	// no files.
	OutputDir string `yaml:"output_dir" json:"output_dir"`

	// Interval is the metric export interval. Default 10s. Spans are
	// exported in batches as they end, independently of Interval.
	Interval time.Duration `yaml:"interval" json:"interval"`

	// LogLevel is the minimum level of Providers.Logger: "debug", "info",
	// "warn" or "error" (case-insensitive). Default "info". The logger writes
	// JSON to OutputDir/logs.jsonl in file mode, to LogFile if set, and to
	// LogHandler if set; to stderr when none of these is.
	LogLevel string `yaml:"log_level" json:"log_level"`

	// LogFile, when set, is a file the logger appends JSON lines to, rotated
	// like the files in OutputDir. It is written whether or not Enabled is
	// true. Default "": none.
	LogFile string `yaml:"log_file" json:"log_file"`

	// MaxFileMB is the size in MiB at which each file written (metrics.jsonl,
	// traces.jsonl, logs.jsonl, LogFile) is rotated: renamed with a
	// timestamp (name-2006-01-02T15-04-05.000.ext) and started afresh.
	// Default DefaultMaxFileMB.
	MaxFileMB int `yaml:"max_file_mb" json:"max_file_mb"`

	// MaxBackups is how many rotated copies of each file are kept; older
	// ones are deleted. Default DefaultMaxBackups.
	MaxBackups int `yaml:"max_backups" json:"max_backups"`

	// LogHandler, when set, also receives every record at LogLevel or above
	// (the Python binding queues them for Python logging); stderr is then
	// not written.
	LogHandler slog.Handler `yaml:"-" json:"-"`

	// Version, when set, is the service.version resource attribute and the
	// version of the instrumentation scope (the library's version).
	Version string `yaml:"-" json:"-"`

	// NoLogger is set when the caller brings its own logger: neither
	// logs.jsonl nor LogFile is created, and Providers.Logger writes to
	// LogHandler only (the caller's logger's handler; nothing if unset), so
	// OpenTelemetry's own errors reach the caller's logger.
	NoLogger bool `yaml:"-" json:"-"`
}

// FieldError is one invalid ExportConfig field, as reported by Validate and
// Setup (joined with errors.Join when there are several).
type FieldError struct {
	Field   string // ExportConfig field name, e.g. "Endpoint"
	Message string // what is wrong and what would be valid
}

func (e *FieldError) Error() string { return "telemetry: " + e.Field + " " + e.Message }

// Validate reports every problem of c at once (joined *FieldError values),
// or nil. Fields are checked even when Enabled is false, so typos surface
// early.
func (c ExportConfig) Validate() error {
	var errs []error
	if _, err := c.protocol(); err != nil {
		errs = append(errs, err)
	}
	if c.Endpoint != "" {
		ep, err := parseEndpoint(c.Endpoint)
		if err != nil {
			errs = append(errs, err)
		} else if proto, _ := c.protocol(); proto == "grpc" && ep.path != "" {
			errs = append(errs, &FieldError{"Endpoint", fmt.Sprintf("%q has a path, which OTLP/gRPC cannot use; give http(s)://host:port, or set Protocol to \"http\"", c.Endpoint)})
		}
	}
	if c.Interval < 0 {
		errs = append(errs, &FieldError{"Interval", fmt.Sprintf("is %v; use 0 for the default %v or a positive duration", c.Interval, DefaultExportInterval)})
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.MaxFileMB < 0 {
		errs = append(errs, &FieldError{"MaxFileMB", fmt.Sprintf("is %d; use 0 for the default %d or a positive number of MiB", c.MaxFileMB, DefaultMaxFileMB)})
	}
	if c.MaxBackups < 0 {
		errs = append(errs, &FieldError{"MaxBackups", fmt.Sprintf("is %d; use 0 for the default %d or a positive count", c.MaxBackups, DefaultMaxBackups)})
	}
	return errors.Join(errs...)
}

func (c ExportConfig) protocol() (string, error) {
	switch strings.ToLower(strings.TrimSpace(c.Protocol)) {
	case "", "grpc":
		return "grpc", nil
	case "http", "http/protobuf":
		return "http", nil
	}
	return "", &FieldError{"Protocol", fmt.Sprintf("is %q; use \"grpc\" or \"http\"", c.Protocol)}
}

// rotation returns MaxFileMB and MaxBackups with defaults applied.
func (c ExportConfig) rotation() (maxMB, maxBackups int) {
	maxMB, maxBackups = c.MaxFileMB, c.MaxBackups
	if maxMB <= 0 {
		maxMB = DefaultMaxFileMB
	}
	if maxBackups <= 0 {
		maxBackups = DefaultMaxBackups
	}
	return maxMB, maxBackups
}

func (c ExportConfig) interval() time.Duration {
	if c.Interval <= 0 {
		return DefaultExportInterval
	}
	return c.Interval
}

// ParseLogLevel maps "debug", "info", "warn" (or "warning") and "error",
// case-insensitive, to a slog level; "" is DefaultLogLevel.
func ParseLogLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, &FieldError{"LogLevel", fmt.Sprintf("is %q; use debug, info, warn or error", s)}
}

// endpoint is a parsed ExportConfig.Endpoint.
type endpoint struct {
	host     string // host:port
	path     string // base path without a trailing slash, "" for none
	insecure bool
}

func parseEndpoint(s string) (endpoint, error) {
	if !strings.Contains(s, "://") && !strings.Contains(s, "@") {
		// Shown without a query or fragment, which may hold credentials
		// (and which an endpoint must not carry).
		if i := strings.IndexAny(s, "?#"); i >= 0 {
			s = s[:i]
			return endpoint{}, &FieldError{"Endpoint", fmt.Sprintf("%q (query and fragment not shown) has no scheme and must not carry a query or fragment; write http://%s for plaintext or https://%s for TLS", s, s, s)}
		}
		return endpoint{}, &FieldError{"Endpoint", fmt.Sprintf("%q has no scheme; write http://%s for plaintext or https://%s for TLS", s, s, s)}
	}
	u, err := url.Parse(s)
	if err != nil {
		// Not echoed: an unparsable URL cannot be stripped of credentials.
		return endpoint{}, &FieldError{"Endpoint", "is not a valid URL; want one like http://127.0.0.1:4317"}
	}
	if u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return endpoint{}, &FieldError{"Endpoint", fmt.Sprintf("%q is not a URL like http://127.0.0.1:4317 (scheme http or https, then host:port)", redactURL(u))}
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return endpoint{}, &FieldError{"Endpoint", fmt.Sprintf("%q: port %s is not a TCP port (1-65535)", redactURL(u), p)}
		}
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return endpoint{}, &FieldError{"Endpoint", fmt.Sprintf("%q must not carry user info, a query or a fragment", redactURL(u))}
	}
	return endpoint{host: u.Host, path: strings.TrimRight(u.Path, "/"), insecure: u.Scheme == "http"}, nil
}

// redactURL prints u without user info, query or fragment, which may hold
// credentials.
func redactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	if c.Opaque != "" {
		// "user:s3cret@host:4317" parses as scheme "user" and the opaque
		// "s3cret@host:4317": not shown.
		c.Opaque = "…"
	}
	return c.String()
}

// Providers are the OpenTelemetry providers and logger built by Setup. Hand
// MeterProvider, TracerProvider and Logger to the library (and to your own
// instrumentation if you like); call Shutdown before exit to flush.
// Setup does not register them as the otel globals.
type Providers struct {
	// MeterProvider exports metrics every ExportConfig.Interval.
	MeterProvider metric.MeterProvider
	// TracerProvider exports spans in batches, in the background.
	TracerProvider trace.TracerProvider
	// Logger writes JSON at ExportConfig.LogLevel and adds trace_id and
	// span_id to records logged with a span's context.
	Logger *slog.Logger

	elog      *exportLog                    // export failures' reporter (nil when disabled)
	flushers  []func(context.Context) error // ForceFlush of the SDK providers
	shutdowns []func(context.Context) error // run concurrently by Shutdown
	closers   []func() error                // then these: the files

	collector *endpoint    // the OTLP collector, when Setup knows its address
	otelLog   *slog.Logger // OpenTelemetry's internal records' destination while this is the latest (otellog.go)

	once        sync.Once
	shutdownErr error
}

// ForceFlush exports everything recorded so far and blocks until done or
// until ctx ends. Safe for concurrent use; a no-op for disabled providers.
// An export that fails during the call is its error (and is logged, see
// exportlog.go).
func (p *Providers) ForceFlush(ctx context.Context) error {
	n0 := p.failures()
	var errs []error
	for _, f := range p.flushers {
		errs = append(errs, f(ctx))
	}
	return p.exportErr(errors.Join(errs...), n0)
}

// failures is the number of failed exports so far.
func (p *Providers) failures() int {
	if p.elog == nil {
		return 0
	}
	n, _ := p.elog.count()
	return n
}

// exportErr is err, or if nil and exports failed since failures was n0,
// the last export's error.
func (p *Providers) exportErr(err error, n0 int) error {
	if err != nil || p.elog == nil {
		return err
	}
	if n, last := p.elog.count(); n > n0 {
		return last
	}
	return nil
}

// Shutdown flushes and stops the exporters and closes the files. It blocks
// until done, until ctx ends or, if ctx has no deadline, for at most
// DefaultShutdownTimeout; spans and metrics not exported by then are
// dropped and in-flight exports are aborted. A collector that refuses
// connections (collectorDown) gets only downGrace: its exports would fail
// and retry until the end anyway. It is idempotent: later calls return the
// first call's result. Telemetry recorded after Shutdown is discarded.
// When the final exports fail or run out of time, Shutdown also logs one
// warning (MsgExportFailedClose) on Logger before it closes the files, so
// log_file and logs.jsonl record it.
func (p *Providers) Shutdown(ctx context.Context) error {
	p.once.Do(func() {
		n0 := p.failures()
		if p.elog != nil {
			p.elog.startClosing()
		}
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, DefaultShutdownTimeout)
			defer cancel()
		}
		// The probe takes at most what leaves the exports downGrace, so a
		// collector that drops packets cannot eat a short budget.
		if dl, _ := ctx.Deadline(); time.Until(dl) > downGrace &&
			collectorDown(ctx, p.collector, min(probeTimeout, time.Until(dl)-downGrace)) {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, downGrace)
			defer cancel()
		}
		// Metrics and traces flush side by side, sharing ctx's budget.
		errs := make([]error, len(p.shutdowns), len(p.shutdowns)+1)
		var wg sync.WaitGroup
		for i, f := range p.shutdowns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = f(ctx)
			}()
		}
		wg.Wait()
		err := p.exportErr(errors.Join(errs...), n0)
		if p.elog != nil {
			p.elog.closed(err) // before the log files close
		}
		releaseOTelLogger(p.otelLog)
		// After the final exports have been written into the files.
		cerrs := []error{err}
		for _, c := range p.closers {
			cerrs = append(cerrs, c())
		}
		p.shutdownErr = errors.Join(cerrs...)
	})
	return p.shutdownErr
}

// Setup builds OpenTelemetry providers that export over OTLP (gRPC or HTTP)
// and/or to OTLP JSON files, as cfg says, plus a JSON logger.
//
// Setup does not block on the network: exporters connect lazily, metrics are
// exported by a periodic reader and spans by a batch span processor, each in
// the background with bounded timeouts and retries, so a collector that is
// down or slow never delays or fails data transmission (its exports are
// dropped and logged on Providers.Logger, once per episode: exportlog.go).
//
// When cfg.Enabled is false, Setup returns no-op providers and the logger
// alone (JSON to stderr at cfg.LogLevel); it touches neither the network nor
// the disk. Invalid fields are reported as joined *FieldError values. The
// caller owns the result and must call Shutdown.
func Setup(ctx context.Context, cfg ExportConfig) (_ *Providers, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	level, _ := ParseLogLevel(cfg.LogLevel) // validated above
	maxMB, maxBackups := cfg.rotation()

	// cleanup releases, in reverse order, what was built if Setup fails.
	var cleanup []func(context.Context) error
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				_ = cleanup[i](context.Background())
			}
		}
	}()

	// The logger's destinations: JSON lines to logs.jsonl (file mode) and
	// LogFile, records to LogHandler; stderr if none.
	var (
		logHandlers []slog.Handler
		closers     []func() error
	)
	jsonTo := func(w io.Writer) slog.Handler {
		return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	}
	if cfg.LogFile != "" && !cfg.NoLogger {
		lf, err := openRotating(cfg.LogFile, maxMB, maxBackups, "LogFile")
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, func(context.Context) error { return lf.Close() })
		closers = append(closers, lf.Close)
		logHandlers = append(logHandlers, jsonTo(lf))
	}
	if cfg.LogHandler != nil {
		logHandlers = append(logHandlers, cfg.LogHandler)
	}
	newLogger := func(extra ...slog.Handler) *slog.Logger {
		hs := append(slices.Clone(logHandlers), extra...)
		if len(hs) == 0 && cfg.NoLogger {
			return slog.New(slog.DiscardHandler)
		}
		if len(hs) == 0 {
			hs = []slog.Handler{jsonTo(os.Stderr)}
		}
		return slog.New(CorrelatingHandler(fanout(level, hs)))
	}
	if !cfg.Enabled {
		return &Providers{
			MeterProvider:  metricnoop.NewMeterProvider(),
			TracerProvider: tracenoop.NewTracerProvider(),
			Logger:         newLogger(),
			closers:        closers,
		}, nil
	}

	res, err := newResource(ctx, cfg.Version)
	if res == nil {
		return nil, fmt.Errorf("telemetry: building the resource: %w", err)
	}
	// A partial error (e.g. a malformed OTEL_RESOURCE_ATTRIBUTES entry)
	// still yields a usable resource; keep it.

	var (
		logExtra []slog.Handler
		sink     *fileSink
		mexps    []sdkmetric.Exporter
		texps    []sdktrace.SpanExporter
	)
	if cfg.OutputDir != "" {
		if sink, err = newFileSink(cfg.OutputDir, maxMB, maxBackups, !cfg.NoLogger); err != nil {
			return nil, err
		}
		cleanup = append(cleanup, func(context.Context) error { return sink.Close() })
		if sink.logs != nil {
			logExtra = append(logExtra, jsonTo(sink.logs))
		}
		me, te, err := fileExporters(ctx, sink)
		if err != nil {
			return nil, err
		}
		cleanup = append(cleanup, me.Shutdown, te.Shutdown)
		mexps, texps = append(mexps, me), append(texps, te)
	}
	var collector *endpoint
	var otelLog *slog.Logger
	if cfg.Endpoint != "" || sink == nil {
		// The exporters read OTEL_EXPORTER_OTLP_*: what they cannot parse
		// is logged here, redacted (otellog.go), not printed to stderr.
		otelLog = newLogger(logExtra...)
		useOTelLogger(otelLog)
		proto, _ := cfg.protocol() // validated above
		me, te, ep, err := networkExporters(ctx, proto, cfg.Endpoint)
		if err != nil {
			releaseOTelLogger(otelLog)
			return nil, err
		}
		mexps, texps, collector = append(mexps, me), append(texps, te), ep
	}

	// Nothing below fails, so the readers' and processors' goroutines are
	// only started once Setup is sure to succeed.
	logger := newLogger(logExtra...)
	elog := newExportLog(logger)
	dests := []string{"otlp"}
	if sink != nil {
		dests = []string{"file", "otlp"} // the order of mexps and texps
	}
	for i := range mexps {
		mexps[i] = &reportingMetricExporter{Exporter: mexps[i], log: elog, name: "metrics " + dests[i]}
		texps[i] = &reportingSpanExporter{SpanExporter: texps[i], log: elog, name: "traces " + dests[i]}
	}
	mopts := []sdkmetric.Option{sdkmetric.WithResource(res)}
	for _, me := range mexps {
		mopts = append(mopts, sdkmetric.WithReader(sdkmetric.NewPeriodicReader(me,
			sdkmetric.WithInterval(cfg.interval()),
			sdkmetric.WithTimeout(exportTimeout+retryMaxElapsed))))
	}
	mp := sdkmetric.NewMeterProvider(mopts...)
	topts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	for _, te := range texps {
		topts = append(topts, sdktrace.WithSpanProcessor(sdktrace.NewBatchSpanProcessor(te,
			sdktrace.WithExportTimeout(exportTimeout+retryMaxElapsed))))
	}
	tp := sdktrace.NewTracerProvider(topts...)

	p := &Providers{
		MeterProvider:  mp,
		TracerProvider: tp,
		Logger:         logger,
		elog:           elog,
		collector:      collector,
		otelLog:        otelLog,
		flushers:       []func(context.Context) error{tp.ForceFlush, mp.ForceFlush},
		shutdowns: []func(context.Context) error{
			mp.Shutdown, // also aborts an in-flight periodic export
			func(ctx context.Context) error {
				err := tp.Shutdown(ctx)
				if ctx.Err() != nil {
					// The batch processor gave up waiting but its export
					// may still be retrying; stopping the exporter aborts
					// it and closes its connection now.
					for _, te := range texps {
						_ = te.Shutdown(ctx)
					}
				}
				return err
			},
		},
	}
	if sink != nil {
		p.closers = append(p.closers, sink.Close)
	}
	p.closers = append(p.closers, closers...)
	return p, nil
}

// newResource is the resource of every metric and span of one Setup:
// service.name (DefaultServiceName), service.version (version, when set),
// a service.instance.id of its own (a random UUID: every Setup exports its
// own cumulative series, which a backend must not merge with another
// wrapper's or process's), host.name, process.pid, the process's
// executable and runtime, and telemetry.sdk.*. OTEL_SERVICE_NAME and
// OTEL_RESOURCE_ATTRIBUTES win over all of them (a service.instance.id set
// there is kept).
func newResource(ctx context.Context, version string) (*resource.Resource, error) {
	attrs := []attribute.KeyValue{
		attribute.String("service.name", DefaultServiceName),
		attribute.String("service.instance.id", newInstanceID()),
	}
	if version != "" {
		attrs = append(attrs, attribute.String("service.version", version))
	}
	return resource.New(ctx,
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithProcessPID(),
		resource.WithProcessExecutableName(),
		resource.WithProcessRuntimeName(),
		resource.WithProcessRuntimeVersion(),
		resource.WithAttributes(attrs...),
		resource.WithFromEnv(), // OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES win
	)
}

// newInstanceID is a random (version 4) UUID, as the semantic conventions
// recommend for service.instance.id.
func newInstanceID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// retry settings shared by the network exporters: a few quick attempts, then
// drop the batch.
var (
	retryGRPCMetric = otlpmetricgrpc.RetryConfig{Enabled: true, InitialInterval: time.Second, MaxInterval: 5 * time.Second, MaxElapsedTime: retryMaxElapsed}
	retryGRPCTrace  = otlptracegrpc.RetryConfig(retryGRPCMetric)
	retryHTTPMetric = otlpmetrichttp.RetryConfig(retryGRPCMetric)
	retryHTTPTrace  = otlptracehttp.RetryConfig(retryGRPCMetric)
)

// networkExporters builds OTLP exporters for proto ("grpc" or "http") to
// rawEndpoint ("" means the environment or the OTLP default), and returns
// the collector's address (nil when the environment chooses it).
func networkExporters(ctx context.Context, proto, rawEndpoint string) (_ sdkmetric.Exporter, _ sdktrace.SpanExporter, _ *endpoint, err error) {
	var ep *endpoint
	switch {
	case rawEndpoint != "":
		e, err := parseEndpoint(rawEndpoint)
		if err != nil {
			return nil, nil, nil, err
		}
		ep = &e
	case !otlpEnvEndpointSet():
		// The OTLP spec default; spelled out so it is plaintext, as
		// collectors on localhost are.
		e := endpoint{host: "localhost:4317", insecure: true}
		if proto == "http" {
			e.host = "localhost:4318"
		}
		ep = &e
	}

	switch proto {
	case "http":
		mopts := []otlpmetrichttp.Option{otlpmetrichttp.WithTimeout(exportTimeout), otlpmetrichttp.WithRetry(retryHTTPMetric)}
		topts := []otlptracehttp.Option{otlptracehttp.WithTimeout(exportTimeout), otlptracehttp.WithRetry(retryHTTPTrace)}
		if ep != nil {
			mopts = append(mopts, otlpmetrichttp.WithEndpoint(ep.host), otlpmetrichttp.WithURLPath(ep.path+"/v1/metrics"))
			topts = append(topts, otlptracehttp.WithEndpoint(ep.host), otlptracehttp.WithURLPath(ep.path+"/v1/traces"))
			if ep.insecure {
				mopts = append(mopts, otlpmetrichttp.WithInsecure())
				topts = append(topts, otlptracehttp.WithInsecure())
			}
		}
		me, err := otlpmetrichttp.New(ctx, mopts...)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("telemetry: OTLP/HTTP metric exporter: %w", err)
		}
		te, err := otlptracehttp.New(ctx, topts...)
		if err != nil {
			_ = me.Shutdown(ctx)
			return nil, nil, nil, fmt.Errorf("telemetry: OTLP/HTTP trace exporter: %w", err)
		}
		return me, te, ep, nil
	default:
		mopts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithTimeout(exportTimeout), otlpmetricgrpc.WithRetry(retryGRPCMetric)}
		topts := []otlptracegrpc.Option{otlptracegrpc.WithTimeout(exportTimeout), otlptracegrpc.WithRetry(retryGRPCTrace)}
		if ep != nil {
			mopts = append(mopts, otlpmetricgrpc.WithEndpoint(ep.host))
			topts = append(topts, otlptracegrpc.WithEndpoint(ep.host))
			if ep.insecure {
				mopts = append(mopts, otlpmetricgrpc.WithInsecure())
				topts = append(topts, otlptracegrpc.WithInsecure())
			}
		}
		me, err := otlpmetricgrpc.New(ctx, mopts...)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("telemetry: OTLP/gRPC metric exporter: %w", err)
		}
		te, err := otlptracegrpc.New(ctx, topts...)
		if err != nil {
			_ = me.Shutdown(ctx)
			return nil, nil, nil, fmt.Errorf("telemetry: OTLP/gRPC trace exporter: %w", err)
		}
		return me, te, ep, nil
	}
}

// otlpEnvEndpointSet reports whether the standard environment variables
// choose an OTLP endpoint, which the exporters then read themselves.
func otlpEnvEndpointSet() bool {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		if os.Getenv(k) != "" {
			return true
		}
	}
	return false
}

// dialProbe is collectorDown's connection attempt (a test replaces it).
var dialProbe = (&net.Dialer{}).DialContext

// collectorDown reports whether the OTLP collector at ep refuses
// connections right now: a TCP connection to it fails or takes over
// budget. It says false (unknown) without an address (ep nil: the
// OTEL_EXPORTER_OTLP_* variables choose it), without a port, or when a proxy
// of the environment (HTTPS_PROXY, HTTP_PROXY) would carry the exports.
func collectorDown(ctx context.Context, ep *endpoint, budget time.Duration) bool {
	if ep == nil {
		return false
	}
	if _, port, err := net.SplitHostPort(ep.host); err != nil || port == "" {
		return false
	}
	for _, scheme := range []string{"http", "https"} {
		if u, err := http.ProxyFromEnvironment(&http.Request{URL: &url.URL{Scheme: scheme, Host: ep.host}}); err != nil || u != nil {
			return false
		}
	}
	dctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	conn, err := dialProbe(dctx, "tcp", ep.host)
	if err != nil {
		return ctx.Err() == nil // the collector failed, not the caller's ctx
	}
	_ = conn.Close()
	return false
}

package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// Defaults of the telemetry file rotation (Config.TelemetryMaxFileMB and
// TelemetryMaxBackups).
const (
	DefaultTelemetryMaxFileMB  = telemetry.DefaultMaxFileMB
	DefaultTelemetryMaxBackups = telemetry.DefaultMaxBackups
)

// Telemetry is OpenTelemetry export built by SetupTelemetry for applications
// that have no OpenTelemetry SDK of their own. Pass Options() to New so the
// Wrapper records into it, and call Shutdown before the program exits so the
// last metrics and spans are exported.
//
// A Wrapper never needs a Telemetry: by default it uses the otel global
// providers (which the application may have set up itself) and logs nothing.
type Telemetry struct {
	// MeterProvider exports metrics every Config.ObservabilityInterval.
	MeterProvider metric.MeterProvider
	// TracerProvider exports spans in batches in the background.
	TracerProvider trace.TracerProvider
	// Logger writes JSON at Config.LogLevel to ObservabilityOutputDir/
	// logs.jsonl in file mode, to Config.LogFile if set and to the handler
	// of TelemetryLogHandler if given; to stderr when none of these is.
	// Records logged with a span's context carry trace_id and span_id.
	Logger *slog.Logger

	p *telemetry.Providers
}

// telemetryFields maps the Config fields SetupTelemetry reads to the
// ExportConfig fields they become.
var telemetryFields = map[string]string{
	"ObservabilityEnabled":   "Enabled",
	"OTLPEndpoint":           "Endpoint",
	"OTLPProtocol":           "Protocol",
	"ObservabilityOutputDir": "OutputDir",
	"ObservabilityInterval":  "Interval",
	"LogLevel":               "LogLevel",
	"LogFile":                "LogFile",
	"TelemetryMaxFileMB":     "MaxFileMB",
	"TelemetryMaxBackups":    "MaxBackups",
}

// TelemetryOption changes what SetupTelemetry builds beyond Config.
type TelemetryOption func(*telemetry.ExportConfig)

// TelemetryLogHandler also passes every record at Config.LogLevel or above
// to h (besides the files), and stops the logger writing to stderr. The
// Python binding uses it to queue records for Python's logging.
func TelemetryLogHandler(h slog.Handler) TelemetryOption {
	return func(c *telemetry.ExportConfig) { c.LogHandler = h }
}

// SetupTelemetry builds OpenTelemetry providers and a logger from cfg's
// observability fields (ObservabilityEnabled, OTLPEndpoint, OTLPProtocol,
// ObservabilityOutputDir, ObservabilityInterval, LogLevel, LogFile,
// TelemetryMaxFileMB, TelemetryMaxBackups; the others are ignored):
//
//   - OTLPEndpoint set: metrics and spans go over OTLP/gRPC (default) or
//     OTLP/HTTP to that collector ("http://" is plaintext, "https://" TLS).
//   - ObservabilityOutputDir set: they are also written as OTLP JSON lines
//     to metrics.jsonl and traces.jsonl there, and logs to logs.jsonl.
//   - ObservabilityEnabled false: no-op providers and the logger only.
//   - LogFile set: the logger also appends JSON lines there.
//
// Every file is rotated at TelemetryMaxFileMB (renamed name-<time>.ext),
// keeping TelemetryMaxBackups old copies. An open file path is shared by
// the whole process (two Telemetry writing one directory share its
// rotation). Rotation runs in the write that crosses the limit: no
// goroutine outlives Shutdown.
//
// With OTLP export, OpenTelemetry's process-wide internal logger
// (otel.SetLogger) is replaced by one that reports to the logger of the
// latest SetupTelemetry, redacted: an OTEL_EXPORTER_OTLP_* value the SDK
// cannot parse (a header holding an API key, an endpoint with
// user:password) is named but never printed, where the SDK's default
// logger wrote it raw to stderr. Once that Telemetry is shut down (and no
// later one is live), those records are dropped; the replaced logger is
// not restored (OpenTelemetry offers no way to read it).
//
// Export runs in the background with bounded timeouts and retries: a
// collector that is down or slow never blocks or fails SendBatch. The
// providers are not registered as the otel globals, nor is an error
// handler. Export failures are logged by the Telemetry's Logger (redacted),
// not handed to OpenTelemetry's process-wide handler: the first failure of
// each exporter as a warning, then at most one line a minute with the
// count, and one line when exports succeed again. Invalid fields are
// reported together as a *ConfigurationError. It does not block on the
// network. The caller must call Shutdown.
func SetupTelemetry(ctx context.Context, cfg Config, opts ...TelemetryOption) (*Telemetry, error) {
	if err := cfg.validateTelemetry(checks{}); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ec := telemetry.ExportConfig{
		Enabled:    cfg.ObservabilityEnabled,
		Endpoint:   cfg.OTLPEndpoint,
		Protocol:   cfg.OTLPProtocol,
		OutputDir:  cfg.ObservabilityOutputDir,
		Interval:   cfg.ObservabilityInterval,
		LogLevel:   cfg.LogLevel,
		LogFile:    cfg.LogFile,
		MaxFileMB:  cfg.TelemetryMaxFileMB,
		MaxBackups: cfg.TelemetryMaxBackups,
		Version:    Version,
	}
	for _, o := range opts {
		if o != nil {
			o(&ec)
		}
	}
	p, err := telemetry.Setup(ctx, ec)
	if err != nil {
		return nil, telemetrySetupError(err)
	}
	return &Telemetry{MeterProvider: p.MeterProvider, TracerProvider: p.TracerProvider, Logger: p.Logger, p: p}, nil
}

// validateTelemetry is validate reporting the problems of the fields
// SetupTelemetry reads only.
func (c Config) validateTelemetry(ck checks) error {
	var ce *ConfigurationError
	if err := c.validate(ck); !errors.As(err, &ce) {
		return nil
	}
	ps := slices.DeleteFunc(slices.Clone(ce.Problems), func(p ConfigProblem) bool {
		_, ok := telemetryFields[p.Field]
		return !ok
	})
	if len(ps) == 0 {
		return nil
	}
	return &ConfigurationError{Problems: ps}
}

// TelemetryConfigFromEnv is DefaultConfig with the fields SetupTelemetry
// reads (log_level, log_file, the observability settings) taken from the
// environment through lookup, and no other: for a program that sends
// nothing (zerobus local) but logs like one that does. Bad values of those
// variables are reported as by ApplyEnv and Validate, also those of export
// settings that OTLP_ENABLED, unset or false, leaves unused (the one rule:
// an invalid value is an error, a valid unused one is not).
func TelemetryConfigFromEnv(lookup func(string) (string, bool)) (Config, error) {
	names := map[string]bool{}
	for _, s := range settings {
		if _, ok := telemetryFields[s.field]; ok {
			for _, n := range s.env {
				names[n] = true
			}
		}
	}
	cfg := DefaultConfig()
	err := cfg.ApplyEnv(func(name string) (string, bool) {
		if !names[name] {
			return "", false
		}
		return lookup(name)
	})
	if err == nil {
		if err = cfg.validateTelemetry(checks{}); err != nil {
			err.(*ConfigurationError).Source = "environment"
		}
	}
	return cfg, err
}

// telemetrySetupError turns the internal package's field errors into a
// *ConfigurationError naming Config fields.
func telemetrySetupError(err error) error {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	var ps []ConfigProblem
	for _, e := range errs {
		var fe *telemetry.FieldError
		if !errors.As(e, &fe) {
			return fmt.Errorf("zerobus: setting up telemetry: %w", err)
		}
		for field, internal := range telemetryFields {
			if internal == fe.Field {
				ps = append(ps, problemFor(field, fe.Message))
			}
		}
	}
	return &ConfigurationError{Problems: ps}
}

// Options returns the options that make New record into t: WithMeterProvider,
// WithTracerProvider and WithLogger. The caller shuts t down; WithTelemetry
// hands that to the Wrapper instead.
func (t *Telemetry) Options() []Option {
	if t == nil {
		return nil
	}
	return []Option{WithMeterProvider(t.MeterProvider), WithTracerProvider(t.TracerProvider), WithLogger(t.Logger)}
}

// ForceFlush exports everything recorded so far, blocking until done or ctx
// ends. Safe for concurrent use. A nil ctx counts as context.Background();
// a nil or zero Telemetry has nothing to flush.
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	if t == nil || t.p == nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return t.p.ForceFlush(ctx)
}

// Shutdown exports what is left and stops the exporters, blocking until done,
// until ctx ends or, if ctx has no deadline, for at most 30s; whatever is not
// exported by then is dropped. A collector that refuses connections (a TCP
// connection to its host:port fails; not checked through a proxy or for an
// endpoint from the OTEL_EXPORTER_OTLP_* variables) gets only 0.5s, as its
// exports would fail and retry until the end. Idempotent. Close the
// Wrappers using t first. A nil ctx counts as context.Background() (as
// Wrapper.Close takes it); a nil or zero Telemetry has nothing to shut down.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil || t.p == nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return t.p.Shutdown(ctx)
}

// LogTelemetryErrors makes OpenTelemetry's process-wide error handler log
// to h, as warnings ("zerobus: telemetry export failed"), the errors it is
// given: exports that failed because a collector is down or refused the
// data. Without it they are lines of Go's standard logger on stderr. It
// replaces any handler set before (otel.SetErrorHandler), so it is for
// programs that own the process's telemetry: the command line and the
// Python package (whose handler feeds Python's logging) call it; a Go
// program with an OpenTelemetry SDK of its own sets its own handler.
//
// A Telemetry of SetupTelemetry does not hand its export failures to that
// handler: its own Logger records them, once per episode (the first
// failure, then at most one line a minute with the count, and one line
// when exports succeed again). The handler set here logs what else
// OpenTelemetry reports the same way: the first error, then at most one a
// minute with the count since the last line, with URL user info and the
// OTEL_* variables' values removed; a bare "context canceled" is dropped.
func LogTelemetryErrors(h slog.Handler) {
	report := telemetry.ErrorReporter(slog.New(h))
	otel.SetErrorHandler(otel.ErrorHandlerFunc(report))
}

// telemetryCloseTimeout bounds the Shutdown of a Telemetry owned by a
// Wrapper (WithTelemetry) at the end of Close: files are written at once, a
// collector that accepts connections but does not answer is given up on
// after telemetryBudget; one that refuses connections after 0.5s (see
// Telemetry.Shutdown).
const (
	telemetryCloseTimeout = 3 * time.Second
	telemetryCloseGrace   = 500 * time.Millisecond
)

// telemetryBudget is the time Close gives an owned Telemetry's final export
// once the streams are closed: half of what ctx has left (the rest stays
// the caller's, for its own shutdown), at most telemetryCloseTimeout, and
// at least telemetryCloseGrace, also when ctx has ended.
func telemetryBudget(ctx context.Context) time.Duration {
	if ctx.Err() != nil {
		return telemetryCloseGrace // cancelled, deadline or not
	}
	if dl, ok := ctx.Deadline(); ok {
		return min(telemetryCloseTimeout, max(time.Until(dl)/2, telemetryCloseGrace))
	}
	return telemetryCloseTimeout
}

// WithTelemetry makes New record into t (t.Options()) and hands t to the
// Wrapper: Close shuts t down once the streams are closed, so the spans and
// metrics of the last batches are exported and the files closed before
// Close returns. That final export gets a bounded share of Close's time:
// half of what Close's ctx has left then, at most 3s (with a ctx without
// deadline too), at least 0.5s even when ctx has ended, and 0.5s when the
// collector refuses connections; a collector that accepts connections but
// does not answer in that time loses the last export (a warning on t's
// Logger, written before its log files close), so it delays Close by at
// most 3s. If New fails, t is shut down too. Use
// it when t serves one Wrapper; share a Telemetry between Wrappers with
// Options and shut it down yourself.
//
// Export failures in the background (a collector down or slow) are logged
// by t's Logger, once per episode (see SetupTelemetry).
func WithTelemetry(t *Telemetry) Option {
	return func(o *options) {
		if t == nil {
			return
		}
		o.meterProvider, o.tracerProvider, o.logger = t.MeterProvider, t.TracerProvider, t.Logger
		o.ownTelemetry = t
	}
}

// shutdownOwned shuts down the Telemetry given with WithTelemetry, if any.
// A failed final export is logged by the Telemetry's Shutdown itself, on
// its logger before its log files close (telemetry.MsgExportFailedClose).
func (o *options) shutdownOwned(ctx context.Context) error {
	if o.ownTelemetry == nil {
		return nil
	}
	return o.ownTelemetry.ShutdownAfterClose(ctx)
}

// ShutdownAfterClose is Shutdown with the budget Wrapper.Close gives a
// Telemetry of WithTelemetry (see there): half of what ctx has left, at
// most 3s, at least 0.5s even when ctx has ended. For a program that passes
// t.Options() to New and shuts t down itself after Close, e.g. once it has
// measured the sending (the command line's summary does not count the
// final export). A failed final export is logged on t.Logger as well.
func (t *Telemetry) ShutdownAfterClose(ctx context.Context) error {
	if t == nil || t.p == nil {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), telemetryBudget(ctx))
	defer cancel()
	return t.Shutdown(sctx)
}

// telemetryFromConfig sets up the telemetry cfg asks for (ObservabilityEnabled
// or LogFile) with SetupTelemetry and hands it to the Wrapper, unless
// WithTelemetry was given (see New). Without ObservabilityEnabled only the
// logger is taken: metrics and spans stay with the otel globals rather than
// SetupTelemetry's no-op providers. A part given with WithLogger,
// WithMeterProvider or WithTracerProvider replaces that part only (the
// others still come from cfg); what cfg asks of a replaced part is returned
// (replacedTelemetry), for New's warning.
func (o *options) telemetryFromConfig(ctx context.Context, cfg Config) ([]string, error) {
	if o.ownTelemetry != nil || !cfg.ObservabilityEnabled && cfg.LogFile == "" {
		return nil, nil
	}
	replaced := o.replacedTelemetry(cfg)
	needed := o.logger == nil || cfg.ObservabilityEnabled && (o.meterProvider == nil || o.tracerProvider == nil)
	if !needed {
		return replaced, nil
	}
	var setupOpts []TelemetryOption
	if o.logger != nil { // replaced: neither log_file nor logs.jsonl is created
		setupOpts = append(setupOpts, func(c *telemetry.ExportConfig) {
			c.NoLogger = true
			c.LogHandler = o.logger.Handler() // OpenTelemetry's own errors (otel.SetLogger) go to it
		})
	}
	t, err := SetupTelemetry(ctx, cfg, setupOpts...)
	if err != nil {
		return nil, err
	}
	o.ownTelemetry = t // Close shuts it down
	if o.logger == nil {
		o.logger = t.Logger
	}
	if cfg.ObservabilityEnabled {
		if o.meterProvider == nil {
			o.meterProvider = t.MeterProvider
		}
		if o.tracerProvider == nil {
			o.tracerProvider = t.TracerProvider
		}
	}
	return replaced, nil
}

// replacedTelemetry names what cfg asks of the telemetry parts a
// WithLogger, WithMeterProvider or WithTracerProvider replaces: log_file
// and observability_enabled's logs.jsonl for the logger (logs are not
// exported over OTLP), its metrics or traces export for the providers.
func (o *options) replacedTelemetry(cfg Config) []string {
	var out []string
	if o.logger != nil && cfg.LogFile != "" {
		out = append(out, "log_file (WithLogger)")
	}
	if !cfg.ObservabilityEnabled {
		return out
	}
	for _, part := range []struct {
		given bool
		what  string
	}{
		{o.logger != nil, "logs (WithLogger)"},
		{o.meterProvider != nil, "metrics (WithMeterProvider)"},
		{o.tracerProvider != nil, "traces (WithTracerProvider)"},
	} {
		if part.given {
			out = append(out, "observability_enabled's "+part.what)
		}
	}
	return out
}

func init() {
	telemetry.ScopeVersion = Version
	telemetry.DescribeError = spanError
}

// spanErrorReason replaces, in what spans record, the reason of a
// conversion error.
const spanErrorReason = "(reason not recorded in telemetry: it may quote the row's value; see the result's FailedRows)"

// spanError is what a span records of err (telemetry.End): the public kind
// (KindOf; for an error of the stream layer, that of the error the Wrapper
// returns for it) as exception.type, and err's text with the reason of
// every row's conversion error in it left out (a schema-level one, Row
// -1, names columns and types only), as that reason may quote the row's
// value ("ssn 123-45-6789" is not a number…) and telemetry backends
// are often readable by more people than the table. The row index and the
// column stay.
func spanError(err error) (typ, msg string) {
	kind := KindOf(err)
	if kind == KindUnknown {
		mapped := fromStream(err, "", "")
		var te *TransmissionError
		if !errors.As(mapped, &te) || te.Code != codes.OK { // not fromStream's catch-all
			kind = KindOf(mapped)
		}
	}
	msg = err.Error()
	for e := err; e != nil; {
		var ce *ConversionError
		if !errors.As(e, &ce) {
			break
		}
		if ce.Row >= 0 && (ce.Reason != "" || ce.Err != nil) {
			safe := causeText(&ConversionError{Row: ce.Row, Column: ce.Column, Reason: spanErrorReason})
			if orig := causeText(ce); strings.Contains(msg, orig) {
				msg = strings.Replace(msg, orig, safe, 1)
			} else {
				msg = "zerobus: " + safe // not where expected: keep nothing of the text
			}
		}
		e = ce.Err
	}
	return string(kind), msg
}

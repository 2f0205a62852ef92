package core

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// Option injects a collaborator into New. Options never carry settings that
// belong in Config (those must be loadable from YAML and the environment).
type Option func(*options)

type options struct {
	logger          *slog.Logger
	meterProvider   metric.MeterProvider
	tracerProvider  trace.TracerProvider
	httpClient      *http.Client
	descriptor      *descriptorpb.DescriptorProto
	message         proto.Message
	headersProvider func(ctx context.Context) (map[string]string, error)
	rootCAs         *x509.CertPool
	backoff         func(attempt int, base, max time.Duration) time.Duration
	now             func() time.Time
	ownTelemetry    *Telemetry // WithTelemetry, or set up by New from Config: shut down by Close
	rowRangesOnly   bool
}

// WithRowRangesOnly makes results keep their rows as ranges only:
// successful rows in TransmissionResult.SuccessfulRanges, failed rows as
// runs of one error (FailedGroups); SuccessfulRows and FailedRows stay nil,
// so a result of millions of rows costs a few ranges instead of 8 and 40
// bytes per row. Every method (SuccessfulRowIndices, FailedRowIndices,
// FailedGroups, ErrorStatistics, Extract*Batch, …) returns the same values
// as without it. Default: both lists are filled too.
func WithRowRangesOnly() Option { return func(o *options) { o.rowRangesOnly = true } }

// WithLogger sends the library's logs (slog, Debug to Warn; never secrets) to
// l. Default: silent, unless Config asks for a log file or export (see New).
// It replaces the logs only: Config's LogFile and the log part of its
// export (ObservabilityEnabled) are then not written, and New warns naming
// them; its metrics and traces export still runs.
// Records are logged with the context of the work they
// describe, and l's handler is wrapped so that those logged within a span
// (e.g. during a SendBatch whose ctx carries the caller's span) get trace_id
// and span_id attributes.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithMeterProvider records metrics with mp. Default: the otel global, or
// the export Config asks for (see New). It replaces the metrics only: with
// ObservabilityEnabled the logs and traces are still exported (and New
// warns that the metrics are not).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(o *options) { o.meterProvider = mp }
}

// WithTracerProvider records spans with tp. Default: the otel global, or
// the export Config asks for (see New). It replaces the traces only: with
// ObservabilityEnabled the logs and metrics are still exported (and New
// warns that the traces are not).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(o *options) { o.tracerProvider = tp }
}

// WithHTTPClient uses c for OAuth token requests (it is wrapped with retries
// for 5xx and network errors), as given: Config.ProxyURL does not change it.
// Default: a client with sane timeouts that uses Config.ProxyURL.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithDescriptor sends records described by desc (a self-contained proto2
// message: nested types inside it, no imports) instead of a descriptor
// derived from the Arrow schema. Arrow columns are matched to fields by
// name, and every incompatibility is reported at the first SendBatch.
// Mutually exclusive with WithMessage. Transport protobuf only: with
// arrow_flight no record is encoded, and New refuses it.
func WithDescriptor(desc *descriptorpb.DescriptorProto) Option {
	return func(o *options) { o.descriptor = desc }
}

// WithMessage is WithDescriptor for a generated Go message type (its
// descriptor is used; the value itself is not).
func WithMessage(m proto.Message) Option { return func(o *options) { o.message = m } }

// WithHeadersProvider replaces OAuth: f returns the RPC headers
// ("authorization" and "x-databricks-zerobus-table-name") for each stream
// attempt. ClientID, ClientSecret and UnityCatalogURL are then not required.
// f must be safe for concurrent use.
func WithHeadersProvider(f func(ctx context.Context) (map[string]string, error)) Option {
	return func(o *options) { o.headersProvider = f }
}

// WithRootCAs trusts pool instead of the system roots for every TLS
// connection: the endpoint, the default token/Unity Catalog HTTP client and
// an https:// proxy (for private CAs and the TLS mode of the local server).
// Config.TLSCAFile does the same from a PEM file; given both, the
// certificates of both are trusted.
func WithRootCAs(pool *x509.CertPool) Option { return func(o *options) { o.rootCAs = pool } }

// WithRetryBackoff replaces the backoff (default: exponential with full
// jitter between Config.RetryBaseDelay and RetryMaxDelay). f returns the
// delay before retry number attempt (1-based). Tests use it to retry without
// waiting.
func WithRetryBackoff(f func(attempt int, base, max time.Duration) time.Duration) Option {
	return func(o *options) { o.backoff = f }
}

// WithClock replaces time.Now for the latencies in results and metrics.
// Tests only.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Export failures (a collector that is down, slow or refusing the data, a
// file that cannot be written) are logged by the Setup's own logger, not
// handed to OpenTelemetry's process-wide error handler (which prints plain
// lines on stderr unless the program sets one, past log_file and
// logs.jsonl). A collector that stays down would fail every export, so
// failures are logged once per episode and exporter: the first one as a
// warning, then at most one line every exportReportEvery with the count of
// failures since the last line, and one line (info) when an export
// succeeds again. A bare "context canceled" or "context deadline exceeded"
// (an export aborted, mostly by Shutdown) starts no episode and gets no
// line of its own. During Shutdown the failures are only counted: Shutdown
// logs one line for them, before it closes the files.

// exportReportEvery is the least time between two lines about one exporter
// that keeps failing.
const exportReportEvery = time.Minute

// Messages of the records the export failures produce.
const (
	MsgExportFailed       = "zerobus: telemetry export failed"
	MsgExportStillFailing = "zerobus: telemetry export still failing"
	MsgExportRecovered    = "zerobus: telemetry export recovered"
	MsgExportFailedClose  = "zerobus: telemetry export failed at close"
)

// exportLog is the failure reporter of one Setup (or of LogTelemetryErrors).
type exportLog struct {
	logger *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	episodes map[string]*episode // by exporter: "metrics otlp", "traces file", …
	failures int                 // every failure, for ForceFlush's and Shutdown's results
	lastErr  error
	closing  bool  // Shutdown runs: count, do not log
	closeErr error // the last failure while closing (a bare context error only if no other)
}

type episode struct {
	failing  bool
	total    int // failures in this episode
	unlogged int // failures since the last line
	lastLine time.Time
}

func newExportLog(logger *slog.Logger) *exportLog {
	return &exportLog{logger: logger, now: time.Now, episodes: map[string]*episode{}}
}

// bareCtxErr reports an error that says only that an export was aborted.
func bareCtxErr(err error) bool {
	s := err.Error()
	return s == context.Canceled.Error() || s == context.DeadlineExceeded.Error()
}

// report records the result of one export by exporter (signal and
// destination, e.g. "traces otlp") and logs what the rules above say.
func (l *exportLog) report(exporter string, err error) {
	type line struct {
		level slog.Level
		msg   string
		attrs []any
	}
	var out []line
	l.mu.Lock()
	ep := l.episodes[exporter]
	if ep == nil {
		ep = &episode{}
		l.episodes[exporter] = ep
	}
	now := l.now()
	switch {
	case err == nil:
		if ep.failing {
			out = append(out, line{slog.LevelInfo, MsgExportRecovered, []any{"exporter", exporter, "failed_exports", ep.total}})
		}
		*ep = episode{}
	case (bareCtxErr(err) || l.closing && errors.Is(err, context.Canceled)) && !ep.failing:
		// An aborted export, not a failing collector: also a periodic
		// export that Shutdown cancels as it stops the reader (its data is
		// in the final export, whose failure Shutdown returns).
	default:
		l.failures++
		if !bareCtxErr(err) || l.lastErr == nil {
			l.lastErr = err
		}
		ep.total++
		ep.unlogged++
		switch {
		case l.closing:
			if !bareCtxErr(err) || l.closeErr == nil {
				l.closeErr = err
			}
		case !ep.failing:
			ep.failing, ep.unlogged, ep.lastLine = true, 0, now
			out = append(out, line{slog.LevelWarn, MsgExportFailed, []any{"exporter", exporter, "error", safeErrText(err)}})
		case !bareCtxErr(err) && now.Sub(ep.lastLine) >= exportReportEvery:
			out = append(out, line{slog.LevelWarn, MsgExportStillFailing, []any{"exporter", exporter,
				"failed_exports", ep.unlogged, "since", ep.lastLine.UTC().Format(time.RFC3339), "error", safeErrText(err)}})
			ep.unlogged, ep.lastLine = 0, now
		}
	}
	l.mu.Unlock()
	for _, o := range out {
		l.logger.Log(context.Background(), o.level, o.msg, o.attrs...)
	}
}

// count returns the number of failures so far and the last one.
func (l *exportLog) count() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures, l.lastErr
}

// startClosing stops the lines: Shutdown's final exports are only counted.
func (l *exportLog) startClosing() {
	l.mu.Lock()
	l.closing = true
	l.mu.Unlock()
}

// closed logs, once Shutdown's exports are done and before the files
// close, one warning when err (Shutdown's error: its final exports failed
// or ran out of time) is set, with the count of failures not logged yet.
func (l *exportLog) closed(err error) {
	if err == nil {
		return
	}
	l.mu.Lock()
	unlogged := 0
	for _, ep := range l.episodes {
		unlogged += ep.unlogged
	}
	last := l.closeErr
	l.mu.Unlock()
	attrs := []any{"failed_exports", unlogged, "error", oneLine(safeErrText(err))}
	if last != nil && last.Error() != err.Error() {
		// Shutdown's error may only say that its time ran out; this says why.
		attrs = append(attrs, "last_export_error", oneLine(safeErrText(last)))
	}
	l.logger.Warn(MsgExportFailedClose, attrs...)
}

// oneLine joins the lines of an errors.Join text with "; ".
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "; ") }

// safeErrText is err's text without URL user info or the values of the
// OTEL_* variables (otellog.go).
func safeErrText(err error) string { return scrubOTelText(otelErrorText(err)) }

// ErrorReporter returns a function logging errors to logger as
// MsgExportFailed warnings, at most one every exportReportEvery (then with
// the count of errors since the last line), bare context errors dropped:
// for OpenTelemetry's process-wide error handler.
func ErrorReporter(logger *slog.Logger) func(error) {
	l := newExportLog(logger)
	return func(err error) {
		if err != nil {
			l.report("otel", err)
		}
	}
}

// reportingMetricExporter reports every export's result to log and hands
// the SDK nil, so the failure is not also sent to the process-wide handler.
type reportingMetricExporter struct {
	sdkmetric.Exporter
	log  *exportLog
	name string
}

func (e *reportingMetricExporter) Export(ctx context.Context, rm *metricdata.ResourceMetrics) error {
	err := e.Exporter.Export(ctx, rm)
	e.log.report(e.name, err)
	return nil
}

type reportingSpanExporter struct {
	sdktrace.SpanExporter
	log  *exportLog
	name string
}

func (e *reportingSpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	e.log.report(e.name, err)
	return nil
}

package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
)

// OpenTelemetry's SDK logs problems it meets on its own (an OTEL_* variable
// it cannot parse, at exporter creation) through its process-wide internal
// logger, by default straight to stderr with the offending text: a
// malformed OTEL_EXPORTER_OTLP_HEADERS (which holds the collector's API
// key) or an unparsable OTEL_EXPORTER_OTLP_ENDPOINT with user:password was
// printed raw, past the application's logging. Setup replaces that logger
// (otel.SetLogger) with otelLogSink: records go to the logger of the latest
// Setup not shut down (none: dropped), as "zerobus: OpenTelemetry: <msg>",
// with every string value replaced by "<redacted>" and the error's text
// scrubbed of URL userinfo and of the values of the OTEL_* variables. Errors and warnings only (the
// SDK's Info and Debug records are dropped, as its default logger does).

var (
	otelLogOnce   sync.Once
	otelLogTarget atomic.Pointer[slog.Logger]
)

// useOTelLogger makes l the destination of OpenTelemetry's internal
// records, installing the redacting logger on first use.
func useOTelLogger(l *slog.Logger) {
	otelLogTarget.Store(l)
	otelLogOnce.Do(func() { otel.SetLogger(logr.New(&otelLogSink{})) })
}

// releaseOTelLogger ends l as the destination (a Setup shut down or
// failed), unless a later Setup took its place: its records are then
// dropped, not written to a logger whose files are closed.
func releaseOTelLogger(l *slog.Logger) {
	if l != nil {
		otelLogTarget.CompareAndSwap(l, nil)
	}
}

// otelLogSink is a logr.LogSink writing to otelLogTarget, redacted.
type otelLogSink struct {
	name   string
	values []any // from WithValues
}

func (s *otelLogSink) Init(logr.RuntimeInfo) {}

// Enabled: warnings (V(1)) and errors; OpenTelemetry logs Info at V(4) and
// Debug at V(8).
func (s *otelLogSink) Enabled(level int) bool { return level <= 1 }

func (s *otelLogSink) Info(level int, msg string, kv ...any) {
	s.emit(slog.LevelWarn, nil, msg, kv)
}

func (s *otelLogSink) Error(err error, msg string, kv ...any) {
	s.emit(slog.LevelError, err, msg, kv)
}

func (s *otelLogSink) WithValues(kv ...any) logr.LogSink {
	return &otelLogSink{name: s.name, values: append(append([]any(nil), s.values...), kv...)}
}

func (s *otelLogSink) WithName(name string) logr.LogSink {
	n := name
	if s.name != "" {
		n = s.name + "/" + name
	}
	return &otelLogSink{name: n, values: s.values}
}

func (s *otelLogSink) emit(level slog.Level, err error, msg string, kv []any) {
	l := otelLogTarget.Load()
	if l == nil || !l.Enabled(context.Background(), level) {
		return
	}
	attrs := make([]any, 0, 2+len(s.values)+len(kv))
	if s.name != "" {
		attrs = append(attrs, slog.String("logger", s.name))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", scrubOTelText(otelErrorText(err))))
	}
	for _, pairs := range [][]any{s.values, kv} {
		for i := 0; i+1 < len(pairs); i += 2 {
			attrs = append(attrs, slog.Any(fmt.Sprint(pairs[i]), redactOTelValue(pairs[i+1])))
		}
	}
	l.Log(context.Background(), level, "zerobus: OpenTelemetry: "+msg, attrs...)
}

// redactOTelValue keeps numbers and booleans; anything else (the text the
// SDK could not parse: a header, a URL, a header key) is "<redacted>".
func redactOTelValue(v any) any {
	switch v.(type) {
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return v
	}
	return "<redacted>"
}

// otelErrorText is err's text without the URL a *url.Error quotes.
func otelErrorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Op + " <redacted>: " + ue.Err.Error()
	}
	return err.Error()
}

var userinfoRE = regexp.MustCompile(`://[^/?#\s"'@]*@`)

// scrubOTelText removes URL userinfo and the values of the OTEL_*
// variables (whole, and each header's value) from s.
func scrubOTelText(s string) string {
	s = userinfoRE.ReplaceAllString(s, "://<redacted>@")
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "OTEL_") {
			continue
		}
		parts := []string{v}
		for _, h := range strings.Split(v, ",") {
			if _, hv, ok := strings.Cut(h, "="); ok {
				parts = append(parts, strings.TrimSpace(hv))
			}
		}
		for _, p := range parts {
			if len(p) >= 4 {
				s = strings.ReplaceAll(s, p, "<redacted>")
			}
		}
	}
	return s
}

package telemetry

import (
	"context"
	"errors"
	"log/slog"

	"go.opentelemetry.io/otel/trace"
)

// Log attribute keys added by CorrelatingHandler. They follow the
// OpenTelemetry log data model field names so log pipelines can join logs
// with traces without extra mapping.
const (
	LogKeyTraceID = "trace_id"
	LogKeySpanID  = "span_id"
)

// CorrelatingHandler wraps h so that every record logged with a context that
// carries a valid span (logger.InfoContext(ctx, ...) and friends) gets two
// extra attributes: trace_id and span_id, as lowercase hex. Records logged
// without a context, or with one that has no span, pass through unchanged.
//
// The ids are added as attributes of the record, so if the logger has open
// groups (Logger.WithGroup) they appear inside the innermost group, like any
// other record attribute.
//
// Wrapping an already correlating handler returns it unchanged; a nil h
// yields a handler that discards everything. The returned handler is safe for
// concurrent use if h is.
func CorrelatingHandler(h slog.Handler) slog.Handler {
	switch h := h.(type) {
	case nil:
		return discardHandler{}
	case correlatingHandler, discardHandler:
		return h
	}
	return correlatingHandler{inner: h}
}

type correlatingHandler struct {
	inner slog.Handler
}

func (h correlatingHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

func (h correlatingHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
			// Clone so that adding attributes never writes into storage the
			// caller's record (or another handler's copy) still shares.
			r = r.Clone()
			r.AddAttrs(
				slog.String(LogKeyTraceID, sc.TraceID().String()),
				slog.String(LogKeySpanID, sc.SpanID().String()),
			)
		}
	}
	return h.inner.Handle(ctx, r)
}

func (h correlatingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return correlatingHandler{inner: h.inner.WithAttrs(attrs)}
}

func (h correlatingHandler) WithGroup(name string) slog.Handler {
	return correlatingHandler{inner: h.inner.WithGroup(name)}
}

// fanout returns a handler that passes each record at level or above to
// every handler in hs that is enabled for it (one handler: that handler,
// behind the level check).
func fanout(level slog.Level, hs []slog.Handler) slog.Handler {
	return fanoutHandler{level: level, hs: hs}
}

type fanoutHandler struct {
	level slog.Level
	hs    []slog.Handler
}

func (h fanoutHandler) Enabled(ctx context.Context, level slog.Level) bool {
	if level < h.level {
		return false
	}
	for _, inner := range h.hs {
		if inner.Enabled(ctx, level) {
			return true
		}
	}
	return false
}

func (h fanoutHandler) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, inner := range h.hs {
		if inner.Enabled(ctx, r.Level) {
			// Each handler gets its own copy: handlers may add attributes.
			errs = append(errs, inner.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (h fanoutHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	hs := make([]slog.Handler, len(h.hs))
	for i, inner := range h.hs {
		hs[i] = inner.WithAttrs(attrs)
	}
	return fanoutHandler{level: h.level, hs: hs}
}

func (h fanoutHandler) WithGroup(name string) slog.Handler {
	hs := make([]slog.Handler, len(h.hs))
	for i, inner := range h.hs {
		hs[i] = inner.WithGroup(name)
	}
	return fanoutHandler{level: h.level, hs: hs}
}

package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// spanContext returns a ctx holding a real (sampled, valid) span.
func spanContext(t *testing.T) (context.Context, trace.SpanContext) {
	t.Helper()
	tp := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("test").Start(context.Background(), "op")
	t.Cleanup(func() { span.End() })
	return ctx, span.SpanContext()
}

// decodeLines parses JSON log lines.
func decodeLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestCorrelatingHandler(t *testing.T) {
	spanCtx, sc := spanContext(t)
	// A context with a span context that is not valid (zero ids).
	invalidCtx := trace.ContextWithSpanContext(context.Background(), trace.SpanContext{})
	ids := map[string]any{LogKeyTraceID: sc.TraceID().String(), LogKeySpanID: sc.SpanID().String()}

	tests := []struct {
		name string
		log  func(l *slog.Logger)
		want map[string]any // expected fields besides time, level and msg
	}{
		{
			name: "span context adds ids",
			log:  func(l *slog.Logger) { l.InfoContext(spanCtx, "m", "k", 1) },
			want: map[string]any{"k": 1.0, LogKeyTraceID: ids[LogKeyTraceID], LogKeySpanID: ids[LogKeySpanID]},
		},
		{
			name: "no context passes through",
			log:  func(l *slog.Logger) { l.Info("m", "k", 1) },
			want: map[string]any{"k": 1.0},
		},
		{
			name: "context without span passes through",
			log:  func(l *slog.Logger) { l.InfoContext(context.Background(), "m") },
			want: map[string]any{},
		},
		{
			name: "invalid span context passes through",
			log:  func(l *slog.Logger) { l.InfoContext(invalidCtx, "m") },
			want: map[string]any{},
		},
		{
			name: "WithAttrs keeps correlating",
			log:  func(l *slog.Logger) { l.With("table", "a.b.c").WarnContext(spanCtx, "m") },
			want: map[string]any{"table": "a.b.c", LogKeyTraceID: ids[LogKeyTraceID], LogKeySpanID: ids[LogKeySpanID]},
		},
		{
			name: "WithGroup puts ids in the group",
			log:  func(l *slog.Logger) { l.WithGroup("g").InfoContext(spanCtx, "m", "k", "v") },
			want: map[string]any{"g": map[string]any{"k": "v", LogKeyTraceID: ids[LogKeyTraceID], LogKeySpanID: ids[LogKeySpanID]}},
		},
		{
			name: "level filtering is the inner handler's",
			log:  func(l *slog.Logger) { l.DebugContext(spanCtx, "dropped") },
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := slog.New(CorrelatingHandler(slog.NewJSONHandler(&buf, nil)))
			tt.log(l)
			lines := decodeLines(t, buf.Bytes())
			if tt.want == nil {
				if len(lines) != 0 {
					t.Fatalf("got %d lines %v, want none", len(lines), lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("got %d lines, want 1: %s", len(lines), buf.Bytes())
			}
			got := lines[0]
			for _, k := range []string{"time", "level", "msg"} {
				delete(got, k)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("record fields mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCorrelatingHandlerDoesNotAlterCallerRecord(t *testing.T) {
	ctx, _ := spanContext(t)
	var buf bytes.Buffer
	h := CorrelatingHandler(slog.NewJSONHandler(&buf, nil))
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)
	r.AddAttrs(slog.Int("a", 1))
	if err := h.Handle(ctx, r); err != nil {
		t.Fatal(err)
	}
	if got, want := r.NumAttrs(), 1; got != want {
		t.Errorf("caller's record has %d attrs after Handle, want %d", got, want)
	}
	if !strings.Contains(buf.String(), LogKeyTraceID) {
		t.Errorf("output %q lacks %s", buf.String(), LogKeyTraceID)
	}
}

func TestCorrelatingHandlerWrapping(t *testing.T) {
	inner := slog.NewJSONHandler(&bytes.Buffer{}, nil)
	once := CorrelatingHandler(inner)
	if twice := CorrelatingHandler(once); twice != once {
		t.Errorf("wrapping twice = %#v, want the same handler %#v", twice, once)
	}
	if got := CorrelatingHandler(nil); got.Enabled(context.Background(), slog.LevelError) {
		t.Errorf("CorrelatingHandler(nil) is enabled at error, want a discarding handler")
	}
}

func TestCorrelatingHandlerConcurrent(t *testing.T) {
	ctx, sc := spanContext(t)
	var buf bytes.Buffer // slog's JSON handler serialises its writes
	l := slog.New(CorrelatingHandler(slog.NewJSONHandler(&buf, nil))).With("shared", true)
	const goroutines, each = 4, 50
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				l.InfoContext(ctx, "m", "g", g, "i", i)
			}
		}()
	}
	wg.Wait()
	lines := decodeLines(t, buf.Bytes())
	if got, want := len(lines), goroutines*each; got != want {
		t.Fatalf("got %d lines, want %d", got, want)
	}
	for _, m := range lines {
		if m[LogKeyTraceID] != sc.TraceID().String() || m[LogKeySpanID] != sc.SpanID().String() {
			t.Fatalf("line %v lacks the span ids %s/%s", m, sc.TraceID(), sc.SpanID())
		}
	}
}

func TestNewWrapsLogger(t *testing.T) {
	ctx, sc := spanContext(t)
	var buf bytes.Buffer
	tel := New(nil, nil, slog.New(slog.NewJSONHandler(&buf, nil)))
	tel.Logger().InfoContext(ctx, "hello")
	lines := decodeLines(t, buf.Bytes())
	if len(lines) != 1 {
		t.Fatalf("got %d lines, want 1: %s", len(lines), buf.Bytes())
	}
	if got, want := lines[0][LogKeyTraceID], sc.TraceID().String(); got != want {
		t.Errorf("trace_id = %v, want %v", got, want)
	}
	if got, want := lines[0][LogKeySpanID], sc.SpanID().String(); got != want {
		t.Errorf("span_id = %v, want %v", got, want)
	}

	// The default logger stays silent.
	if Nop().Logger().Enabled(ctx, slog.LevelError) {
		t.Errorf("Nop().Logger() is enabled, want silent")
	}
}

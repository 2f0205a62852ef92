package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/syncbuf"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
)

// syncBuffer is a log output safe for the exporters' goroutines.
type syncBuffer struct{ syncbuf.Buffer }

// records decodes the JSON log lines written so far.
func (s *syncBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	out, err := syncbuf.JSONLines[map[string]any](&s.Buffer)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func countMsg(recs []map[string]any, msg string) int {
	n := 0
	for _, r := range recs {
		if r["msg"] == msg {
			n++
		}
	}
	return n
}

// fakeClock is exportLog.now under the test's control.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestS18FailingCollectorLogsOncePerEpisode: an OTLP/HTTP collector that
// refuses every export (400) for many metric exports gives one warning,
// not one per export; a minute later (fake clock) one "still failing"
// line with the count; when it accepts again, one "recovered" line. None
// of it goes to OpenTelemetry's process-wide error handler (Go's standard
// logger on stderr by default).
func TestS18FailingCollectorLogsOncePerEpisode(t *testing.T) {
	var refusing atomic.Bool
	refusing.Store(true)
	var refused, accepted atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/metrics" {
			return // spans: accepted
		}
		if refusing.Load() {
			refused.Add(1)
			http.Error(w, "refused by the test", http.StatusBadRequest)
			return
		}
		accepted.Add(1)
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()
	var handled atomic.Int64
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) { handled.Add(1) }))
	defer otel.SetErrorHandler(prev)

	var logs syncBuffer
	p, err := Setup(context.Background(), ExportConfig{Enabled: true, Endpoint: srv.URL, Protocol: "http",
		Interval: 10 * time.Millisecond, NoLogger: true, LogHandler: slog.NewJSONHandler(&logs, nil)})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	p.elog.mu.Lock()
	p.elog.now = clock.now
	p.elog.mu.Unlock()
	tel := New(p.MeterProvider, p.TracerProvider, nil)
	tel.RowsSent.Add(context.Background(), 3, metric.WithAttributes(KeyTable.String("main.default.t")))

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("gave up waiting for %s", what)
			}
		}
	}
	waitFor("10 refused exports", func() bool { return refused.Load() >= 10 })
	recs := logs.records(t)
	if n := countMsg(recs, MsgExportFailed); n != 1 {
		t.Errorf("%d refused exports gave %d %q lines, want 1: %v", refused.Load(), n, MsgExportFailed, recs)
	}
	if n := countMsg(recs, MsgExportStillFailing); n != 0 {
		t.Errorf("%d %q lines within the minute, want 0", n, MsgExportStillFailing)
	}

	clock.add(61 * time.Second)
	before := refused.Load()
	waitFor("a refused export after the minute", func() bool { return refused.Load() >= before+2 })
	recs = logs.records(t)
	var still []map[string]any
	for _, r := range recs {
		if r["msg"] == MsgExportStillFailing {
			still = append(still, r)
		}
	}
	if len(still) != 1 || still[0]["exporter"] != "metrics otlp" || still[0]["failed_exports"].(float64) < 9 {
		t.Errorf("after a minute: %v, want one %q line for metrics otlp with the failures since the first (>= 9)", still, MsgExportStillFailing)
	}

	refusing.Store(false)
	waitFor("an accepted export", func() bool { return accepted.Load() >= 2 })
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	recs = logs.records(t)
	var rec []map[string]any
	for _, r := range recs {
		if r["msg"] == MsgExportRecovered {
			rec = append(rec, r)
		}
	}
	if len(rec) != 1 || rec[0]["exporter"] != "metrics otlp" || rec[0]["failed_exports"].(float64) < 10 {
		t.Errorf("recovery lines %v, want one for metrics otlp counting >= 10 failures", rec)
	}
	if n := countMsg(recs, MsgExportFailed) + countMsg(recs, MsgExportStillFailing); n != 2 {
		t.Errorf("%d failure lines in all for %d refused exports, want 2", n, refused.Load())
	}
	if n := handled.Load(); n != 0 {
		t.Errorf("OpenTelemetry's error handler got %d errors, want 0 (the Setup's logger reports them)", n)
	}
}

// TestS18ExportLogRules: the reporter's rules on their own: bare context
// errors start no episode and get no line; the close line counts what was
// not logged; every error's text is scrubbed of URL user info.
func TestS18ExportLogRules(t *testing.T) {
	var logs syncBuffer
	l := newExportLog(slog.New(slog.NewJSONHandler(&logs, nil)))
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	l.now = clock.now
	l.report("traces otlp", context.Canceled) // an aborted export: no episode
	l.report("traces otlp", errors.New(`Post "http://user:PW-S18@127.0.0.1:1/v1/traces": connection refused`))
	for range 50 {
		l.report("traces otlp", errors.New("connection refused"))
		l.report("traces otlp", context.Canceled)
	}
	clock.add(2 * time.Minute)
	l.report("traces otlp", fmt.Errorf("wrap: %w", context.Canceled)) // not bare, but the episode's 102nd
	l.report("traces otlp", context.Canceled)                         // no line of its own, even after the minute
	l.report("traces otlp", errors.New("connection refused"))
	l.startClosing()
	l.report("traces otlp", errors.New("final export refused"))
	l.closed(errors.New("final export refused"))
	recs := logs.records(t)
	want := []struct {
		msg    string
		failed float64 // failed_exports; -1: none
		err    string
	}{
		{MsgExportFailed, -1, `Post "http://<redacted>@127.0.0.1:1/v1/traces": connection refused`},
		{MsgExportStillFailing, 101, "wrap: context canceled"},
		{MsgExportFailedClose, 3, "final export refused"},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d lines, want %d: %v", len(recs), len(want), recs)
	}
	for i, w := range want {
		r := recs[i]
		f, ok := r["failed_exports"].(float64)
		if r["msg"] != w.msg || r["error"] != w.err || (w.failed < 0) == ok || ok && f != w.failed {
			t.Errorf("line %d = %v, want %q failed_exports %v error %q", i, r, w.msg, w.failed, w.err)
		}
	}
	// Shutdown's error says only that time ran out: the close line says why too.
	var logs2 syncBuffer
	l2 := newExportLog(slog.New(slog.NewJSONHandler(&logs2, nil)))
	l2.startClosing()
	l2.report("traces otlp", errors.New("dial tcp 127.0.0.1:1: connection refused"))
	l2.report("metrics otlp", context.Canceled)
	l2.closed(errors.Join(context.DeadlineExceeded, context.DeadlineExceeded))
	if recs := logs2.records(t); len(recs) != 1 || recs[0]["error"] != "context deadline exceeded; context deadline exceeded" ||
		recs[0]["last_export_error"] != "dial tcp 127.0.0.1:1: connection refused" {
		t.Errorf("close line %v, want the deadline and the last export's own error", recs)
	}
	if strings.Contains(logs.String(), "PW-S18") {
		t.Errorf("a password of a URL was logged: %s", logs.String())
	}
}

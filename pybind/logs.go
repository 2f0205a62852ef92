package pybind

import (
	"context"
	"encoding/json"
	"runtime"
	"sync"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// logQueue holds the Go log records of every Wrapper of the process until
// Python takes them (zerobus_py/_logs.py drains it on a daemon thread and
// when a Wrapper closes). Go never calls into Python, so logging cannot
// deadlock with the GIL; when Python falls behind by a full queue, new
// records are dropped and counted.
var logQueue = core.NewLogQueue(core.DefaultLogQueueCapacity)

// telemetryErrorsOnce installs, the first time a Wrapper sets up its
// telemetry, OpenTelemetry's process-wide error handler: export errors (a
// collector that is down) reach Python's logging too, not Go's standard
// logger on stderr. Not in init(): importing the package registers nothing.
// The in-process CLI installs it first as well: OpenTelemetry's default
// handler delegates for good to the first handler set in the process, which
// must not be a CLI run's stderr (the CLI restores the previous handler).
var telemetryErrorsOnce sync.Once

func installTelemetryErrors() {
	telemetryErrorsOnce.Do(func() { core.LogTelemetryErrors(logQueue.Handler()) })
}

// telemetryFor sets up the Wrapper's telemetry from cfg's observability
// settings with core.SetupTelemetry, its logger feeding logQueue.
func telemetryFor(cfg core.Config) (*core.Telemetry, error) {
	installTelemetryErrors()
	return core.SetupTelemetry(context.Background(), cfg, core.TelemetryLogHandler(logQueue.Handler()))
}

// WaitLogs blocks (the GIL released) until a log record is queued or
// timeoutMs passes, and reports whether one is.
func WaitLogs(timeoutMs int64) bool {
	return logQueue.Wait(context.Background(), core.Millis(max(timeoutMs, 0)))
}

// TakeLogs removes up to maxRecords queued records (<= 0: all) without
// blocking and returns them as JSON: {"records": [core.LogRecord...],
// "dropped": records lost since the previous call because the queue was
// full}.
func TakeLogs(maxRecords int64) (string, error) {
	recs, dropped := logQueue.Take(int(maxRecords))
	b, err := json.Marshal(struct {
		Records []core.LogRecord `json:"records"`
		Dropped int64            `json:"dropped"`
	}{recs, dropped})
	if err != nil {
		return "", errorOf(core.KindUnknown, "zerobus: encoding log records: %v", err)
	}
	return string(b), nil
}

// Goroutines is runtime.NumGoroutine, for leak tests.
func Goroutines() int { return runtime.NumGoroutine() }

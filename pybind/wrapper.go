package pybind

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// Wrapper is a core.Wrapper for Python. Safe for concurrent use: Python
// threads sending on one Wrapper progress together (gopy releases the GIL
// during each call).
type Wrapper struct {
	w *core.Wrapper
}

// NewWrapper parses configJSON (an object whose keys are core's YAML keys,
// see parseConfig), validates it and creates the wrapper. It does not
// connect: streams open on the first send.
func NewWrapper(configJSON string) (*Wrapper, error) {
	return newWrapper(configJSON, nil)
}

// NewWrapperWithLogAttrs is NewWrapper whose log records all carry the
// attributes of attrsJSON, a JSON object of string keys and string, number
// or boolean values (the Spark data source passes the task's job,
// partition, attempt and task attempt id): in log_file, in
// observability_output_dir's logs.jsonl and in the records Python's logging
// gets (TakeLogs). The keys are added in sorted order; an empty object adds
// none. Keys and values are the caller's, logged as given: never a secret.
func NewWrapperWithLogAttrs(configJSON, attrsJSON string) (*Wrapper, error) {
	attrs, err := logAttrs(attrsJSON)
	if err != nil {
		return nil, err
	}
	return newWrapper(configJSON, attrs)
}

// logAttrs decodes NewWrapperWithLogAttrs's attributes; core checks and
// converts them (core.LogAttributes).
func logAttrs(attrsJSON string) ([]any, error) {
	m, err := decodeObject(attrsJSON, false, func(err error) error {
		return errorOf(core.KindConfiguration, "zerobus: log attributes: want a JSON object of names and scalar values (%v)", err)
	})
	if err != nil {
		return nil, err
	}
	attrs, err := core.LogAttributes(m)
	return attrs, wrapErr(err)
}

func newWrapper(configJSON string, attrs []any) (*Wrapper, error) {
	cfg, err := parseConfig(configJSON)
	if err != nil {
		return nil, wrapErr(err)
	}
	tel, err := telemetryFor(cfg)
	if err != nil {
		// Report every invalid setting at once, not only the telemetry ones.
		if cerr := cfg.Validate(); cerr != nil {
			err = cerr
		}
		return nil, wrapErr(core.ByKeyError(err))
	}
	if len(attrs) > 0 && tel.Logger != nil {
		tel.Logger = tel.Logger.With(attrs...) // the Wrapper logs on it (WithTelemetry)
	}
	// The Wrapper owns tel: Close (or a failing New) shuts it down. Python builds
	// row lists from ranges when asked (TransmissionResult).
	w, err := core.New(context.Background(), cfg, core.WithTelemetry(tel), core.WithRowRangesOnly())
	if err != nil {
		return nil, wrapErr(core.ByKeyError(err))
	}
	return &Wrapper{w: w}, nil
}

// timeoutCtx returns a cancellable context bounded by timeoutMs (<= 0: no
// deadline), the Python call's timeout= argument, which its cause names.
func timeoutCtx(timeoutMs int64) (context.Context, context.CancelFunc) {
	if timeoutMs <= 0 {
		return context.WithCancel(context.Background())
	}
	d := core.Millis(timeoutMs)
	return context.WithTimeoutCause(context.Background(), d, timeoutCause(d))
}

// TimeoutMs is the timeout= argument of a Python call (seconds, not None)
// as the milliseconds the calls here take: core.TimeoutMillis, its error (a
// negative or NaN timeout) of the kind "configuration" (a ValueError).
func TimeoutMs(seconds float64) (int64, error) {
	ms, err := core.TimeoutMillis(seconds)
	if err != nil {
		return 0, errorOf(core.KindConfiguration, "%w", err)
	}
	return ms, nil
}

// timeoutCause names the Python call's timeout= that ended it.
func timeoutCause(d time.Duration) error {
	return fmt.Errorf("timeout=%s s passed (%w)", strconv.FormatFloat(d.Seconds(), 'f', -1, 64), context.DeadlineExceeded)
}

// SendStream takes over the Arrow C stream (struct ArrowArrayStream) at
// streamAddr, exported by Python from the caller's object, and starts
// core.Wrapper.SendReaderAsync on it: the batches are read in place (no
// copy) as the send window allows, on Go's threads. The caller's struct is
// left released (moved) when this returns; the exporter keeps the data
// alive until Go releases each batch and, at the end, the stream.
//
// totalRows (< 0: unknown) is reported with progress; with progress true
// every resolved part is queued for Pending.Wait. timeoutMs (<= 0: none)
// bounds the whole send; windowRows and windowBytes (<= 0: core's default)
// are core.WithSendWindow. The error is for a stream that cannot be read at
// all (no schema); everything else is in the outcome.
func (w *Wrapper) SendStream(streamAddr, totalRows int64, progress bool, timeoutMs, windowRows, windowBytes int64) (*Pending, error) {
	rdr, err := importStream(streamAddr)
	if err != nil {
		return nil, err
	}
	defer rdr.Release() // SendReaderAsync retains it until the send is done
	ctx, cancel := timeoutCtx(timeoutMs)
	p := &Pending{cancel: cancel, wake: make(chan struct{}, 1)}
	opts := []core.SendOption{core.WithTotalRows(totalRows), core.WithSendWindow(windowRows, windowBytes)}
	if progress {
		opts = append(opts, core.WithProgress(p.progress))
	}
	p.fut = w.w.SendReaderAsync(ctx, rdr, opts...)
	return p, nil
}

// Close flushes and closes every stream (bounded by timeoutMs when > 0,
// else by the configured flush timeout). Idempotent;
// later sends report the kind "closed".
func (w *Wrapper) Close(timeoutMs int64) error {
	ctx, cancel := timeoutCtx(timeoutMs)
	defer cancel()
	return wrapErr(w.w.Close(ctx))
}

// Pending is a send started by SendStream. Python waits on it in short
// slices (Wait) so that it stays interruptible, and cancels it (Cancel) on
// KeyboardInterrupt.
type Pending struct {
	cancel context.CancelFunc // also called by Wait once the send is resolved
	fut    *core.SendFuture
	wake   chan struct{} // a progress event

	mu     sync.Mutex
	events [][2]int64 // progress not yet returned by Wait: (rows, total)

	once sync.Once
	res  json.RawMessage
}

func (p *Pending) progress(pr core.Progress) {
	p.mu.Lock()
	p.events = append(p.events, [2]int64{pr.Rows, pr.TotalRows})
	p.mu.Unlock()
	p.signal()
}

func (p *Pending) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Ready reports without blocking whether the send is resolved.
func (p *Pending) Ready() bool {
	select {
	case <-p.fut.Ready():
		return true
	default:
		return false
	}
}

// Cancel stops the send: rows not yet acknowledged fail with the kind
// "canceled" and reading stops; Wait then returns the outcome promptly.
func (p *Pending) Cancel() { p.cancel() }

// Wait blocks until there is progress to report or the send is resolved, at
// most timeoutMs (<= 0: until resolved). It returns
// {"progress": [[rows, total_or_-1], ...], "result": outcome or null} as
// JSON, the progress being the parts resolved since the last call and the
// result (see encodeResult) present once the send is resolved.
func (p *Pending) Wait(timeoutMs int64) string {
	news := func() bool {
		p.mu.Lock()
		ready := len(p.events) > 0
		p.mu.Unlock()
		return ready || p.Ready()
	}
	if !waitUntil(timeoutMs, news, p.wake, p.fut.Ready()) {
		return `{"progress":[],"result":null}`
	}
	out := struct {
		Progress [][2]int64      `json:"progress"`
		Result   json.RawMessage `json:"result"`
	}{Progress: [][2]int64{}, Result: json.RawMessage("null")}
	p.mu.Lock()
	out.Progress, p.events = append(out.Progress, p.events...), nil
	p.mu.Unlock()
	if p.Ready() {
		p.once.Do(func() {
			p.cancel()
			res, _ := p.fut.Wait(context.Background())
			p.res = encodeResult(res)
		})
		out.Result = p.res
	}
	b, _ := json.Marshal(out)
	return string(b)
}

// result is a core.TransmissionResult flattened for Python, sent as JSON
// with the keys in the tags. Successful rows are every row not listed as
// failed (the core's invariant).
type result struct {
	// Success is true when every row was acknowledged (or converted, with the
	// writer disabled).
	Success bool `json:"success"`
	// Raised is core's FailedAsWhole: Python raises ErrorKind's exception,
	// with the result attached, instead of returning it.
	Raised bool `json:"raised"`
	// ErrorKind and ErrorMessage describe the batch's error ("" on success);
	// Error is its core.ErrorDetails (null on success).
	ErrorKind    string             `json:"error_kind"`
	ErrorMessage string             `json:"error_message"`
	Error        *core.ErrorDetails `json:"error"`
	// Attempts is the highest number of RPCs any request needed.
	Attempts int `json:"attempts"`
	// Recoveries and ResentRows are core's: the stream recoveries the
	// requests went through and the rows written again after one (an upper
	// bound of the rows stored twice).
	Recoveries int `json:"recoveries"`
	ResentRows int `json:"resent_rows"`
	// LatencyMs is the wall time of the send in milliseconds.
	LatencyMs float64 `json:"latency_ms"`
	// BatchSizeBytes is the encoded size of the rows that converted.
	BatchSizeBytes int `json:"batch_size_bytes"`
	// TotalRows, SuccessfulCount and FailedCount count rows.
	TotalRows       int `json:"total_rows"`
	SuccessfulCount int `json:"successful_count"`
	FailedCount     int `json:"failed_count"`
	NotWrittenCount int `json:"not_written_count"`
	UnknownCount    int `json:"unknown_count"`
	// WriterDisabled is true when nothing was sent (writer-disabled mode).
	WriterDisabled bool `json:"writer_disabled"`
	// InputIncomplete is core's InputErr != nil: the input was not read to
	// its end, and the error is the batch's.
	InputIncomplete bool `json:"input_incomplete"`
	// Failed is core's FailedGroups: failed rows grouped by error and row
	// state, each with half-open row ranges [lo, hi) in ascending order.
	Failed []failedGroup `json:"failed"`
}

type failedGroup struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// State is core.RowState's String: "not_written" or "unknown".
	State  string   `json:"state"`
	Ranges [][2]int `json:"ranges"`
	// Details is the group error's core.ErrorDetails (its message is
	// Message, left out here); with RowMessage, the first row's.
	Details *core.ErrorDetails `json:"details"`
	// RowMessage, when set, is core's FailedGroup.RowTemplate parts: the
	// group holds rows whose errors differ only in the row number their
	// message names and in k = len(RowMessage)-2 value texts, and row i,
	// the group's j-th row (counted through Ranges), has the message
	// RowMessage[0] + i + RowMessage[1] + v[0] + RowMessage[2] + … +
	// RowMessage[k+1], v = RowValues[j*k:(j+1)*k] (its details: Details
	// with Row i). Message and Details are the first row's. See
	// encodeGroups.
	RowMessage []string `json:"row_message,omitempty"`
	// RowValues is core's FailedGroup.RowTemplate values: k per row, in
	// row order; left out when k is 0.
	RowValues []string `json:"row_values,omitempty"`
}

// encodeResult encodes a core result for Python (a field-by-field copy).
func encodeResult(r *core.TransmissionResult) json.RawMessage {
	out := result{
		Success: r.Success, Raised: r.FailedAsWhole(), Attempts: r.Attempts,
		Recoveries: r.Recoveries, ResentRows: r.ResentRows,
		LatencyMs:      float64(r.Latency) / float64(time.Millisecond),
		BatchSizeBytes: r.BatchSizeBytes, TotalRows: r.TotalRows,
		SuccessfulCount: r.SuccessfulCount, FailedCount: r.FailedCount,
		NotWrittenCount: r.NotWrittenCount, UnknownCount: r.UnknownCount,
		WriterDisabled: r.WriterDisabled, InputIncomplete: r.InputErr != nil, Failed: []failedGroup{},
	}
	if r.Err != nil {
		d := errorDetails("", r.Err)
		out.ErrorKind, out.ErrorMessage, out.Error = string(d.Kind), d.Message, &d
	}
	out.Failed = encodeGroups(r.FailedGroups())
	b, err := json.Marshal(out)
	if err != nil { // cannot happen for these types
		return json.RawMessage(`{"success":false,"raised":true,"error_kind":"unknown","error_message":"zerobus: encoding the result failed"}`)
	}
	return b
}

// SendRepeated reads the Arrow C stream at streamAddr once (into Go
// references to the exporter's memory) and sends its batches n times with
// core.Wrapper.SendReader, the engine Python's sends use, without Python in
// the loop: the Go baseline of bench/bench_python.py. It returns
// {"seconds": [per send...], "rows": rows per send, "failed": failed rows in
// total} as JSON.
func (w *Wrapper) SendRepeated(streamAddr, n int64) (string, error) {
	rdr, err := importStream(streamAddr)
	if err != nil {
		return "", err
	}
	defer rdr.Release()
	var recs []arrow.RecordBatch
	for rdr.Next() {
		rec := rdr.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	defer releaseAll(recs)
	if rdr.Err() != nil {
		return "", errorOf(core.KindConversion, "%v", rdr.Err())
	}
	out := struct {
		Seconds []float64 `json:"seconds"`
		Rows    int64     `json:"rows"`
		Failed  int       `json:"failed"`
	}{}
	for _, r := range recs {
		out.Rows += r.NumRows()
	}
	for i := int64(0); i < n; i++ {
		start := time.Now()
		mem, err := array.NewRecordReader(rdr.Schema(), recs)
		if err != nil {
			return "", errorOf(core.KindConversion, "zerobus: %v", err)
		}
		res, _ := w.w.SendReader(context.Background(), mem)
		mem.Release()
		out.Failed += res.FailedCount
		out.Seconds = append(out.Seconds, time.Since(start).Seconds())
	}
	b, err := json.Marshal(out)
	return string(b), err
}

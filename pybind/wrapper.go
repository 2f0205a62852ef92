package pybind

import (
	"context"
	"encoding/json"
	"reflect"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// Wrapper is a core.Wrapper for Python. Safe for concurrent use: Python
// threads calling SendBatch on one Wrapper progress together (gopy releases
// the GIL during each call).
type Wrapper struct {
	w *core.Wrapper
}

// NewWrapper parses configJSON (an object whose keys are core's YAML keys,
// see parseConfig), validates it and creates the wrapper. It does not
// connect: streams open on the first SendBatch.
func NewWrapper(configJSON string) (*Wrapper, error) {
	cfg, err := parseConfig(configJSON)
	if err != nil {
		return nil, wrapErr(err)
	}
	w, err := core.New(context.Background(), cfg)
	if err != nil {
		return nil, wrapErr(err)
	}
	return &Wrapper{w: w}, nil
}

// timeoutCtx returns a context bounded by timeoutMs (<= 0: no deadline).
func timeoutCtx(timeoutMs int64) (context.Context, context.CancelFunc) {
	if timeoutMs <= 0 {
		return context.WithCancel(context.Background())
	}
	return context.WithTimeout(context.Background(), time.Duration(timeoutMs)*time.Millisecond)
}

// SendBatch sends the Arrow IPC stream held in the memory segments (Python
// memory, read in place during the call: see readSegments) and blocks until
// every row is acknowledged or has failed, or timeoutMs passes (<= 0: no
// limit). A stream holding several
// batches is sent as one logical batch: the batches go out concurrently and
// row indices in the outcome count across them in stream order.
//
// It returns the outcome as a JSON object (see result). Failures of the
// batch or of rows are reported there (see result.Raised), not as an error;
// the error is for calls that could not be attempted (malformed IPC).
func (w *Wrapper) SendBatch(segments string, timeoutMs int64) (string, error) {
	// The sends finish before this returns: read in place (see readSegments).
	recs, err := readSegments(segments, true)
	if err != nil {
		return "", err
	}
	if len(recs) > 1 {
		return w.start(recs, timeoutMs).Wait()
	}
	// One batch: call the core on this thread, without a goroutine hand-off.
	defer releaseAll(recs)
	start := time.Now()
	ctx, cancel := timeoutCtx(timeoutMs)
	defer cancel()
	res, _ := w.w.SendBatch(ctx, recs[0])
	return encodeResult([]*core.TransmissionResult{res}, time.Since(start)), nil
}

// SendBatchAsync is SendBatch that returns once the batches are decoded and
// handed to the core (the Python buffer may then be freed); Pending.Wait
// returns the outcome.
func (w *Wrapper) SendBatchAsync(segments string, timeoutMs int64) (*Pending, error) {
	recs, err := readSegments(segments, false)
	if err != nil {
		return nil, err
	}
	return w.start(recs, timeoutMs), nil
}

// start hands recs to core.SendBatchAsync and releases them (the core
// retains each until its send is resolved).
func (w *Wrapper) start(recs []arrow.RecordBatch, timeoutMs int64) *Pending {
	ctx, cancel := timeoutCtx(timeoutMs)
	p := &Pending{start: time.Now(), cancel: cancel}
	p.rows = make([]int, len(recs))
	p.futures = make([]*core.SendFuture, len(recs))
	for i, rec := range recs {
		p.rows[i] = int(rec.NumRows())
		p.futures[i] = w.w.SendBatchAsync(ctx, rec)
		rec.Release() // the core retains it until the send is resolved
	}
	return p
}

// Flush blocks until everything sent so far is acknowledged (bounded by
// timeoutMs when > 0, else by the configured flush timeout).
func (w *Wrapper) Flush(timeoutMs int64) error {
	ctx, cancel := timeoutCtx(timeoutMs)
	defer cancel()
	return wrapErr(w.w.Flush(ctx))
}

// Close flushes and closes every stream (bounded like Flush). Idempotent;
// later SendBatch calls report the kind "closed".
func (w *Wrapper) Close(timeoutMs int64) error {
	ctx, cancel := timeoutCtx(timeoutMs)
	defer cancel()
	return wrapErr(w.w.Close(ctx))
}

// Pending is a send started by SendBatchAsync.
type Pending struct {
	start   time.Time
	cancel  context.CancelFunc
	rows    []int
	futures []*core.SendFuture

	once sync.Once
	res  string
}

// Ready reports without blocking whether Wait would return at once.
func (p *Pending) Ready() bool {
	for _, f := range p.futures {
		select {
		case <-f.Ready():
		default:
			return false
		}
	}
	return true
}

// Wait blocks until every batch of the send is resolved and returns the
// merged outcome as JSON (see result). It may be called more than once.
func (p *Pending) Wait() (string, error) {
	p.once.Do(func() {
		results := make([]*core.TransmissionResult, len(p.futures))
		for i, f := range p.futures {
			res, err := f.Wait(context.Background())
			if res == nil {
				res = &core.TransmissionResult{TotalRows: p.rows[i], Err: err}
			}
			results[i] = res
		}
		p.cancel()
		p.res = encodeResult(results, time.Since(p.start))
	})
	return p.res, nil
}

// encodeResult merges results (see newResult) and encodes them as JSON.
func encodeResult(results []*core.TransmissionResult, latency time.Duration) string {
	b, err := json.Marshal(newResult(results, latency))
	if err != nil { // cannot happen for these types
		return `{"success":false,"raised":true,"error_kind":"unknown","error_message":"zerobus: encoding the result failed"}`
	}
	return string(b)
}

// result is a core.TransmissionResult flattened for Python, sent as JSON
// with the keys in the tags. Successful rows are every row not listed as
// failed (the core's invariant).
type result struct {
	// Success is true when every row was acknowledged (or converted, with the
	// writer disabled).
	Success bool `json:"success"`
	// Raised is true when the batch failed as a whole (no row succeeded and
	// every row failed with the batch's error): Python raises ErrorKind's
	// exception, with the result attached, instead of returning it.
	Raised bool `json:"raised"`
	// ErrorKind and ErrorMessage describe the batch's error ("" on success).
	ErrorKind    string `json:"error_kind"`
	ErrorMessage string `json:"error_message"`
	// Attempts is the highest number of RPCs any request needed.
	Attempts int `json:"attempts"`
	// LatencyMs is the wall time of the send in milliseconds.
	LatencyMs float64 `json:"latency_ms"`
	// BatchSizeBytes is the encoded size of the rows that converted.
	BatchSizeBytes int `json:"batch_size_bytes"`
	// TotalRows, SuccessfulCount and FailedCount count rows; FailedCount =
	// NotWrittenCount + UnknownCount (core.RowState).
	TotalRows       int `json:"total_rows"`
	SuccessfulCount int `json:"successful_count"`
	FailedCount     int `json:"failed_count"`
	NotWrittenCount int `json:"not_written_count"`
	UnknownCount    int `json:"unknown_count"`
	// WriterDisabled is true when nothing was sent (writer-disabled mode).
	WriterDisabled bool `json:"writer_disabled"`
	// Failed lists failed rows grouped by error and state, each group with
	// half-open row ranges [lo, hi) in ascending order; empty when none
	// failed.
	Failed []*failedGroup `json:"failed"`
}

type failedGroup struct {
	Kind    string `json:"kind"`
	Message string `json:"message"`
	// State is core.RowState's String: "not_written" or "unknown".
	State  string     `json:"state"`
	Ranges [][2]int64 `json:"ranges"`
}

// groupKey identifies a group: an error (by identity) and a row state.
type groupKey struct {
	err   error
	state core.RowState
}

// sameErr compares errors by identity without panicking on uncomparable
// dynamic types.
func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb || !ta.Comparable() {
		return false
	}
	return a == b
}

// newResult merges the results of the batches of one send, offsetting row
// indices by the rows of the batches before.
func newResult(results []*core.TransmissionResult, latency time.Duration) *result {
	out := &result{Success: true, LatencyMs: float64(latency) / float64(time.Millisecond)}
	var groups []*failedGroup
	byErr := map[groupKey]*failedGroup{}
	byMsg := map[string]*failedGroup{}
	var firstErr error
	wholeBatch := true
	offset := int64(0)
	for _, r := range results {
		if !r.Success {
			out.Success = false
			if firstErr == nil {
				firstErr = r.Err
				if firstErr == nil {
					firstErr = errorOf(core.KindUnknown, "zerobus: the batch failed without an error")
				}
			}
		}
		out.Attempts = max(out.Attempts, r.Attempts)
		out.BatchSizeBytes += r.BatchSizeBytes
		out.TotalRows += r.TotalRows
		out.SuccessfulCount += r.SuccessfulCount
		out.FailedCount += r.FailedCount
		out.NotWrittenCount += r.NotWrittenCount
		out.UnknownCount += r.UnknownCount
		out.WriterDisabled = out.WriterDisabled || r.WriterDisabled
		if r.SuccessfulCount > 0 {
			wholeBatch = false
		}
		var g *failedGroup
		var gErr error
		var gState core.RowState
		for _, f := range r.FailedRows {
			if g == nil || !sameErr(f.Err, gErr) || f.State != gState {
				g, gErr, gState = groupFor(f.Err, f.State, byErr, byMsg, &groups), f.Err, f.State
			}
			if !sameErr(f.Err, r.Err) {
				wholeBatch = false
			}
			i := offset + int64(f.Index)
			if n := len(g.Ranges); n > 0 && g.Ranges[n-1][1] == i {
				g.Ranges[n-1][1]++
			} else {
				g.Ranges = append(g.Ranges, [2]int64{i, i + 1})
			}
		}
		offset += int64(r.TotalRows)
	}
	if firstErr != nil {
		out.ErrorKind = kindOf(firstErr)
		out.ErrorMessage = firstErr.Error()
		out.Raised = wholeBatch && out.FailedCount == out.TotalRows
	}
	out.Failed = groups
	if out.Failed == nil {
		out.Failed = []*failedGroup{}
	}
	return out
}

// groupFor finds or creates the group of err and state: rows in the same
// state with identical errors, or errors with the same kind and message,
// share a group.
func groupFor(err error, state core.RowState, byErr map[groupKey]*failedGroup, byMsg map[string]*failedGroup, groups *[]*failedGroup) *failedGroup {
	comparable := err != nil && reflect.TypeOf(err).Comparable()
	if comparable {
		if g, ok := byErr[groupKey{err, state}]; ok {
			return g
		}
	}
	kind, msg := kindOf(err), "unknown error"
	if err != nil {
		msg = err.Error()
	}
	key := kind + "\x00" + msg + "\x00" + state.String()
	g, ok := byMsg[key]
	if !ok {
		g = &failedGroup{Kind: kind, Message: msg, State: state.String()}
		byMsg[key] = g
		*groups = append(*groups, g)
	}
	if comparable {
		byErr[groupKey{err, state}] = g
	}
	return g
}

// emptyBatch is a zero-row batch of schema.
func emptyBatch(schema *arrow.Schema) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	return b.NewRecordBatch()
}

// SendRepeated decodes the Arrow IPC stream in segments once and sends its
// batches n times through core.Wrapper.SendBatch, one after the other,
// without Python in the loop: the Go baseline of bench/bench_python.py. It
// returns {"seconds": [per send...], "rows": rows per send, "failed": failed
// rows in total} as JSON.
func (w *Wrapper) SendRepeated(segments string, n int64) (string, error) {
	recs, err := readSegments(segments, true)
	if err != nil {
		return "", err
	}
	defer releaseAll(recs)
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
		for _, r := range recs {
			res, _ := w.w.SendBatch(context.Background(), r)
			out.Failed += res.FailedCount
		}
		out.Seconds = append(out.Seconds, time.Since(start).Seconds())
	}
	b, err := json.Marshal(out)
	return string(b), err
}

package core

import (
	"context"
	"encoding"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// DefaultLogQueueCapacity is the number of records a LogQueue holds when
// NewLogQueue is given a capacity <= 0.
const DefaultLogQueueCapacity = 10000

// LogRecord is one slog record as queued by LogQueue: plain data, safe to
// encode as JSON. Attribute values are strings, numbers or booleans; groups
// are flattened into dotted keys ("config.table_name"). Values that
// implement slog.LogValuer are resolved first, so Config's redaction of
// secrets applies.
type LogRecord struct {
	Time    float64        `json:"time"`  // seconds since the Unix epoch
	Level   int            `json:"level"` // slog level: -4 debug, 0 info, 4 warn, 8 error
	Message string         `json:"msg"`
	Attrs   map[string]any `json:"attrs,omitempty"`
}

// LogQueue is a bounded in-memory queue of log records for a host that
// consumes them on its own thread: the Python binding drains it into
// Python's logging without Go ever calling into Python. Its Handler never
// blocks: when the queue holds its capacity, new records are dropped and
// counted (Take reports the count). Safe for concurrent use.
type LogQueue struct {
	mu      sync.Mutex
	recs    []LogRecord
	cap     int
	dropped int64
	ready   chan struct{} // holds a token while recs is not empty
}

// NewLogQueue returns an empty queue holding at most capacity records
// (<= 0: DefaultLogQueueCapacity).
func NewLogQueue(capacity int) *LogQueue {
	if capacity <= 0 {
		capacity = DefaultLogQueueCapacity
	}
	return &LogQueue{cap: capacity, ready: make(chan struct{}, 1)}
}

// Handler returns a handler that queues every record it is given (filter
// levels before it, e.g. with SetupTelemetry's Config.LogLevel).
func (q *LogQueue) Handler() slog.Handler { return &queueHandler{q: q} }

// Wait blocks until the queue holds a record, timeout passes or ctx ends,
// and reports whether a record is queued.
func (q *LogQueue) Wait(ctx context.Context, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-q.ready:
		q.mu.Lock()
		defer q.mu.Unlock()
		if len(q.recs) > 0 || q.dropped > 0 {
			q.signal() // still there for the next Wait
			return true
		}
		return false
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// Take removes and returns up to max records (max <= 0: all), oldest
// first, and the number of records dropped since the previous Take
// because the queue was full. It never blocks on an empty queue.
func (q *LogQueue) Take(max int) (recs []LogRecord, dropped int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := len(q.recs)
	if max > 0 && max < n {
		n = max
	}
	recs = make([]LogRecord, n)
	copy(recs, q.recs[:n])
	q.recs = append(q.recs[:0], q.recs[n:]...)
	dropped, q.dropped = q.dropped, 0
	if len(q.recs) > 0 {
		q.signal()
	}
	return recs, dropped
}

// signal leaves a token for Wait (called with mu held).
func (q *LogQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *LogQueue) push(r LogRecord) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.recs) >= q.cap {
		q.dropped++
	} else {
		q.recs = append(q.recs, r)
	}
	q.signal()
}

// queueHandler turns records into LogRecords; attrs and group are what
// WithAttrs and WithGroup added.
type queueHandler struct {
	q     *LogQueue
	attrs []slog.Attr // already prefixed with their groups
	group string      // prefix for later attributes, "" or "a.b."
}

func (h *queueHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *queueHandler) Handle(_ context.Context, r slog.Record) error {
	rec := LogRecord{Level: int(r.Level), Message: r.Message}
	if !r.Time.IsZero() {
		rec.Time = float64(r.Time.UnixNano()) / 1e9
	} else {
		rec.Time = float64(time.Now().UnixNano()) / 1e9
	}
	if len(h.attrs) > 0 || r.NumAttrs() > 0 {
		rec.Attrs = make(map[string]any, len(h.attrs)+r.NumAttrs())
		for _, a := range h.attrs {
			addAttr(rec.Attrs, "", a)
		}
		r.Attrs(func(a slog.Attr) bool {
			addAttr(rec.Attrs, h.group, a)
			return true
		})
	}
	h.q.push(rec)
	return nil
}

func (h *queueHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		c.attrs = append(c.attrs, slog.Attr{Key: h.group + a.Key, Value: a.Value})
	}
	return &c
}

func (h *queueHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.group = h.group + name + "."
	return &c
}

// addAttr stores a (resolved; groups flattened) under prefix+key in m.
func addAttr(m map[string]any, prefix string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			addAttr(m, p, g)
		}
		return
	}
	if a.Key == "" {
		return
	}
	m[prefix+a.Key] = plainValue(v)
}

// plainValue converts a resolved slog value to a string, number or bool.
func plainValue(v slog.Value) any {
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return v.Uint64()
	case slog.KindFloat64:
		return v.Float64()
	case slog.KindBool:
		return v.Bool()
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindTime:
		return v.Time().Format(time.RFC3339Nano)
	}
	switch x := v.Any().(type) {
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	case encoding.TextMarshaler:
		if b, err := x.MarshalText(); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v.Any())
}

// Package pybind is the thin gopy-friendly facade that the Python package
// zerobus_py wraps. It only delegates to core, core/zerobuslocal and
// core/internal/debugfile; no behaviour lives here that those packages do not
// own.
//
// Every signature is gopy-legal: no context, channels, variadics or maps, at
// most one result plus an error. Settings and structured results cross as
// JSON strings. Arrow data from Python crosses once, in place, through the
// Arrow C stream interface: Python passes the address of an ArrowArrayStream
// exported from the caller's object and Go imports it with arrow-go's cdata
// package (see cStream; the only cgo in the project). Arrow data to Python
// (stored tables, debug files) is returned as Arrow IPC []byte.
//
// gopy turns every Go error into a plain Python RuntimeError carrying only
// the message, so every error returned here starts with "[zerobus:<kind>] ",
// where kind is core.KindOf's stable string (or "unknown"), followed by
// ":<kind of the last failure>" for exhausted retries; zerobus_py maps it to
// its exception classes.
package pybind

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// Version reports the version of the Python package's Go facade: core.Version,
// the project's one version source (setup.py gives it to the Python package).
func Version() string { return core.Version }

// kindPrefix is the start of every error message this package returns.
const kindPrefix = "[zerobus:"

// wrapErr prefixes err's message with its kind (see kindOf). Nil stays nil.
func wrapErr(err error) error {
	if err == nil {
		return nil
	}
	return kindError{kind: kindOf(err), err: err}
}

// kindOf is core.KindOf(err) as a string, extended for exhausted retries
// with the kind of the last failure: "retry_exhausted:connection" lets
// Python raise an exception that is both RetryExhausted and
// ZerobusConnectionError.
func kindOf(err error) string {
	k := core.KindOf(err)
	if k == core.KindRetryExhausted {
		var re *core.RetryExhaustedError
		if errors.As(err, &re) && re.Last != nil {
			if c := core.KindOf(re.Last); c != core.KindUnknown && c != core.KindRetryExhausted {
				return string(k) + ":" + string(c)
			}
		}
	}
	return string(k)
}

// errorOf returns an error of an explicit kind.
func errorOf(kind core.ErrorKind, format string, args ...any) error {
	return kindError{kind: string(kind), err: fmt.Errorf(format, args...)}
}

// kindError carries the kind in its message for the Python side.
type kindError struct {
	kind string
	err  error
}

func (e kindError) Error() string { return kindPrefix + e.kind + "] " + e.err.Error() }
func (e kindError) Unwrap() error { return e.err }

func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// writeIPC encodes batches as one Arrow IPC stream.
func writeIPC(schema *arrow.Schema, recs ...arrow.RecordBatch) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(memory.DefaultAllocator))
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			_ = w.Close()
			return nil, errorOf(core.KindUnknown, "zerobus: encoding Arrow IPC: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, errorOf(core.KindUnknown, "zerobus: encoding Arrow IPC: %v", err)
	}
	return buf.Bytes(), nil
}

// quoteList renders names for messages.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

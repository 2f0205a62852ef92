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
// the message, so the message of every error returned here is data: the JSON
// object of core.DetailsOf (kind, message, retryable, fatal, grpc_code, row,
// column, attempts, keys, causes, ...; see errorJSON). zerobus_py decodes it
// and raises the matching exception class with those fields as attributes.
package pybind

import (
	"bytes"
	"encoding/json"
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

// decodeObject decodes text, a JSON object, keeping numbers as json.Number
// (an integer stays exact for core's loaders). Text that is not one (a
// syntax error, another JSON value, null unless nullOK) is refused with
// wrong(err), the caller's words for it; err is the decoder's error, or
// "got null" for a refused null.
func decodeObject(text string, nullOK bool, wrong func(err error) error) (map[string]any, error) {
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	err := dec.Decode(&m)
	if err == nil && m == nil && !nullOK {
		err = errors.New("got null")
	}
	if err != nil {
		return nil, wrong(err)
	}
	return m, nil
}

// wrapErr returns err as an error whose message is its details as JSON (see
// errorJSON). Nil stays nil.
func wrapErr(err error) error {
	if err == nil {
		return nil
	}
	return kindError{err: err}
}

// errorOf returns an error of an explicit kind (for failures of this
// facade that core did not classify).
func errorOf(kind core.ErrorKind, format string, args ...any) error {
	return kindError{kind: kind, err: fmt.Errorf(format, args...)}
}

// kindError carries err to Python as data: its message is errorJSON.
type kindError struct {
	kind   core.ErrorKind // "" = core.KindOf's
	reason string         // ErrorDetails.Reason when not "" (reasonNotATable)
	err    error
}

// reasonNotATable is the ErrorDetails.Reason of an input that is one
// column, not a table (a pyarrow Array or ChunkedArray, a Series, another
// library's one-column stream): Python raises it as a ConversionError that
// is also a TypeError, the class a wrong kind of argument has in Python.
const reasonNotATable = "NOT_A_TABLE"

func (e kindError) Error() string { return string(errorJSON("", e)) }
func (e kindError) Unwrap() error { return e.err }

// errorDetails is core.DetailsOf(err), with the kind overridden when kind
// is not "".
func errorDetails(kind core.ErrorKind, err error) core.ErrorDetails {
	var ke kindError
	reason := ""
	if errors.As(err, &ke) && kind == "" {
		kind, err, reason = ke.kind, ke.err, ke.reason
	}
	d := core.DetailsOf(err)
	if reason != "" {
		d.Reason = reason
	}
	if kind == "" && d.Kind == "" { // a nil error
		kind = core.KindUnknown
	}
	if kind != "" && kind != d.Kind {
		d.Kind, d.Fatal = kind, kind.Fatal()
	}
	return d
}

// errorJSON is errorDetails as a JSON object.
func errorJSON(kind core.ErrorKind, err error) json.RawMessage {
	b, jerr := json.Marshal(errorDetails(kind, err))
	if jerr != nil { // cannot happen for these types
		b, _ = json.Marshal(core.ErrorDetails{Kind: core.KindUnknown, Message: err.Error(), Row: -1})
	}
	return b
}

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

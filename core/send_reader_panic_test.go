package core_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// panicReader gives batches of 100 rows and panics in the Next after
// `good` of them, once `gate` (when not nil) is closed.
type panicReader struct {
	array.RecordReader
	good    int
	gate    chan struct{}
	waiting chan struct{} // closed when a Next waits at the gate
	calls   int
}

func (r *panicReader) Next() bool {
	r.calls++
	if r.calls > r.good {
		if r.gate != nil {
			close(r.waiting)
			<-r.gate
		}
		panic("reader exploded")
	}
	return r.RecordReader.Next()
}

func newPanicReader(t *testing.T, good int, gate chan struct{}) *panicReader {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	recs := make([]arrow.RecordBatch, good)
	for i := range recs {
		recs[i] = telBatch(mem, 100)
	}
	rdr, err := array.NewRecordReader(telSchema, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Release()
	}
	return &panicReader{RecordReader: rdr, good: good, gate: gate, waiting: make(chan struct{})}
}

// loggedWrapper is a Wrapper sending table to srv whose log goes to the
// returned buffer (the caller closes it).
func loggedWrapper(t *testing.T, srv *zerobuslocal.Server, table string) (*core.Wrapper, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	w, err := core.New(context.Background(), localConfig(srv, table),
		core.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	return w, logs
}

// TestSendReaderNextPanicFailsTheSend: a panic in the caller's reader,
// which SendReader reads on a goroutine of its own, fails the send with a
// *CallbackPanicError (the rows read before it keep their results, the
// unread rows of a known total are not written) instead of ending the
// process, for SendReader and SendReaderAsync; the stack is logged.
func TestSendReaderNextPanicFailsTheSend(t *testing.T) {
	const table = "main.default.panic_next"
	srv := localServer(t)
	w, logs := loggedWrapper(t, srv, table)
	defer closeWrapper(t, w)
	var err error
	for _, async := range []bool{false, true} {
		rdr := newPanicReader(t, 2, nil)
		before := srv.RecordCount(table)
		var res *core.TransmissionResult
		if async {
			res, err = w.SendReaderAsync(context.Background(), rdr, core.WithTotalRows(500)).Wait(context.Background())
		} else {
			res, err = w.SendReader(context.Background(), rdr, core.WithTotalRows(500))
		}
		rdr.Release()
		var pe *core.CallbackPanicError
		var ce *core.ConversionError
		if !errors.As(err, &pe) || pe.Callback != "RecordReader.Next" || pe.Value != "reader exploded" || !errors.As(err, &ce) {
			t.Fatalf("async=%v: err = %v (%T); want a ConversionError wrapping the reader's panic", async, err, err)
		}
		if want := "reading the input after row 200 failed: the RecordReader.Next callback panicked: reader exploded"; !strings.Contains(err.Error(), want) {
			t.Errorf("async=%v: err = %q, want it to say %q", async, err, want)
		}
		if core.KindOf(err) != core.KindConversion {
			t.Errorf("async=%v: KindOf = %v, want conversion", async, core.KindOf(err))
		}
		if res.TotalRows != 500 || res.SuccessfulCount != 200 || res.NotWrittenCount != 300 || res.UnknownCount != 0 {
			t.Errorf("async=%v: result = %v; want 200 durable, 300 not written of 500", async, res)
		}
		if n := srv.RecordCount(table) - before; n != 200 {
			t.Errorf("async=%v: the server stored %d rows, want the 200 read before the panic", async, n)
		}
	}
	if got := strings.Count(logs.String(), "RecordReader.Next callback panicked: reader exploded"); got != 2 {
		t.Errorf("the panic was logged %d times, want once per send:\n%s", got, logs.String())
	}
	if !strings.Contains(logs.String(), "panicReader).Next") {
		t.Errorf("the log has no stack naming the reader's Next:\n%s", logs.String())
	}
}

// TestSendReaderNextPanicAfterCancelIsLogged: a Next still running when
// its send was canceled, which panics once it returns, has nobody to fail:
// the panic is logged, and the process goes on (it ended the test binary
// before).
func TestSendReaderNextPanicAfterCancelIsLogged(t *testing.T) {
	const table = "main.default.panic_late"
	srv := localServer(t)
	w, logs := loggedWrapper(t, srv, table)
	defer closeWrapper(t, w)
	gate := make(chan struct{})
	rdr := newPanicReader(t, 1, gate)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	acked := make(chan struct{})
	go func() {
		<-acked
		<-rdr.waiting // the second Next is running
		cancel()
	}()
	res, err := w.SendReader(ctx, rdr, core.WithProgress(func(p core.Progress) {
		if p.Rows == 100 {
			close(acked)
		}
	}))
	if !errors.Is(err, context.Canceled) || res.SuccessfulCount != 100 {
		t.Fatalf("SendReader = %v, %v; want the first 100 rows, then canceled", res, err)
	}
	rdr.Release()
	close(gate) // the pending Next now panics on the send's reading goroutine
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "callback panicked: reader exploded") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "callback panicked: reader exploded") {
		t.Fatalf("the late panic was not logged:\n%s", logs.String())
	}
	// the Wrapper still sends
	rec := telBatch(memory.NewGoAllocator(), 10)
	defer rec.Release()
	if res, err := w.SendBatch(context.Background(), rec); err != nil || res.SuccessfulCount != 10 {
		t.Fatalf("SendBatch after the late panic = %v, %v", res, err)
	}
	if n := srv.RecordCount(table); n != 110 {
		t.Errorf("server stored %d rows, want 110", n)
	}
}

// TestSendReaderProgressPanicStopsTheSend: a panic in the WithProgress
// callback, which runs on a goroutine of the send's, stops the send with a
// *CallbackPanicError as its cause (it ended the process before); each row
// is reported truthfully against what the server stored.
func TestSendReaderProgressPanicStopsTheSend(t *testing.T) {
	const table = "main.default.panic_progress"
	srv := localServer(t)
	w, logs := loggedWrapper(t, srv, table)
	defer closeWrapper(t, w)
	rdr := newPanicReader(t, 50, nil) // 5,000 rows; Next never panics
	rdr.good = 1 << 30
	defer rdr.Release()
	calls := 0
	res, err := w.SendReader(context.Background(), rdr, core.WithTotalRows(5000), core.WithSendWindow(100, 1<<20),
		core.WithProgress(func(core.Progress) {
			calls++
			panic(errors.New("progress bar broke"))
		}))
	var pe *core.CallbackPanicError
	if !errors.As(err, &pe) || pe.Callback != "progress" || !strings.Contains(err.Error(), "the progress callback panicked: progress bar broke") {
		t.Fatalf("err = %v; want the send stopped by the progress callback's panic", err)
	}
	if calls != 1 {
		t.Errorf("the progress callback was called %d times, want once (none after its panic)", calls)
	}
	if res.TotalRows != 5000 || res.SuccessfulCount+res.NotWrittenCount+res.UnknownCount != 5000 || res.SuccessfulCount >= 5000 {
		t.Errorf("result = %v; want the 5,000 rows accounted for, not all durable", res)
	}
	stored := srv.RecordCount(table)
	if res.SuccessfulCount > stored || stored > res.SuccessfulCount+res.UnknownCount {
		t.Errorf("server stored %d rows; the result says %d durable and %d unknown", stored, res.SuccessfulCount, res.UnknownCount)
	}
	if !strings.Contains(logs.String(), "progress callback panicked") {
		t.Errorf("the panic was not logged:\n%s", logs.String())
	}
}

// TestSendReaderProgressPanicInTheLastPartFailsTheCall: a panic in the
// progress call of the last part, once every row had resolved, was only
// logged and the call reported success (s15 review-diffgo 1); the rows
// keep their states and the call's error is the *CallbackPanicError.
func TestSendReaderProgressPanicInTheLastPartFailsTheCall(t *testing.T) {
	const table = "main.default.panic_last_progress"
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	rdr := newPanicReader(t, 1, nil) // one batch of 100 rows: one part
	rdr.good = 1 << 30
	defer rdr.Release()
	res, err := w.SendReader(context.Background(), rdr, core.WithProgress(func(core.Progress) { panic("late") }))
	var pe *core.CallbackPanicError
	if !errors.As(err, &pe) || pe.Value != "late" || res.Err != err || res.Success {
		t.Fatalf("SendReader = %v, %v; want the progress callback's panic as the call's error", res, err)
	}
	if res.SuccessfulCount != 100 || res.FailedCount != 0 || srv.RecordCount(table) != 100 {
		t.Errorf("result %v, stored %d; want the 100 rows durable and stored", res, srv.RecordCount(table))
	}
	if _, err := w.SendBatchAsync(context.Background(), telBatch(memory.NewGoAllocator(), 1)).Wait(nil); err != nil { //nolint:staticcheck // a nil ctx, as a caller's bug passes it
		t.Errorf("Wait(nil) = %v; want the send's result (it panicked)", err)
	}
}

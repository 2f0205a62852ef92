package tests_go

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A send, or a flush, whose caller's context ends says so and what ended it
// (the context's cause: a timeout the caller named, as pybind's timeout=, a
// plain deadline or cancel, or the caller's own cancel cause), on both
// transports. context.DeadlineExceeded / context.Canceled stay in the chain
// (KindCanceled) whatever the cause; the rows are unknown (sent, never
// acknowledged), and nothing blames the server. It was a bare "context
// deadline exceeded", and a caller's own cause turned the error into "server
// rejected the stream".
func TestSendEndedByTheCallersContextSaysSo(t *testing.T) {
	type endCase struct {
		name   string
		ctx    func(context.Context, time.Duration) (context.Context, context.CancelFunc)
		want   string // in the error, after "zerobus: the call "
		target error
	}
	cases := []endCase{
		{"named timeout", func(p context.Context, d time.Duration) (context.Context, context.CancelFunc) {
			return context.WithTimeoutCause(p, d, namedTimeout{})
		}, "ran out of time before the server acknowledged these rows: timeout=0.3 s passed (context deadline exceeded)", context.DeadlineExceeded},
		{"plain deadline", func(p context.Context, d time.Duration) (context.Context, context.CancelFunc) {
			return context.WithTimeout(p, d)
		}, "ran out of time before the server acknowledged these rows: context deadline exceeded", context.DeadlineExceeded},
		{"own cancel cause", func(p context.Context, d time.Duration) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancelCause(p)
			timer := time.AfterFunc(d, func() { cancel(errors.New("shutting down")) })
			return ctx, func() { timer.Stop(); cancel(nil) }
		}, "was canceled before the server acknowledged these rows: shutting down (context canceled)", context.Canceled},
	}
	check := func(t *testing.T, what string, e error, c endCase) {
		t.Helper()
		msg := e.Error()
		if !errors.Is(e, c.target) || core.KindOf(e) != core.KindCanceled || strings.Contains(msg, "server rejected") {
			t.Errorf("%s: %q (kind %s): want a %v of kind canceled, not blaming the server", what, msg, core.KindOf(e), c.target)
		}
		checkOnePrefix(t, msg)
	}
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		for _, c := range cases {
			t.Run(transport+"/"+c.name, func(t *testing.T) {
				srv := startServer(t, zerobuslocal.Options{})
				table := "main.default.call_ended"
				srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
				cfg := serverConfig(srv, table)
				cfg.Transport = transport
				cfg.FlushTimeout = 400 * time.Millisecond // Close gives up on the stalled acks
				w := newWrapper(t, cfg)
				rec := eventBatch(memory.DefaultAllocator, 0, 4)
				defer rec.Release()
				// The table's columns are read first, without the deadline (a
				// loaded machine can take 300 ms for that read alone, which
				// TestCatalogLookupEndedByTheCallerSaysSo covers).
				if err := w.CheckSchema(testCtx(t), rec.Schema()); err != nil {
					t.Fatalf("CheckSchema: %v", err)
				}
				ctx, cancel := c.ctx(testCtx(t), 300*time.Millisecond)
				defer cancel()
				res, err := w.SendBatch(ctx, rec)
				if err == nil || res == nil || res.UnknownCount != 4 {
					t.Fatalf("send with stalled acks: %v, %v; want 4 unknown rows and an error", res, err)
				}
				for _, e := range []error{err, res.FailedRows[0].Err} {
					if !strings.Contains(e.Error(), "zerobus: the call "+c.want) {
						t.Errorf("send: %q, want it to say %q", e, "the call "+c.want)
					}
					check(t, "send", e, c)
				}
				fctx, fcancel := c.ctx(testCtx(t), 100*time.Millisecond) // before FlushTimeout
				defer fcancel()
				ferr := w.Flush(fctx)
				if ferr == nil {
					t.Fatal("flush with stalled acks: no error")
				}
				cause := c.want[strings.LastIndex(c.want, ": ")+2:]
				if !strings.Contains(ferr.Error(), cause) {
					t.Errorf("flush: %q, want it to name %q", ferr, cause)
				}
				check(t, "flush", ferr, c)
			})
		}
	}
}

// A send whose time runs out while it waits for room in the Wrapper's
// in-flight window (MaxInflightBytes, full of unacknowledged requests) says
// so too; the rows never sent are not written.
func TestSendEndedWaitingForTheWindowSaysSo(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.window_ended"
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			cfg.MaxMessageBytes, cfg.MaxInflightBytes = 32<<10, 64<<10
			cfg.FlushTimeout = 200 * time.Millisecond
			w := newWrapper(t, cfg)
			rec := eventBatch(memory.DefaultAllocator, 0, 20_000)
			defer rec.Release()
			// The first send fills the window and waits for acks that never come.
			fctx, fcancel := context.WithCancel(testCtx(t))
			first := w.SendBatchAsync(fctx, rec)
			defer func() { fcancel(); _, _ = first.Wait(testCtx(t)) }()
			// Full: the server stores nothing more for 300 ms (the first
			// send waits for room; converting a chunk takes microseconds).
			for last, still := int64(-1), 0; still < 3; time.Sleep(100 * time.Millisecond) {
				if n := srv.Stats().RecordsStored; n > 0 && n == last {
					still++
				} else {
					last, still = n, 0
				}
			}
			ctx, cancel := context.WithTimeout(testCtx(t), 300*time.Millisecond)
			defer cancel()
			res, err := w.SendBatch(ctx, rec)
			if err == nil || res == nil || res.NotWrittenCount == 0 {
				t.Fatalf("send into a full window: %v, %v; want rows not written and an error", res, err)
			}
			var window int
			for _, fr := range res.FailedRows {
				msg := fr.Err.Error()
				if strings.Contains(msg, "zerobus: the call ran out of time waiting for room in the in-flight window") {
					window++
					if fr.State != core.RowNotWritten {
						t.Errorf("row %d: %s, want not written (never sent)", fr.Index, fr.State)
					}
				} else if !strings.Contains(msg, "zerobus: the call ran out of time before the server acknowledged these rows") {
					t.Errorf("row %d: %q, want the call's end named", fr.Index, msg)
				}
				if !errors.Is(fr.Err, context.DeadlineExceeded) {
					t.Errorf("row %d: %q is not a DeadlineExceeded", fr.Index, msg)
				}
				checkOnePrefix(t, msg)
			}
			if window == 0 {
				t.Fatalf("no row failed waiting for the window: %v", res)
			}
		})
	}
}

// namedTimeout is a cause wrapping context.DeadlineExceeded, as pybind's.
type namedTimeout struct{}

func (namedTimeout) Error() string { return "timeout=0.3 s passed (context deadline exceeded)" }
func (namedTimeout) Unwrap() error { return context.DeadlineExceeded }

// SendReader stopped by its caller's own cancel cause before it read a
// batch: the error names the cause and stays a context.Canceled.
func TestSendReaderStoppedByTheCallersCauseIsCanceled(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	w := newWrapper(t, serverConfig(srv, "main.default.reader_stopped"))
	rec := eventBatch(memory.DefaultAllocator, 0, 4)
	defer rec.Release()
	rdr, err := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	ctx, cancel := context.WithCancelCause(testCtx(t))
	cancel(errors.New("shutting down"))
	res, err := w.SendReader(ctx, rdr)
	if err == nil {
		err = res.Err
	}
	if err == nil || !errors.Is(err, context.Canceled) || core.KindOf(err) != core.KindCanceled || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("SendReader after a cancel with a cause: %v (kind %s), want a context.Canceled naming the cause", err, core.KindOf(err))
	}
	checkOnePrefix(t, err.Error())
}

// TestCatalogLookupEndedByTheCallerSaysSo: a send whose context ends while
// the wrapper reads the table's columns from Unity Catalog (a slow
// catalog) says the call ran out of time there, before anything was sent
// (kind canceled, every row not written), on both transports. It said
// "cannot reach … check the endpoint URL, network and TLS settings".
func TestCatalogLookupEndedByTheCallerSaysSo(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	target, err := url.Parse(srv.WorkspaceURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/2.1/unity-catalog/") {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		proxy.ServeHTTP(rw, r)
	}))
	defer slow.Close()
	defer close(release)
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			cfg := serverConfig(srv, "main.default.slow_catalog_"+transport)
			cfg.UnityCatalogURL = slow.URL
			cfg.Transport = transport
			w := newWrapper(t, cfg)
			rec := eventBatch(memory.DefaultAllocator, 0, 4)
			defer rec.Release()
			ctx, cancel := context.WithTimeout(testCtx(t), 200*time.Millisecond)
			defer cancel()
			res, err := w.SendBatch(ctx, rec)
			const want = "zerobus: the call ran out of time while reading the table's columns from Unity Catalog, before anything was sent: context deadline exceeded"
			if err == nil || err.Error() != want || core.KindOf(err) != core.KindCanceled || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("SendBatch = %v (kind %s), want %q of kind canceled", err, core.KindOf(err), want)
			}
			if res == nil || res.FailedCount != 4 || res.UnknownCount != 0 || len(res.FailedRows) != 4 {
				t.Fatalf("result %v: want 4 rows not written", res)
			}
			for _, r := range res.FailedRows {
				if r.State != core.RowNotWritten {
					t.Errorf("row %d: %v, want not written (nothing was sent)", r.Index, r.State)
				}
			}
			if n := len(srv.Rows(cfg.TableName)); n != 0 {
				t.Errorf("%d rows stored, want 0", n)
			}
		})
	}
}

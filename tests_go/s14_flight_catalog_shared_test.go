package tests_go

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// heldCatalog is a Unity Catalog front answering every table lookup 503
// (a failure that may pass), whose first lookup is held until release is
// closed; entered is closed when that lookup arrives.
type heldCatalog struct {
	url     string
	lookups *atomic.Int32
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func newHeldCatalog(t *testing.T, srv *zerobuslocal.Server) *heldCatalog {
	h := &heldCatalog{entered: make(chan struct{}), release: make(chan struct{})}
	var first atomic.Bool
	h.url, h.lookups = catalogFront(t, srv, func(rw http.ResponseWriter, r *http.Request) {
		if first.CompareAndSwap(false, true) {
			close(h.entered)
			select {
			case <-h.release:
			case <-r.Context().Done():
			}
		}
		http.Error(rw, "catalog unavailable", http.StatusServiceUnavailable)
	})
	t.Cleanup(h.free)
	return h
}

func (h *heldCatalog) free() { h.once.Do(func() { close(h.release) }) }

// flightCatalogConfig is a Flight config whose catalog reads go to front,
// retried retryMaxAttempts times. The backoff itself is noWait
// (newWrapper); RetryBaseDelay sets how long an exhausted cycle's error is
// kept (base·2^(attempts-1), capped at RetryMaxDelay): long here, so that
// sends arriving after the cycle ended get its error whatever the
// machine's load.
func flightCatalogConfig(srv *zerobuslocal.Server, table, front string) core.Config {
	cfg := serverConfig(srv, table)
	cfg.Transport = core.TransportArrowFlight
	cfg.UnityCatalogURL = front
	cfg.RetryMaxAttempts = 3
	cfg.RetryBaseDelay = 10 * time.Second
	cfg.RetryMaxDelay = time.Minute
	cfg.CreateTimeout = 5 * time.Minute // a held lookup is not ended by the client
	return cfg
}

type sendOutcome struct {
	res *core.TransmissionResult
	err error
}

// Over arrow_flight, a read of the table's columns that fails in a way
// that may pass is retried once for all the sends of a schema: the sends
// that come while it runs wait for it (each as long as its own ctx allows)
// and get its error, and so do the sends right after it (a SendReader's
// parts), so the catalog is read retry_max_attempts times in all, not that
// many times per send or part. A send whose ctx ends meanwhile returns
// then, before the retry ends (s14 review-diff 1: the retry ran under the
// schema's lock, once per send, and held every other send of the schema).
func TestFlightCatalogRetrySharedBySendsOfASchema(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_catalog_shared"
	createTable(t, srv, table, "id BIGINT NOT NULL, name STRING, score DOUBLE")
	cat := newHeldCatalog(t, srv)
	cfg := flightCatalogConfig(srv, table, cat.url)
	w := newWrapper(t, cfg)
	rec := nullableBatch(0, 10)
	defer rec.Release()

	send := func(ctx context.Context) <-chan sendOutcome {
		out := make(chan sendOutcome, 1)
		go func() {
			res, err := w.SendBatch(ctx, rec)
			out <- sendOutcome{res, err}
		}()
		return out
	}
	first := send(testCtx(t))
	select {
	case <-cat.entered:
	case o := <-first:
		t.Fatalf("the first send returned before reading the catalog: %v", o.err)
	}
	var others []<-chan sendOutcome
	for range 5 {
		others = append(others, send(testCtx(t)))
	}

	// A send whose ctx ends while the first lookup is held returns then,
	// with its own ctx's error, not the retry's: before it ends. It is
	// canceled a little after it started, to be waiting for the read by
	// then (on a machine too loaded for that, it is canceled before and
	// must return canceled all the same).
	ctx, cancel := context.WithCancel(testCtx(t))
	short := send(ctx)
	time.AfterFunc(200*time.Millisecond, cancel)
	select {
	case o := <-short:
		checkInvariant(t, o.res, 10)
		if core.KindOf(o.err) != core.KindCanceled || !errors.Is(o.err, context.Canceled) || o.res.NotWrittenCount != 10 {
			t.Errorf("canceled send: kind %s, err %v, not written %d; want canceled, 10 rows not written", core.KindOf(o.err), o.err, o.res.NotWrittenCount)
		}
	case <-time.After(30 * time.Second): // a hang detector, not a timing bound
		t.Errorf("a send whose ctx was canceled did not return while another send's catalog retry was running")
	}
	if n := cat.lookups.Load(); n != 1 {
		t.Errorf("catalog lookups while the first was held: %d, want 1", n)
	}
	cat.free()

	for i, ch := range append([]<-chan sendOutcome{first}, others...) {
		o := <-ch
		checkInvariant(t, o.res, 10)
		var re *core.RetryExhaustedError
		if !errors.As(o.err, &re) || re.Attempts != cfg.RetryMaxAttempts || o.res.NotWrittenCount != 10 {
			t.Errorf("send %d: %v (%T), not written %d; want the retry's RetryExhaustedError after %d attempts, 10 rows not written",
				i, o.err, o.err, o.res.NotWrittenCount, cfg.RetryMaxAttempts)
		}
	}
	if n := cat.lookups.Load(); n != int32(cfg.RetryMaxAttempts) {
		t.Errorf("catalog lookups for 6 concurrent sends: %d, want %d (one retry)", n, cfg.RetryMaxAttempts)
	}
	if n := srv.RecordCount(table); n != 0 {
		t.Errorf("%d rows stored", n)
	}
}

// A SendReader of k parts (sent two at a time) whose catalog read fails in
// a way that may pass reads the catalog retry_max_attempts times, not
// that many per part, and every part fails with the retry's error.
func TestFlightCatalogRetryOncePerSendReader(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_catalog_reader"
	createTable(t, srv, table, "id BIGINT NOT NULL, name STRING, score DOUBLE")
	front, lookups := catalogFront(t, srv, func(rw http.ResponseWriter, _ *http.Request) {
		http.Error(rw, "catalog unavailable", http.StatusServiceUnavailable)
	})
	cfg := flightCatalogConfig(srv, table, front)
	w := newWrapper(t, cfg)
	const parts, rows = 8, 10
	var recs []arrow.RecordBatch
	for i := range parts {
		recs = append(recs, nullableBatch(int64(i*rows), rows))
	}
	rdr, err := array.NewRecordReader(nullableSchema, recs)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	for _, r := range recs {
		r.Release()
	}
	res, err := w.SendReader(testCtx(t), rdr, core.WithSendWindow(2*rows, 1<<30))
	checkInvariant(t, res, parts*rows)
	var re *core.RetryExhaustedError
	if !errors.As(err, &re) || res.NotWrittenCount != parts*rows {
		t.Errorf("SendReader: %v (%T), not written %d; want the retry's RetryExhaustedError, %d rows not written", err, err, res.NotWrittenCount, parts*rows)
	}
	if g := res.GroupErrorsByType(); len(g) != 1 || len(g[core.KindRetryExhausted]) != parts*rows {
		t.Errorf("rows by error kind: %v, want all %d of kind %s", g, parts*rows, core.KindRetryExhausted)
	}
	if n := lookups.Load(); n != int32(cfg.RetryMaxAttempts) {
		t.Errorf("catalog lookups for a SendReader of %d parts: %d, want %d (one retry)", parts, n, cfg.RetryMaxAttempts)
	}
}

// The send that reads the catalog for the others may end first (its ctx):
// the sends waiting for it do not take its ctx's error, one of them reads
// the catalog in its place.
func TestFlightCatalogRetryOutlivesTheReadersCtx(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_catalog_handover"
	createTable(t, srv, table, "id BIGINT NOT NULL, name STRING, score DOUBLE")
	cat := newHeldCatalog(t, srv)
	cfg := flightCatalogConfig(srv, table, cat.url)
	w := newWrapper(t, cfg)
	rec := nullableBatch(0, 10)
	defer rec.Release()

	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	first := make(chan sendOutcome, 1)
	go func() {
		res, err := w.SendBatch(ctx, rec)
		first <- sendOutcome{res, err}
	}()
	<-cat.entered
	second := make(chan sendOutcome, 1)
	go func() {
		res, err := w.SendBatch(testCtx(t), rec)
		second <- sendOutcome{res, err}
	}()
	cancel()
	o := <-first
	if core.KindOf(o.err) != core.KindCanceled {
		t.Errorf("first send: kind %s (%v), want canceled", core.KindOf(o.err), o.err)
	}
	o = <-second
	checkInvariant(t, o.res, 10)
	var re *core.RetryExhaustedError
	if !errors.As(o.err, &re) || errors.Is(o.err, context.Canceled) {
		t.Errorf("second send: %v (%T), want a RetryExhaustedError of its own reads, not the first send's cancellation", o.err, o.err)
	}
}

package core

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// alterTable gives table on srv the columns of ddl (the local server has no
// ALTER TABLE: the table is dropped and created again, as a table altered
// under a running Wrapper looks to it).
func alterTable(t *testing.T, srv *zerobuslocal.Server, table, ddl string) {
	t.Helper()
	cols, err := zerobuslocal.ParseColumns(ddl)
	if err != nil {
		t.Fatal(err)
	}
	srv.DropTable(table)
	if err := srv.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
}

// idBatch is n rows of id (int64, not null) and, when withScore, score
// (float64).
func idBatch(first int64, n int, withScore bool) arrow.RecordBatch {
	fields := []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}
	if withScore {
		fields = append(fields, arrow.Field{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true})
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(first + int64(i))
		if withScore {
			b.Field(1).(*array.Float64Builder).Append(float64(i) / 2)
		}
	}
	return b.NewRecordBatch()
}

// sendIDs sends n rows from first and returns SendBatch's error, failing
// the test when the result's accounting is not all-or-nothing.
func sendIDs(t *testing.T, w *Wrapper, first int64, n int, withScore bool) error {
	t.Helper()
	rec := idBatch(first, n, withScore)
	defer rec.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := w.SendBatch(ctx, rec)
	switch {
	case res == nil:
		t.Fatalf("SendBatch: no result (%v)", err)
	case err == nil && res.SuccessfulCount != n:
		t.Fatalf("SendBatch: no error and %d of %d rows written", res.SuccessfulCount, n)
	case err != nil && res.NotWrittenCount != n:
		t.Fatalf("SendBatch: %v with %d of %d rows not written", err, res.NotWrittenCount, n)
	}
	return err
}

// flightWrapper creates table on srv with the columns of ddl and a Wrapper
// sending it over Flight, closed when the test ends.
func flightWrapper(t *testing.T, srv *zerobuslocal.Server, table, ddl string) *Wrapper {
	t.Helper()
	alterTable(t, srv, table, ddl)
	cfg := localConfig(srv, table)
	cfg.Transport = TransportArrowFlight
	w, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

func isMismatch(err error) bool {
	var sm *SchemaMismatchError
	return errors.As(err, &sm)
}

// A table altered under a Wrapper (a column added) takes the new column
// over Flight: the schema cached when the first batch was sent is read
// again when a batch does not match it, instead of the batch being
// refused for a column the table now has.
func TestFlightTableAlteredAfterFirstBatch(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.flight_altered"
	w := flightWrapper(t, srv, table, "id BIGINT NOT NULL")
	if err := sendIDs(t, w, 0, 5, false); err != nil {
		t.Fatalf("first batch: %v", err)
	}
	alterTable(t, srv, table, "id BIGINT NOT NULL, score DOUBLE")
	if err := sendIDs(t, w, 100, 7, true); err != nil {
		t.Fatalf("a batch with the added column: %v", err)
	}
	if n := len(srv.Rows(table)); n != 7 {
		t.Fatalf("the altered table holds %d rows, want the 7 sent after it was altered", n)
	}
}

// A batch schema the table refused is refused from memory for
// mismatchRecheck, then checked against the table's schema read again:
// once the table takes it, its batches are sent.
func TestFlightMismatchRecheckedAfterInterval(t *testing.T) {
	shortRecheck(t, time.Second)

	srv := startLocal(t)
	const table = "main.default.flight_recheck"
	w := flightWrapper(t, srv, table, "id BIGINT NOT NULL")
	if err := sendIDs(t, w, 0, 5, true); !isMismatch(err) {
		t.Fatalf("a batch with a column the table lacks: %v, want a *SchemaMismatchError", err)
	}
	alterTable(t, srv, table, "id BIGINT NOT NULL, score DOUBLE")
	// Within mismatchRecheck the kept mismatch answers, without a catalog
	// read per batch.
	if err := sendIDs(t, w, 0, 5, true); !isMismatch(err) {
		t.Fatalf("within the recheck interval: %v, want the kept *SchemaMismatchError", err)
	}
	time.Sleep(mismatchRecheck + 50*time.Millisecond)
	if err := sendIDs(t, w, 10, 6, true); err != nil {
		t.Fatalf("after the recheck interval, with the table altered to take the batch: %v", err)
	}
	if n := len(srv.Rows(table)); n != 6 {
		t.Fatalf("the table holds %d rows, want 6", n)
	}
}

// With protobuf, a catalog down when a schema is first planned leaves the
// descriptor with the batch's optionality only for mismatchRecheck: the
// next batch after it reads the table's columns and takes their
// optionality (a NOT NULL Arrow id into a nullable column is then stored),
// instead of the plan staying pinned to the batch's for the Wrapper's life.
func TestProtobufPlanRereadsACatalogThatWasDown(t *testing.T) {
	shortRecheck(t, 500*time.Millisecond)

	srv := startLocal(t)
	const table = "main.default.pb_catalog_down"
	alterTable(t, srv, table, "id BIGINT")
	cfg := localConfig(srv, table)
	var lookups *atomic.Int32
	cfg.UnityCatalogURL, lookups = catalogFront(t, srv, func(n int32) bool { return n == 1 })
	w, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	if err := sendIDs(t, w, 0, 5, false); err == nil {
		t.Fatal("a NOT NULL id sent with the batch's optionality was stored in a nullable column")
	}
	time.Sleep(mismatchRecheck + 50*time.Millisecond)
	if err := sendIDs(t, w, 10, 5, false); err != nil {
		t.Fatalf("after the catalog came back: %v", err)
	}
	if n := len(srv.Rows(table)); n != 5 {
		t.Fatalf("%d rows stored, want 5", n)
	}
	if n := lookups.Load(); n != 2 {
		t.Fatalf("%d catalog lookups, want 2 (the failed one, then one after the recheck)", n)
	}
}

// shortRecheck sets mismatchRecheck to d for the test.
func shortRecheck(t *testing.T, d time.Duration) {
	old := mismatchRecheck
	mismatchRecheck = d
	t.Cleanup(func() { mismatchRecheck = old })
}

// catalogFront serves srv's workspace, counting the Unity Catalog table
// lookups; lookup n (from 1) answers 503 when down(n).
func catalogFront(t *testing.T, srv *zerobuslocal.Server, down func(n int32) bool) (string, *atomic.Int32) {
	t.Helper()
	ws, err := url.Parse(srv.WorkspaceURL())
	if err != nil {
		t.Fatal(err)
	}
	var lookups atomic.Int32
	fwd := httputil.NewSingleHostReverseProxy(ws)
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, zerobuslocal.UnityCatalogTablesPath) && down(lookups.Add(1)) {
			http.Error(rw, `{"error_code":"TEMPORARILY_UNAVAILABLE","message":"down"}`, http.StatusServiceUnavailable)
			return
		}
		fwd.ServeHTTP(rw, r)
	}))
	t.Cleanup(front.Close)
	return front.URL, &lookups
}

// Over Flight, a kept mismatch whose recheck finds the catalog down stands
// for another mismatchRecheck: the batches meanwhile get the mismatch (not
// a retryable connection error for a batch the table refuses), without a
// catalog read each.
func TestFlightRecheckWithTheCatalogDown(t *testing.T) {
	shortRecheck(t, 300*time.Millisecond)

	srv := startLocal(t)
	const table = "main.default.flight_recheck_down"
	alterTable(t, srv, table, "id BIGINT NOT NULL")
	cfg := localConfig(srv, table)
	cfg.Transport = TransportArrowFlight
	var lookups *atomic.Int32
	cfg.UnityCatalogURL, lookups = catalogFront(t, srv, func(n int32) bool { return n > 1 })
	w, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	if err := sendIDs(t, w, 0, 5, true); !isMismatch(err) {
		t.Fatalf("a batch with a column the table lacks: %v, want a *SchemaMismatchError", err)
	}
	time.Sleep(mismatchRecheck + 50*time.Millisecond)
	for i := range 5 {
		if err := sendIDs(t, w, 0, 5, true); !isMismatch(err) {
			t.Fatalf("batch %d with the catalog down: %v, want the kept *SchemaMismatchError", i, err)
		}
	}
	if n := lookups.Load(); n != 2 {
		t.Fatalf("%d catalog lookups, want 2 (the first, then one recheck)", n)
	}
}

// A catalog that does not answer holds a send back for create_timeout_ms
// at most (the read is bounded by it; other sends wait for it), and the
// send then goes on with the batch's optionality.
func TestCatalogReadBoundedByCreateTimeout(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.catalog_slow"
	alterTable(t, srv, table, "id BIGINT NOT NULL")
	release := make(chan struct{})
	ws, err := url.Parse(srv.WorkspaceURL())
	if err != nil {
		t.Fatal(err)
	}
	fwd := httputil.NewSingleHostReverseProxy(ws)
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, zerobuslocal.UnityCatalogTablesPath) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		fwd.ServeHTTP(rw, r)
	}))
	defer front.Close()
	defer close(release)
	cfg := localConfig(srv, table)
	cfg.UnityCatalogURL = front.URL
	cfg.CreateTimeout = 500 * time.Millisecond
	w, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	start := time.Now()
	if err := sendIDs(t, w, 0, 5, false); err != nil { // id NOT NULL in the batch and the table
		t.Fatalf("send with the catalog silent: %v", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("the send took %v with create_timeout_ms 500", d)
	}
	if n := len(srv.Rows(table)); n != 5 {
		t.Fatalf("%d rows stored, want 5", n)
	}
}

// A catalog answering 503 is named as answering, not as unreachable with
// advice to check the URL, network and TLS; the error stays retryable.
func TestCatalogAnsweringIsNotUnreachable(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.catalog_503"
	alterTable(t, srv, table, "id BIGINT NOT NULL")
	cfg := localConfig(srv, table)
	cfg.Transport = TransportArrowFlight
	cfg.UnityCatalogURL, _ = catalogFront(t, srv, func(int32) bool { return true })
	w, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	err = sendIDs(t, w, 0, 3, false)
	if err == nil || !IsRetryable(err) {
		t.Fatalf("send with the catalog answering 503: %v, want a retryable error", err)
	}
	for _, want := range []string{cfg.UnityCatalogURL + " answered", "HTTP 503", "TEMPORARILY_UNAVAILABLE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "check the endpoint URL") || strings.Contains(err.Error(), "cannot reach") {
		t.Errorf("error %q calls an answering catalog unreachable", err)
	}
}

// A null-type column takes the table's type from the catalog. When the
// catalog is down for the first batch, that batch gets the catalog's
// retryable error, not a refusal kept for the schema, and the next batch
// reads the catalog again and is stored (as over Flight). The refusal was
// kept: every later batch of the schema was refused, not retryable.
func TestProtobufNullColumnRereadsACatalogThatWasDown(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.pb_null_catalog_down"
	alterTable(t, srv, table, "id BIGINT, n STRING")
	cfg := localConfig(srv, table)
	var lookups *atomic.Int32
	cfg.UnityCatalogURL, lookups = catalogFront(t, srv, func(n int32) bool { return n == 1 })
	w, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "n", Type: arrow.Null, Nullable: true},
	}, nil)
	send := func(first int64) (*TransmissionResult, error) {
		ids := array.NewInt64Builder(memory.DefaultAllocator)
		defer ids.Release()
		ids.AppendValues([]int64{first, first + 1}, nil)
		idArr := ids.NewArray()
		defer idArr.Release()
		nulls := array.NewNull(2)
		defer nulls.Release()
		rec := array.NewRecordBatch(schema, []arrow.Array{idArr, nulls}, 2)
		defer rec.Release()
		return w.SendBatch(context.Background(), rec)
	}
	if _, err := send(0); err == nil || !IsRetryable(err) {
		t.Fatalf("with the catalog down: %v (retryable %v), want the catalog's retryable error", err, IsRetryable(err))
	}
	if res, err := send(10); err != nil || res.SuccessfulCount != 2 {
		t.Fatalf("after the catalog came back: %v, %v", res, err)
	}
	if n := len(srv.Rows(table)); n != 2 {
		t.Fatalf("%d rows stored, want 2", n)
	}
	if n := lookups.Load(); n != 2 {
		t.Fatalf("%d catalog lookups, want 2", n)
	}
}

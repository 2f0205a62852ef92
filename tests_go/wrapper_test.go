package tests_go

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

func TestSendBatchSizes(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	large := 1_000_000 // a few seconds, dominated by the local server decoding each record
	if testing.Short() || raceEnabled {
		large = 100_000
	}
	tests := []struct {
		name string
		rows int
	}{
		{"empty", 0},
		{"one row", 1},
		{"one chunk", 3000},
		{"several chunks", 50_000},
		{"large", large},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			table := fmt.Sprintf("main.default.sizes_%d", i)
			w := newWrapper(t, serverConfig(srv, table))
			rec := eventBatch(mem, 0, tc.rows)
			defer rec.Release()
			res, err := w.SendBatch(testCtx(t), rec)
			if err != nil {
				t.Fatalf("SendBatch: %v", err)
			}
			checkInvariant(t, res, tc.rows)
			if tc.rows > 0 && res.Attempts != 1 {
				t.Errorf("Attempts = %d, want 1", res.Attempts)
			}
			if got := srv.RecordCount(table); got != tc.rows {
				t.Fatalf("server stored %d rows, want %d", got, tc.rows)
			}
			ids := storedIDs(t, srv, table)
			for id := int64(0); id < int64(tc.rows); id++ {
				if ids[id] != 1 {
					t.Fatalf("id %d stored %d times, want 1", id, ids[id])
				}
			}
			if tc.rows > 0 && res.BatchSizeBytes <= 0 {
				t.Errorf("BatchSizeBytes = %d, want > 0", res.BatchSizeBytes)
			}
		})
	}
}

// TestPartialFailure sends rows of which some cannot be converted (a null in
// a non-nullable column, a uint64 over int64 range, an oversize record): the
// others are stored, and the quarantine batches hold exactly the right rows.
// With WithRowRangesOnly the result holds the successful rows as ranges
// only (SuccessfulRows nil) and every method returns the same values.
func TestPartialFailure(t *testing.T) {
	t.Run("row lists", func(t *testing.T) { testPartialFailure(t, "main.default.partial") })
	t.Run("ranges only", func(t *testing.T) {
		res := testPartialFailure(t, "main.default.partial_ranges", core.WithRowRangesOnly())
		if res.SuccessfulRows != nil || res.FailedRows != nil {
			t.Errorf("SuccessfulRows = %v, FailedRows = %v, want nil with WithRowRangesOnly", res.SuccessfulRows, res.FailedRows)
		}
		var ranges [][2]int
		for _, g := range res.FailedGroups() {
			ranges = append(ranges, g.Ranges...)
		}
		if want := [][2]int{{3, 4}, {8, 9}, {15, 16}}; !cmp.Equal(ranges, want) {
			t.Errorf("FailedGroups ranges = %v, want %v", ranges, want)
		}
		if want := [][2]int{{0, 3}, {4, 8}, {9, 15}, {16, 20}}; !cmp.Equal(res.SuccessfulRanges, want) {
			t.Errorf("SuccessfulRanges = %v, want %v", res.SuccessfulRanges, want)
		}
	})
}

func testPartialFailure(t *testing.T, table string, opts ...core.Option) *core.TransmissionResult {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	cfg := serverConfig(srv, table)
	cfg.MaxRecordBytes = 1000
	w := newWrapper(t, cfg, opts...)

	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "must", Type: arrow.BinaryTypes.String},
		{Name: "big", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const rows = 20
	wantFailed := map[int]string{3: "must", 8: "big", 15: ""} // row -> column ("" = whole record)
	for i := 0; i < rows; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		switch i {
		case 3:
			b.Field(1).(*array.StringBuilder).AppendNull()
		case 15:
			b.Field(1).(*array.StringBuilder).Append(strings.Repeat("x", 2000))
		default:
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprint("row", i))
		}
		if i == 8 {
			b.Field(2).(*array.Uint64Builder).Append(1 << 63)
		} else {
			b.Field(2).(*array.Uint64Builder).Append(uint64(i))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	res, err := w.SendBatch(testCtx(t), rec)
	if err == nil {
		t.Fatal("SendBatch: nil error, want a partial failure")
	}
	if !errors.Is(err, res.Err) && err != res.Err {
		t.Errorf("returned error %v is not result.Err %v", err, res.Err)
	}
	checkInvariant(t, res, rows)
	if !res.IsPartialSuccess() || !res.HasFailedRows() || !res.HasSuccessfulRows() {
		t.Errorf("IsPartialSuccess/HasFailedRows/HasSuccessfulRows = %v/%v/%v, want all true",
			res.IsPartialSuccess(), res.HasFailedRows(), res.HasSuccessfulRows())
	}
	if got, want := core.KindOf(err), core.KindConversion; got != want {
		t.Errorf("KindOf(err) = %q, want %q", got, want)
	}
	if d := cmp.Diff([]int{3, 8, 15}, res.FailedRowIndices()); d != "" {
		t.Errorf("FailedRowIndices (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int{3, 8, 15}, res.FailedRowIndicesByErrorType(core.KindConversion)); d != "" {
		t.Errorf("FailedRowIndicesByErrorType (-want +got):\n%s", d)
	}
	if got := res.GroupErrorsByType(); len(got) != 1 || len(got[core.KindConversion]) != 3 {
		t.Errorf("GroupErrorsByType = %v", got)
	}
	st := res.ErrorStatistics()
	if st.FailedRows != 3 || st.SuccessfulRows != 17 || st.ByKind[core.KindConversion] != 3 {
		t.Errorf("ErrorStatistics = %+v", st)
	}
	if len(res.ErrorMessages()) != 3 {
		t.Errorf("ErrorMessages = %q, want 3 distinct", res.ErrorMessages())
	}
	for _, f := range res.FailedRows {
		var ce *core.ConversionError
		if !errors.As(f.Err, &ce) {
			t.Fatalf("row %d: error %T is not *core.ConversionError", f.Index, f.Err)
		}
		if ce.Row != f.Index {
			t.Errorf("row %d: ConversionError.Row = %d", f.Index, ce.Row)
		}
		if col := wantFailed[f.Index]; col != "" && ce.Column != col {
			t.Errorf("row %d: Column = %q, want %q", f.Index, ce.Column, col)
		}
		if !strings.Contains(ce.Error(), fmt.Sprintf("row %d", f.Index)) {
			t.Errorf("row %d: message %q does not name the row", f.Index, ce.Error())
		}
		if core.IsRetryable(f.Err) {
			t.Errorf("row %d: conversion error reported retryable", f.Index)
		}
	}
	if !strings.Contains(res.String(), "17/20 rows acknowledged (3 not acknowledged: conversion=3; 3 not written)") || !strings.Contains(res.String(), "conversion=3") {
		t.Errorf("String() = %q", res.String())
	}

	// The server holds exactly the successful rows.
	ids := storedIDs(t, srv, table)
	if len(ids) != 17 {
		t.Errorf("server has %d ids, want 17", len(ids))
	}
	for id := range ids {
		if _, failed := wantFailed[int(id)]; failed {
			t.Errorf("failed row %d was stored", id)
		}
	}

	failed, err := res.ExtractFailedBatchWith(mem, rec)
	if err != nil {
		t.Fatalf("ExtractFailedBatch: %v", err)
	}
	defer failed.Release()
	if got := int64Column(failed, 0); !cmp.Equal(got, []int64{3, 8, 15}) {
		t.Errorf("failed batch ids = %v, want [3 8 15]", got)
	}
	if !failed.Schema().Equal(rec.Schema()) {
		t.Errorf("failed batch schema %v != %v", failed.Schema(), rec.Schema())
	}
	if s := failed.Column(1).(*array.String); !s.IsNull(0) || s.Value(2) != strings.Repeat("x", 2000) {
		t.Errorf("failed batch 'must' column not copied faithfully")
	}
	ok, err := res.ExtractSuccessfulBatchWith(mem, rec)
	if err != nil {
		t.Fatalf("ExtractSuccessfulBatch: %v", err)
	}
	defer ok.Release()
	var wantOK []int64
	for i := 0; i < rows; i++ {
		if _, f := wantFailed[i]; !f {
			wantOK = append(wantOK, int64(i))
		}
	}
	if got := int64Column(ok, 0); !cmp.Equal(got, wantOK) {
		t.Errorf("successful batch ids = %v, want %v", got, wantOK)
	}

	// The replayed quarantine with the bad values fixed can be sent.
	other := eventBatch(mem, 0, 2)
	defer other.Release()
	if _, err := res.ExtractFailedBatch(other); err == nil {
		t.Error("ExtractFailedBatch with a batch of another size: nil error")
	}
	if _, err := res.ExtractSuccessfulBatch(other); err == nil {
		t.Error("ExtractSuccessfulBatch with a batch of another size: nil error")
	}
	if got := res.SuccessfulRowIndices(); !cmp.Equal(got, []int{0, 1, 2, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19}) {
		t.Errorf("SuccessfulRowIndices = %v", got)
	}
	return res
}

func int64Column(rec arrow.RecordBatch, col int) []int64 {
	a := rec.Column(col).(*array.Int64)
	out := make([]int64, a.Len())
	for i := range out {
		out[i] = a.Value(i)
	}
	return out
}

// TestSchemaChange sends batches with different Arrow schemas: each goes on
// a stream created with its own descriptor.
func TestSchemaChange(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.schema_change"
	w := newWrapper(t, serverConfig(srv, table))
	ctx := testCtx(t)

	// int16 and int32 both map to a proto int32: the table accepts both, but
	// they are different Arrow schemas and must use different streams.
	mk := func(typ arrow.DataType, first int64, n int) arrow.RecordBatch {
		s := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: typ, Nullable: true}}, nil)
		b := array.NewRecordBuilder(mem, s)
		defer b.Release()
		for i := 0; i < n; i++ {
			b.Field(0).(*array.Int64Builder).Append(first + int64(i))
			switch vb := b.Field(1).(type) {
			case *array.Int32Builder:
				vb.Append(int32(i))
			case *array.Int16Builder:
				vb.Append(int16(i))
			case *array.StringBuilder:
				vb.Append("text")
			}
		}
		return b.NewRecordBatch()
	}
	streamOf := func(first, n int64) map[string]bool {
		out := map[string]bool{}
		for _, r := range srv.Rows(table) {
			id, _ := field(r.Message, "id")
			if id.Int() >= first && id.Int() < first+n {
				out[r.StreamID] = true
			}
		}
		return out
	}
	send := func(rec arrow.RecordBatch) (*core.TransmissionResult, error) {
		defer rec.Release()
		return w.SendBatch(ctx, rec)
	}

	if _, err := send(mk(arrow.PrimitiveTypes.Int32, 0, 10)); err != nil {
		t.Fatalf("batch A: %v", err)
	}
	if _, err := send(mk(arrow.PrimitiveTypes.Int16, 100, 10)); err != nil {
		t.Fatalf("batch B: %v", err)
	}
	if _, err := send(mk(arrow.PrimitiveTypes.Int32, 200, 10)); err != nil {
		t.Fatalf("batch A again: %v", err)
	}
	a1, b1, a2 := streamOf(0, 10), streamOf(100, 10), streamOf(200, 10)
	if len(a1) != 1 || len(b1) != 1 || len(a2) != 1 {
		t.Fatalf("streams per batch: %v %v %v, want one each", a1, b1, a2)
	}
	for id := range b1 {
		if a1[id] || a2[id] {
			t.Errorf("schema B rows went on schema A's stream %s", id)
		}
	}

	// A schema the table does not accept fails naming the column (checked
	// against the table's columns from Unity Catalog before any stream
	// opens), and does not disturb the streams of the good schema.
	res, err := send(mk(arrow.BinaryTypes.String, 300, 5))
	if err == nil {
		t.Fatal("incompatible schema: nil error")
	}
	checkInvariant(t, res, 5)
	var sm *core.SchemaMismatchError
	if !errors.As(err, &sm) || len(sm.Columns) != 1 || sm.Columns[0].Column != "v" || sm.Columns[0].BatchType != "utf8" {
		t.Fatalf("error %v: want a *SchemaMismatchError naming v (utf8)", err)
	}
	if core.IsRetryable(err) {
		t.Error("schema mismatch reported retryable")
	}
	if _, err := send(mk(arrow.PrimitiveTypes.Int32, 400, 10)); err != nil {
		t.Fatalf("batch A after a rejected schema: %v", err)
	}
	if got := srv.RecordCount(table); got != 40 {
		t.Errorf("server stored %d rows, want 40", got)
	}
}

// TestConcurrentSends: 16 goroutines × 50 batches; the server holds exactly
// the expected rows.
func TestConcurrentSends(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.concurrent"
	w := newWrapper(t, serverConfig(srv, table))
	ctx := testCtx(t)
	const goroutines, batches, rows = 16, 50, 100
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*batches)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < batches; i++ {
				rec := eventBatch(memory.DefaultAllocator, int64((g*batches+i)*rows), rows)
				res, err := w.SendBatch(ctx, rec)
				rec.Release()
				if err != nil {
					errs <- err
					return
				}
				if res.SuccessfulCount != rows {
					errs <- fmt.Errorf("batch %d/%d: %d successful", g, i, res.SuccessfulCount)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	ids := storedIDs(t, srv, table)
	if len(ids) != goroutines*batches*rows {
		t.Fatalf("server has %d distinct ids, want %d", len(ids), goroutines*batches*rows)
	}
	for id, n := range ids {
		if n != 1 || id < 0 || id >= goroutines*batches*rows {
			t.Fatalf("id %d stored %d times", id, n)
		}
	}
}

// TestFaultsDuringConcurrentSends injects retryable faults while 8
// goroutines send: every batch succeeds and every row is stored (at least
// once: a dropped connection can lose acks). No log record or error shows
// the secret or an issued token.
func TestFaultsDuringConcurrentSends(t *testing.T) {
	faults := []struct {
		name  string
		fault zerobuslocal.Fault
	}{
		{"unavailable", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Unavailable, AfterMessages: 20}},
		{"internal", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Internal, AfterMessages: 35}},
		{"drop connection", zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 25}},
		{"clean end of stream", zerobuslocal.Fault{Kind: zerobuslocal.FaultEndStream, AfterMessages: 15}},
		{"close signal", zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, AfterMessages: 10, CloseAfter: 50 * time.Millisecond}},
		{"expired token", zerobuslocal.Fault{Kind: zerobuslocal.FaultExpireToken, AfterMessages: 30}},
	}
	for i, tc := range faults {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := fmt.Sprintf("main.default.faults_%d", i)
			leaks := newLeakCheck(t, srv.ClientSecret())
			w := newWrapper(t, serverConfig(srv, table), leaks.options()...)
			srv.InjectFault(table, tc.fault)
			ctx := testCtx(t)
			const goroutines, batches, rows = 8, 10, 50
			var wg sync.WaitGroup
			var maxAttempts atomic.Int32
			for g := 0; g < goroutines; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < batches; i++ {
						rec := eventBatch(memory.DefaultAllocator, int64((g*batches+i)*rows), rows)
						res, err := w.SendBatch(ctx, rec)
						rec.Release()
						leaks.noteResult(res)
						if err != nil {
							t.Errorf("goroutine %d batch %d: %v", g, i, err)
							return
						}
						checkInvariant(t, res, rows)
						if a := int32(res.Attempts); a > maxAttempts.Load() {
							maxAttempts.Store(a)
						}
					}
				}()
			}
			wg.Wait()
			if srv.Stats().FaultsFired == 0 {
				t.Fatal("the fault never fired")
			}
			ids := storedIDs(t, srv, table)
			for id := int64(0); id < goroutines*batches*rows; id++ {
				if ids[id] == 0 {
					t.Fatalf("id %d was acknowledged but is not stored", id)
				}
			}
			t.Logf("fault %s: %d rows stored for %d sent, max attempts %d", tc.name, srv.RecordCount(table), goroutines*batches*rows, maxAttempts.Load())
		})
	}
}

// TestNonRetryableFailures: every row fails with a typed, classified error
// and is listed for quarantine. No log record or error shows the secret (the
// right one or the wrong one configured) or an issued token.
func TestNonRetryableFailures(t *testing.T) {
	tests := []struct {
		name     string
		opts     zerobuslocal.Options
		mutate   func(*core.Config)
		fault    *zerobuslocal.Fault
		wantKind core.ErrorKind
		want     string
	}{
		{name: "table not found", opts: zerobuslocal.Options{DisableAutoCreate: true},
			wantKind: core.KindTransmission, want: "(NOT_FOUND)"},
		{name: "bad secret", mutate: func(c *core.Config) { c.ClientSecret = "wrong-secret-value" },
			wantKind: core.KindAuthentication, want: "authentication failed"},
		{name: "permission denied", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.PermissionDenied, Persistent: true},
			wantKind: core.KindAuthentication, want: "authentication failed"},
		{name: "retries exhausted", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Unavailable, Persistent: true},
			mutate: func(c *core.Config) { c.RetryMaxAttempts = 3 }, wantKind: core.KindRetryExhausted, want: "gave up after"},
		{name: "invalid argument mid-stream", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.InvalidArgument, AfterMessages: 1},
			wantKind: core.KindTransmission, want: "(INVALID_ARGUMENT)"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, tc.opts)
			table := fmt.Sprintf("main.default.fail_%d", i)
			cfg := serverConfig(srv, table)
			cfg.MaxMessageBytes = 4096 // several requests per batch
			cfg.MaxRecordBytes = 1000
			if tc.mutate != nil {
				tc.mutate(&cfg)
			}
			leaks := newLeakCheck(t, srv.ClientSecret(), cfg.ClientSecret)
			w := newWrapper(t, cfg, leaks.options()...)
			if tc.fault != nil {
				srv.InjectFault(table, *tc.fault)
			}
			rec := eventBatch(memory.DefaultAllocator, 0, 500)
			defer rec.Release()
			res, err := w.SendBatch(testCtx(t), rec)
			leaks.noteResult(res)
			leaks.noteErr(err)
			if err == nil {
				t.Fatal("SendBatch: nil error")
			}
			checkInvariant(t, res, 500)
			if got := core.KindOf(err); got != tc.wantKind {
				t.Errorf("KindOf(%v) = %q, want %q", err, got, tc.wantKind)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), srv.ClientSecret()) {
				t.Errorf("error leaks the secret: %v", err)
			}
			stored := srv.RecordCount(table)
			if stored != res.SuccessfulCount {
				t.Errorf("server stored %d rows, result says %d successful", stored, res.SuccessfulCount)
			}
			q, err := res.ExtractFailedBatch(rec)
			if err != nil {
				t.Fatal(err)
			}
			defer q.Release()
			if int(q.NumRows()) != res.FailedCount {
				t.Errorf("quarantine batch has %d rows, want %d", q.NumRows(), res.FailedCount)
			}
		})
	}
}

// TestCloseDuringSends closes the wrapper while goroutines send: calls in
// progress finish with every row accounted for, later calls get ErrClosed,
// and rows reported successful are on the server.
func TestCloseDuringSends(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{AckPolicy: zerobuslocal.DelayedAcks(2*time.Millisecond, 0)})
	base := runtime.NumGoroutine()
	const table = "main.default.close_during"
	w, err := core.New(context.Background(), serverConfig(srv, table), core.WithRetryBackoff(noWait))
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		okIDs    []int64
		closedN  atomic.Int32
		started  = make(chan struct{}, 8)
		nextID   atomic.Int64
		stopping atomic.Bool
	)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 1000 && !stopping.Load(); i++ {
				first := nextID.Add(100) - 100
				rec := eventBatch(memory.DefaultAllocator, first, 100)
				res, err := w.SendBatch(ctx, rec)
				rec.Release()
				if i == 0 {
					started <- struct{}{}
				}
				checkInvariant(t, res, 100)
				if errors.Is(err, core.ErrClosed) {
					closedN.Add(1)
					if core.KindOf(err) != core.KindClosed {
						t.Errorf("KindOf(ErrClosed) = %q", core.KindOf(err))
					}
					return
				}
				mu.Lock()
				for _, r := range res.SuccessfulRows {
					okIDs = append(okIDs, first+int64(r))
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < 8; i++ {
		<-started
	}
	if err := w.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	stopping.Store(true)
	wg.Wait()
	if closedN.Load() == 0 {
		t.Error("no SendBatch returned ErrClosed after Close")
	}
	if err := w.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	rec := eventBatch(memory.DefaultAllocator, 0, 3)
	defer rec.Release()
	if res, err := w.SendBatch(ctx, rec); !errors.Is(err, core.ErrClosed) || res.FailedCount != 3 {
		t.Errorf("SendBatch after Close = %v, %v; want ErrClosed with 3 failed rows", res, err)
	}
	if err := w.Flush(ctx); !errors.Is(err, core.ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
	if f := w.SendBatchAsync(ctx, rec); f == nil {
		t.Error("SendBatchAsync returned nil")
	} else if _, err := f.Wait(ctx); !errors.Is(err, core.ErrClosed) {
		t.Errorf("SendBatchAsync after Close: %v, want ErrClosed", err)
	}
	ids := storedIDs(t, srv, table)
	for _, id := range okIDs {
		if ids[id] == 0 {
			t.Fatalf("row %d reported successful but not stored", id)
		}
	}
	t.Logf("%d rows acknowledged before Close", len(okIDs))
	checkGoroutines(t, base)
}

// TestAsyncAndFlush: SendBatchAsync retains the batch, Flush waits for it.
func TestAsyncAndFlush(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{AckPolicy: zerobuslocal.DelayedAcks(5*time.Millisecond, 0)})
	const table = "main.default.async"
	w := newWrapper(t, serverConfig(srv, table))
	ctx := testCtx(t)
	var futures []*core.SendFuture
	for i := 0; i < 10; i++ {
		rec := eventBatch(mem, int64(i*100), 100)
		futures = append(futures, w.SendBatchAsync(ctx, rec))
		rec.Release() // the wrapper holds its own reference
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	for i, f := range futures {
		select {
		case <-f.Ready():
		default:
			t.Fatalf("future %d not ready after Flush", i)
		}
		res, err := f.Wait(ctx)
		if err != nil {
			t.Fatalf("future %d: %v", i, err)
		}
		checkInvariant(t, res, 100)
	}
	if got := srv.RecordCount(table); got != 1000 {
		t.Errorf("server stored %d rows, want 1000", got)
	}
}

// TestWriterDisabled converts and writes debug files but never connects:
// the endpoint is a listener that counts connections.
func TestWriterDisabled(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lis.Close()
	var accepts atomic.Int32
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			c.Close()
		}
	}()
	dir := t.TempDir()
	cfg := core.Config{
		Endpoint:        "http://" + lis.Addr().String(),
		UnityCatalogURL: "http://" + lis.Addr().String(),
		TableName:       "main.default.offline",
		WriterDisabled:  true,
		DebugEnabled:    true,
		DebugOutputDir:  dir,
	}
	w := newWrapper(t, cfg)
	rec := eventBatch(mem, 0, 250)
	defer rec.Release()
	res, err := w.SendBatch(testCtx(t), rec)
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	checkInvariant(t, res, 250)
	if !res.WriterDisabled || !res.Success || res.SuccessfulCount != 250 || res.BatchSizeBytes == 0 {
		t.Errorf("result = %+v, want WriterDisabled success with 250 rows and a byte count", res)
	}
	if !strings.Contains(res.String(), "writer disabled") {
		t.Errorf("String() = %q does not say the writer is disabled", res.String())
	}
	if err := w.Close(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if n := accepts.Load(); n != 0 {
		t.Errorf("%d connections were made, want 0", n)
	}

	// The debug Arrow file holds the batch.
	f, err := os.Open(filepath.Join(dir, "zerobus", "arrow", "main.default.offline.arrow"))
	if err != nil {
		matches, _ := filepath.Glob(filepath.Join(dir, "zerobus", "arrow", "*"))
		t.Fatalf("debug arrow file: %v (found %v)", err, matches)
	}
	defer f.Close()
	rd, err := ipc.NewReader(f, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	var n int64
	for rd.Next() {
		n += rd.RecordBatch().NumRows()
	}
	if n != 250 {
		t.Errorf("debug arrow file has %d rows, want 250", n)
	}
	protoFiles, _ := filepath.Glob(filepath.Join(dir, "zerobus", "proto", "*.proto"))
	if len(protoFiles) == 0 {
		t.Errorf("no debug proto file written")
	} else if st, err := os.Stat(protoFiles[0]); err != nil || st.Size() < int64(res.BatchSizeBytes) {
		t.Errorf("debug proto file %s: %v, size %d < %d", protoFiles[0], err, st.Size(), res.BatchSizeBytes)
	}
}

// TestNewValidation: New reports every problem at once and needs no network.
func TestNewValidation(t *testing.T) {
	_, err := core.New(context.Background(), core.Config{TableName: "bad-name"})
	if err == nil {
		t.Fatal("New: nil error")
	}
	var ce *core.ConfigurationError
	if !errors.As(err, &ce) || len(ce.Problems) != 5 {
		t.Fatalf("error %v: want *ConfigurationError with 5 problems", err)
	}
	if core.IsRetryable(err) {
		t.Error("configuration error reported retryable")
	}
	// A headers provider replaces OAuth credentials.
	_, err = core.New(context.Background(), core.Config{TableName: "a.b.c", Endpoint: "http://127.0.0.1:1"},
		core.WithHeadersProvider(func(context.Context) (map[string]string, error) { return nil, nil }))
	if err != nil {
		t.Errorf("New with headers provider: %v", err)
	}
	// An unwritable debug directory names the directory.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = core.New(context.Background(), core.Config{TableName: "a.b.c", WriterDisabled: true, DebugArrowEnabled: true, DebugOutputDir: file})
	if err == nil || !strings.Contains(err.Error(), file) || core.KindOf(err) != core.KindConfiguration {
		t.Errorf("New with unwritable debug dir: %v", err)
	}
}

// TestUnsupportedSchema: a column protobuf cannot express fails the whole
// batch with a conversion error naming the column.
func TestUnsupportedSchema(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w := newWrapper(t, core.Config{TableName: "a.b.c", WriterDisabled: true})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "nested", Type: arrow.ListOf(arrow.ListOf(arrow.PrimitiveTypes.Int32)), Nullable: true},
		{Name: "bad-name", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(1)
	b.Field(1).AppendNull()
	b.Field(2).AppendNull()
	rec := b.NewRecordBatch()
	defer rec.Release()
	res, err := w.SendBatch(testCtx(t), rec)
	if err == nil {
		t.Fatal("nil error")
	}
	checkInvariant(t, res, 1)
	var ce *core.ConversionError
	if !errors.As(err, &ce) || ce.Row != -1 {
		t.Fatalf("error %v: want a batch-level *ConversionError", err)
	}
	for _, w := range []string{"nested", "bad-name", "2 problems"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

// TestFutureWaitAfterItsContextEnded: a future already resolved gives its
// result to Wait even when Wait's ctx has ended too (a select between the
// two picked at random: the result came back nil half of the time, e.g. for
// a caller that collects futures under a deadline that has just passed).
func TestFutureWaitAfterItsContextEnded(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	w := newWrapper(t, serverConfig(srv, "main.default.future_wait"))
	rec := eventBatch(memory.DefaultAllocator, 0, 10)
	defer rec.Release()
	f := w.SendBatchAsync(testCtx(t), rec)
	<-f.Ready()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 100; i++ {
		res, err := f.Wait(ended)
		if err != nil || res == nil || res.SuccessfulCount != 10 {
			t.Fatalf("try %d: Wait of a resolved future with an ended ctx = (%v, %v), want its result", i, res, err)
		}
	}
}

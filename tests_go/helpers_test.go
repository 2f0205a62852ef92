package tests_go

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/leakcheck"
)

// testCtx returns a context bounded so that a hung test fails instead of
// hanging CI.
func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// startServer starts a local Zerobus server closed at test end.
func startServer(t testing.TB, opts zerobuslocal.Options) *zerobuslocal.Server {
	t.Helper()
	srv, err := zerobuslocal.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("zerobuslocal.Start: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// serverConfig is a Config pointing at srv for table, with fast retries.
func serverConfig(srv *zerobuslocal.Server, table string) core.Config {
	cfg := core.DefaultConfig()
	cfg.Endpoint = srv.Endpoint()
	cfg.UnityCatalogURL = srv.WorkspaceURL()
	cfg.ClientID = srv.ClientID()
	cfg.ClientSecret = srv.ClientSecret()
	cfg.TableName = table
	cfg.RetryBaseDelay = time.Millisecond
	cfg.RetryMaxDelay = 10 * time.Millisecond
	return cfg
}

// noWait is a retry backoff without delay.
func noWait(int, time.Duration, time.Duration) time.Duration { return time.Millisecond }

// newWrapper creates a Wrapper closed at test end.
func newWrapper(t testing.TB, cfg core.Config, opts ...core.Option) *core.Wrapper {
	t.Helper()
	opts = append([]core.Option{core.WithRetryBackoff(noWait)}, opts...)
	w, err := core.New(context.Background(), cfg, opts...)
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = w.Close(ctx)
	})
	return w
}

// eventSchema is the simple schema most tests use.
var eventSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

// eventBatch builds rows with ids first, first+1, ...; name is null every
// 7th row.
func eventBatch(mem memory.Allocator, first int64, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, eventSchema)
	defer b.Release()
	ids := b.Field(0).(*array.Int64Builder)
	names := b.Field(1).(*array.StringBuilder)
	scores := b.Field(2).(*array.Float64Builder)
	ids.Reserve(n)
	scores.Reserve(n)
	for i := 0; i < n; i++ {
		id := first + int64(i)
		ids.UnsafeAppend(id)
		if id%7 == 0 {
			names.AppendNull()
		} else {
			names.Append(fmt.Sprintf("event-%d", id))
		}
		scores.UnsafeAppend(float64(id) / 2)
	}
	return b.NewRecordBatch()
}

// field returns a field of a stored message by name.
func field(m protoreflect.Message, name string) (protoreflect.Value, bool) {
	fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
	if fd == nil || !m.Has(fd) {
		return protoreflect.Value{}, false
	}
	return m.Get(fd), true
}

// createTable registers table on srv with the columns of a DDL list
// ("id BIGINT NOT NULL, name STRING").
func createTable(t testing.TB, srv *zerobuslocal.Server, table, ddl string) {
	t.Helper()
	cols, err := zerobuslocal.ParseColumns(ddl)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
}

// storedIDs counts stored rows of table by their int64 "id" field.
func storedIDs(t testing.TB, srv *zerobuslocal.Server, table string) map[int64]int {
	t.Helper()
	out := map[int64]int{}
	for _, r := range srv.Rows(table) {
		v, ok := field(r.Message, "id")
		if !ok {
			t.Fatalf("stored row without id: %v", r.Message)
		}
		out[v.Int()]++
	}
	return out
}

// checkInvariant asserts the row accounting of a result.
func checkInvariant(t testing.TB, res *core.TransmissionResult, rows int) {
	t.Helper()
	if res == nil {
		t.Fatal("result is nil")
	}
	if res.TotalRows != rows {
		t.Errorf("TotalRows = %d, want %d", res.TotalRows, rows)
	}
	if res.SuccessfulCount+res.FailedCount != res.TotalRows {
		t.Errorf("successful %d + failed %d != total %d", res.SuccessfulCount, res.FailedCount, res.TotalRows)
	}
	failed := res.FailedRows
	if failed == nil { // WithRowRangesOnly: the rows of FailedGroups
		for _, g := range res.FailedGroups() {
			for _, r := range g.Ranges {
				for i := r[0]; i < r[1]; i++ {
					failed = append(failed, core.FailedRow{Index: i, Err: g.Err, State: g.State})
				}
			}
		}
		slices.SortFunc(failed, func(a, b core.FailedRow) int { return a.Index - b.Index })
	}
	if (res.SuccessfulRows != nil && len(res.SuccessfulRows) != res.SuccessfulCount) || len(failed) != res.FailedCount {
		t.Errorf("list lengths %d/%d do not match counts %d/%d", len(res.SuccessfulRows), len(failed), res.SuccessfulCount, res.FailedCount)
	}
	if got := res.FailedRowIndices(); len(got) != res.FailedCount || (len(got) > 0 && got[len(got)-1] != failed[len(failed)-1].Index) {
		t.Errorf("FailedRowIndices %v do not match the failed rows", got)
	}
	checkRanges(t, res)
	seen := make(map[int]bool, rows)
	for _, i := range res.SuccessfulRowIndices() {
		seen[i] = true
	}
	for _, f := range failed {
		if seen[f.Index] {
			t.Errorf("row %d is both successful and failed", f.Index)
		}
		if f.Err == nil {
			t.Errorf("failed row %d has no error", f.Index)
		}
		seen[f.Index] = true
	}
	if len(seen) != rows {
		t.Errorf("%d distinct rows accounted for, want %d", len(seen), rows)
	}
	if res.Success != (res.FailedCount == 0) {
		t.Errorf("Success = %v with %d failed rows", res.Success, res.FailedCount)
	}
}

// checkRanges checks SuccessfulRanges: ascending, non-empty, non-adjacent
// half-open ranges holding SuccessfulCount rows, the same rows as
// SuccessfulRowIndices and (when listed) SuccessfulRows.
func checkRanges(t testing.TB, res *core.TransmissionResult) {
	t.Helper()
	var rows []int
	for k, r := range res.SuccessfulRanges {
		if r[0] >= r[1] || (k > 0 && r[0] <= res.SuccessfulRanges[k-1][1]) {
			t.Errorf("SuccessfulRanges %v: range %d is empty, out of order or adjacent to the one before", res.SuccessfulRanges, k)
		}
		for i := r[0]; i < r[1]; i++ {
			rows = append(rows, i)
		}
	}
	if len(rows) != res.SuccessfulCount {
		t.Errorf("SuccessfulRanges hold %d rows, SuccessfulCount is %d", len(rows), res.SuccessfulCount)
	}
	if got := res.SuccessfulRowIndices(); !slices.Equal(got, rows) {
		t.Errorf("SuccessfulRowIndices %v != rows of SuccessfulRanges %v", got, rows)
	}
	if res.SuccessfulRows != nil && !slices.Equal(res.SuccessfulRows, rows) {
		t.Errorf("SuccessfulRows %v != rows of SuccessfulRanges %v", res.SuccessfulRows, rows)
	}
}

// checkGoroutines waits (bounded) for the goroutine count to come back to
// base, and fails with a dump if it does not.
func checkGoroutines(t testing.TB, base int) {
	t.Helper()
	if !leakcheck.Goroutines(t, base, 10*time.Second) {
		t.FailNow()
	}
}

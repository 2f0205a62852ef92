package core_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.opentelemetry.io/otel/attribute"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// unsentView is every accessor of a result whose rows all failed not
// written with one error (a call refused before it sent anything).
type unsentView struct {
	TotalRows, SuccessfulCount, FailedCount, NotWrittenCount, UnknownCount int
	Attempts, Recoveries, ResentRows, BatchSizeBytes                       int
	Success, WriterDisabled, FailedAsWhole                                 bool
	Err, InputErr                                                          error
	FailedRows                                                             []core.FailedRow
	SuccessfulRows                                                         []int
	SuccessfulRanges                                                       [][2]int
	FailedRowIndices, NotWrittenRowIndices, UnknownRowIndices              []int
	SuccessfulRowIndices, FailedRowIndicesByErrorType                      []int
	GroupErrorsByType                                                      map[core.ErrorKind][]int
	ErrorStatistics                                                        core.ErrorStats
	ErrorMessages                                                          []string
	FailedGroups                                                           []core.FailedGroup
	String                                                                 string
	Extracted                                                              [4]int64 // rows of ExtractFailed/NotWritten/Unknown/SuccessfulBatch
}

// viewOf reads every accessor of res (the Extract methods from a batch of
// its TotalRows rows).
func viewOf(t *testing.T, res *core.TransmissionResult, kind core.ErrorKind) unsentView {
	t.Helper()
	v := unsentView{
		TotalRows: res.TotalRows, SuccessfulCount: res.SuccessfulCount, FailedCount: res.FailedCount,
		NotWrittenCount: res.NotWrittenCount, UnknownCount: res.UnknownCount, Attempts: res.Attempts,
		Recoveries: res.Recoveries, ResentRows: res.ResentRows, BatchSizeBytes: res.BatchSizeBytes,
		Success: res.Success, WriterDisabled: res.WriterDisabled, FailedAsWhole: res.FailedAsWhole(),
		Err: res.Err, InputErr: res.InputErr, FailedRows: res.FailedRows, SuccessfulRows: res.SuccessfulRows,
		SuccessfulRanges: res.SuccessfulRanges, FailedRowIndices: res.FailedRowIndices(),
		NotWrittenRowIndices: res.NotWrittenRowIndices(), UnknownRowIndices: res.UnknownRowIndices(),
		SuccessfulRowIndices: res.SuccessfulRowIndices(), FailedRowIndicesByErrorType: res.FailedRowIndicesByErrorType(kind),
		GroupErrorsByType: res.GroupErrorsByType(), ErrorStatistics: res.ErrorStatistics(),
		ErrorMessages: res.ErrorMessages(), FailedGroups: res.FailedGroups(), String: res.String(),
	}
	rec := telBatch(memory.NewGoAllocator(), res.TotalRows)
	defer rec.Release()
	for i, extract := range []func(arrow.RecordBatch) (arrow.RecordBatch, error){
		res.ExtractFailedBatch, res.ExtractNotWrittenBatch, res.ExtractUnknownBatch, res.ExtractSuccessfulBatch,
	} {
		out, err := extract(rec)
		if err != nil {
			t.Fatalf("Extract method %d: %v", i, err)
		}
		v.Extracted[i] = out.NumRows()
		out.Release()
	}
	return v
}

// wantUnsent is the view of a result of n rows all not written with err
// (the sentinel, of kind kind), listed one by one in FailedRows when listed.
func wantUnsent(n int, err error, kind core.ErrorKind, listed bool) unsentView {
	seq := make([]int, n)
	for i := range seq {
		seq[i] = i
	}
	v := unsentView{
		TotalRows: n, FailedCount: n, NotWrittenCount: n, FailedAsWhole: true, Err: err,
		SuccessfulRanges: [][2]int{}, FailedRowIndices: seq, NotWrittenRowIndices: seq, UnknownRowIndices: []int{},
		GroupErrorsByType: map[core.ErrorKind][]int{},
		ErrorStatistics:   core.ErrorStats{TotalRows: n, FailedRows: n, NotWrittenRows: n, SuccessRate: 1, ByKind: map[core.ErrorKind]int{}},
		String:            fmt.Sprintf("zerobus: 0/%d rows acknowledged, 0 bytes in 0s, 0 attempts", n),
		Extracted:         [4]int64{int64(n), int64(n), 0, 0},
	}
	if n == 0 {
		return v
	}
	v.FailedRowIndicesByErrorType = seq
	v.GroupErrorsByType[kind] = seq
	v.ErrorStatistics.SuccessRate, v.ErrorStatistics.FailureRate = 0, 1
	v.ErrorStatistics.ByKind[kind] = n
	v.ErrorMessages = []string{err.Error()}
	v.FailedGroups = []core.FailedGroup{{Err: err, State: core.RowNotWritten, Ranges: [][2]int{{0, n}}}}
	v.String = fmt.Sprintf("zerobus: 0/%d rows acknowledged (%d not acknowledged: %s=%d; %d not written), 0 bytes in 0s, 0 attempts; first error: %v",
		n, n, kind, n, n, err)
	if listed {
		for i := range n {
			v.FailedRows = append(v.FailedRows, core.FailedRow{Index: i, Err: err, State: core.RowNotWritten})
		}
	}
	return v
}

// TestS25RefusedCallsHaveOneShape: every call refused before it sends
// anything (a closed, nil or zero Wrapper, a nil ctx) gives the same
// result through every accessor: a batch's rows all not written (listed in
// FailedRows unless WithRowRangesOnly), a reader's rows declared with
// WithTotalRows as one not-written range (FailedRows nil; none without
// it), and a closed Wrapper made by New records the call in the metrics.
// A declared total of 1<<40 rows allocates nothing per row.
func TestS25RefusedCallsHaveOneShape(t *testing.T) {
	srv := localServer(t)
	ctx := context.Background()
	lists, ranges, open := newHarness(t), newHarness(t), newHarness(t)
	wLists := lists.wrapper(t, localConfig(srv, "main.default.s25_unread"))
	wRanges, err := core.New(ctx, localConfig(srv, "main.default.s25_unread"), append(ranges.options(), core.WithRowRangesOnly())...)
	if err != nil {
		t.Fatal(err)
	}
	wOpen := open.wrapper(t, localConfig(srv, "main.default.s25_unread"))
	defer closeWrapper(t, wOpen)
	closeWrapper(t, wLists)
	closeWrapper(t, wRanges)
	var nilW *core.Wrapper
	rec := telBatch(memory.NewGoAllocator(), 3)
	defer rec.Release()

	wrappers := []struct {
		name     string
		w        *core.Wrapper
		ctx      context.Context
		want     error
		kind     core.ErrorKind
		listsRow bool         // a refused batch lists its rows
		h        *otelHarness // records the call when recorded
		recorded bool         // the call is in the metrics (closed, made by New)
	}{
		{"closed", wLists, ctx, core.ErrClosed, core.KindClosed, true, lists, true},
		{"closed ranges only", wRanges, ctx, core.ErrClosed, core.KindClosed, false, ranges, true},
		{"nil Wrapper", nilW, ctx, core.ErrClosed, core.KindClosed, true, nil, false},
		{"zero Wrapper", &core.Wrapper{}, ctx, core.ErrClosed, core.KindClosed, true, nil, false},
		{"nil ctx", wOpen, nil, core.ErrNilContext, core.KindOf(core.ErrNilContext), true, open, false},
	}
	calls := []struct {
		name   string
		rows   int  // the rows the result covers
		reader bool // FailedRows is nil (declared rows are never listed)
		call   func(w *core.Wrapper, ctx context.Context) (*core.TransmissionResult, error)
	}{
		{"SendBatch", 3, false, func(w *core.Wrapper, ctx context.Context) (*core.TransmissionResult, error) {
			return w.SendBatch(ctx, rec)
		}},
		{"SendBatchAsync", 3, false, func(w *core.Wrapper, ctx context.Context) (*core.TransmissionResult, error) {
			return w.SendBatchAsync(ctx, rec).Wait(context.Background())
		}},
		{"SendReader", 0, true, func(w *core.Wrapper, ctx context.Context) (*core.TransmissionResult, error) {
			return w.SendReader(ctx, &genReader{size: 10, count: 1})
		}},
		{"SendReaderAsync", 0, true, func(w *core.Wrapper, ctx context.Context) (*core.TransmissionResult, error) {
			return w.SendReaderAsync(ctx, &genReader{size: 10, count: 1}).Wait(context.Background())
		}},
		{"SendReader WithTotalRows", 5, true, func(w *core.Wrapper, ctx context.Context) (*core.TransmissionResult, error) {
			return w.SendReader(ctx, &genReader{size: 10, count: 1}, core.WithTotalRows(5))
		}},
		{"SendReaderAsync WithTotalRows", 5, true, func(w *core.Wrapper, ctx context.Context) (*core.TransmissionResult, error) {
			return w.SendReaderAsync(ctx, &genReader{size: 10, count: 1}, core.WithTotalRows(5)).Wait(context.Background())
		}},
	}
	for _, wc := range wrappers {
		for _, c := range calls {
			t.Run(wc.name+"/"+c.name, func(t *testing.T) {
				failedBefore, batchesBefore := s25Counts(t, wc.h, wc.kind)
				res, err := c.call(wc.w, wc.ctx)
				if err != wc.want || res == nil { //nolint:errorlint // the sentinel itself
					t.Fatalf("err %v (result %v); want %v", err, res, wc.want)
				}
				got := viewOf(t, res, wc.kind)
				want := wantUnsent(c.rows, wc.want, wc.kind, wc.listsRow && !c.reader)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("result:\n got %+v\nwant %+v", got, want)
				}
				failed, batches := s25Counts(t, wc.h, wc.kind)
				wantFailed, wantBatches := int64(0), int64(0)
				if wc.recorded {
					wantFailed, wantBatches = int64(c.rows), 1
				}
				if failed-failedBefore != wantFailed || batches-batchesBefore != wantBatches {
					t.Errorf("metrics: rows.failed{not_written,%s} +%d, batches.sent{failure} +%d; want +%d, +%d",
						wc.kind, failed-failedBefore, batches-batchesBefore, wantFailed, wantBatches)
				}
			})
		}
		t.Run(wc.name+"/huge total", func(t *testing.T) { checkHugeRefusal(t, wc.w, wc.ctx, wc.want, wc.kind) })
	}
}

// s25Counts is h's rows.failed{not_written, kind} and
// batches.sent{failure} so far (0, 0 without h).
func s25Counts(t *testing.T, h *otelHarness, kind core.ErrorKind) (failed, batches int64) {
	t.Helper()
	if h == nil {
		return 0, 0
	}
	rm := h.collect(t)
	return sumInt(rm, "zerobus.rows.failed", attribute.String("zerobus.row.state", "not_written"),
			attribute.String("zerobus.error.kind", string(kind))),
		sumInt(rm, "zerobus.batches.sent", attribute.String("zerobus.outcome", "failure"))
}

// checkHugeRefusal: a refused SendReader declaring 1<<40 rows covers them
// as one range (counts, FailedGroups, ErrorStatistics, FailedRows nil) in
// a fixed handful of allocations, not one per row.
func checkHugeRefusal(t *testing.T, w *core.Wrapper, ctx context.Context, want error, kind core.ErrorKind) {
	const huge = 1 << 40
	for _, async := range []bool{false, true} {
		send := func() (*core.TransmissionResult, error) {
			if async {
				return w.SendReaderAsync(ctx, &genReader{size: 10, count: 1}, core.WithTotalRows(huge)).Wait(context.Background())
			}
			return w.SendReader(ctx, &genReader{size: 10, count: 1}, core.WithTotalRows(huge))
		}
		res, err := send()
		if err != want || res.TotalRows != huge || res.FailedCount != huge || res.NotWrittenCount != huge || //nolint:errorlint // the sentinel
			res.UnknownCount != 0 || res.SuccessfulCount != 0 || res.Success || res.FailedRows != nil || res.SuccessfulRows != nil {
			t.Fatalf("async %t: %v (%v); want %d rows not written with %v, FailedRows nil", async, res, err, huge, want)
		}
		groups := res.FailedGroups()
		if !reflect.DeepEqual(groups, []core.FailedGroup{{Err: want, State: core.RowNotWritten, Ranges: [][2]int{{0, huge}}}}) {
			t.Errorf("async %t: FailedGroups %+v; want one range [0, %d)", async, groups, huge)
		}
		if st := res.ErrorStatistics(); st.ByKind[kind] != huge || st.NotWrittenRows != huge {
			t.Errorf("async %t: ErrorStatistics %+v; want %d %s rows not written", async, st, huge, kind)
		}
		// One result, its run, a future, the reader and the metrics of a
		// closed Wrapper: a few dozen allocations, a few KiB. One per row
		// would be 1<<40 (it never returned).
		if allocs := testing.AllocsPerRun(10, func() { _, _ = send() }); allocs > 64 {
			t.Errorf("async %t: %.0f allocations for a refused call declaring %d rows; want a fixed few (<= 64)", async, allocs, int64(huge))
		}
		if n := allocBytes(func() { _, _ = send() }); n > 64<<10 {
			t.Errorf("async %t: %d bytes allocated for a refused call declaring %d rows; want < 64 KiB", async, n, int64(huge))
		}
	}
}

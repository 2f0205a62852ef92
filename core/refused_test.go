package core_test

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// nullBatch is a batch of n rows of one null column: a million rows cost
// nothing to build.
func nullBatch(n int) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.Null, Nullable: true}}, nil)
	col := array.NewNull(n)
	defer col.Release()
	return array.NewRecordBatch(schema, []arrow.Array{col}, int64(n))
}

// allocBytes is the bytes f allocates (runtime.MemStats.TotalAlloc).
func allocBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// checkAllNotWritten checks that res reports every one of n rows failed
// with ErrClosed, not written, through the counts and every method.
func checkAllNotWritten(t *testing.T, res *core.TransmissionResult, err error, n int) {
	t.Helper()
	if !errors.Is(err, core.ErrClosed) || !errors.Is(res.Err, core.ErrClosed) || res.Success {
		t.Fatalf("err = %v, res.Err = %v, Success %v; want ErrClosed", err, res.Err, res.Success)
	}
	if res.TotalRows != n || res.FailedCount != n || res.NotWrittenCount != n || res.UnknownCount != 0 || res.SuccessfulCount != 0 {
		t.Errorf("counts total/failed/not written/unknown/ok = %d/%d/%d/%d/%d; want %d/%d/%d/0/0",
			res.TotalRows, res.FailedCount, res.NotWrittenCount, res.UnknownCount, res.SuccessfulCount, n, n, n)
	}
	if !res.FailedAsWhole() {
		t.Error("FailedAsWhole = false for a refused call")
	}
	groups := res.FailedGroups()
	if len(groups) != 1 || groups[0].State != core.RowNotWritten || !errors.Is(groups[0].Err, core.ErrClosed) ||
		len(groups[0].Ranges) != 1 || groups[0].Ranges[0] != [2]int{0, n} {
		t.Errorf("FailedGroups = %+v; want one not-written ErrClosed group [0, %d)", groups, n)
	}
	nw := res.NotWrittenRowIndices()
	if len(nw) != n || nw[0] != 0 || nw[n-1] != n-1 {
		t.Errorf("NotWrittenRowIndices: %d rows; want 0..%d", len(nw), n-1)
	}
	if u := res.UnknownRowIndices(); len(u) != 0 {
		t.Errorf("UnknownRowIndices = %d rows, want none", len(u))
	}
	if ok := res.SuccessfulRowIndices(); len(ok) != 0 {
		t.Errorf("SuccessfulRowIndices = %d rows, want none", len(ok))
	}
	st := res.ErrorStatistics()
	if st.ByKind[core.KindClosed] != n {
		t.Errorf("ErrorStatistics.ByKind = %v; want %d closed", st.ByKind, n)
	}
}

// TestRefusedCallKeepsOneRun: a million-row batch sent to a closed Wrapper
// (SendBatch and SendBatchAsync) fails every row, not written, and with
// WithRowRangesOnly its result is one run, allocated in O(1) — not 40
// bytes per row. Without the option FailedRows lists every row as before.
func TestRefusedCallKeepsOneRun(t *testing.T) {
	const n = 1_000_000
	srv := localServer(t)
	ctx := context.Background()
	rec := nullBatch(n)
	defer rec.Release()

	ranges, err := core.New(ctx, localConfig(srv, "main.default.refused"), core.WithRowRangesOnly())
	if err != nil {
		t.Fatal(err)
	}
	lists, err := core.New(ctx, localConfig(srv, "main.default.refused"))
	if err != nil {
		t.Fatal(err)
	}
	closeWrapper(t, ranges)
	closeWrapper(t, lists)

	t.Run("ranges only", func(t *testing.T) {
		res, err := ranges.SendBatch(ctx, rec)
		checkAllNotWritten(t, res, err, n)
		if res.FailedRows != nil || res.SuccessfulRows != nil {
			t.Errorf("FailedRows %d, SuccessfulRows %d entries; want nil with WithRowRangesOnly",
				len(res.FailedRows), len(res.SuccessfulRows))
		}
		res, err = ranges.SendBatchAsync(ctx, rec).Wait(ctx)
		checkAllNotWritten(t, res, err, n)

		// The count alone cannot tell (a per-row list is one allocation):
		// the bytes can (40 MB for a list of a million FailedRows).
		// A fixed dozen: the result, its one run, and the refused call's
		// metrics (recorded as any failed send's).
		allocs := testing.AllocsPerRun(20, func() { _, _ = ranges.SendBatch(ctx, rec) })
		if allocs > 16 {
			t.Errorf("SendBatch to a closed Wrapper: %.0f allocations for %d rows; want O(1) (≤ 16)", allocs, n)
		}
		sync := allocBytes(func() { _, _ = ranges.SendBatch(ctx, rec) })
		if sync > 64<<10 {
			t.Errorf("SendBatch to a closed Wrapper allocated %d bytes for %d rows; want < 64 KiB (O(1), not per row)", sync, n)
		}
		async := allocBytes(func() { _, _ = ranges.SendBatchAsync(ctx, rec).Wait(ctx) })
		if async > 64<<10 {
			t.Errorf("SendBatchAsync to a closed Wrapper allocated %d bytes for %d rows; want < 64 KiB (O(1), not per row)", async, n)
		}
		t.Logf("closed Wrapper, %d rows: SendBatch %.0f allocations, %d bytes; SendBatchAsync+Wait %d bytes", n, allocs, sync, async)
	})
	t.Run("lists", func(t *testing.T) {
		res, err := lists.SendBatch(ctx, rec)
		checkAllNotWritten(t, res, err, n)
		if len(res.FailedRows) != n {
			t.Fatalf("FailedRows has %d rows, want %d", len(res.FailedRows), n)
		}
		for i, f := range res.FailedRows {
			if f.Index != i || f.State != core.RowNotWritten || !errors.Is(f.Err, core.ErrClosed) {
				t.Fatalf("FailedRows[%d] = %+v; want row %d not written with ErrClosed", i, f, i)
			}
		}
		if res.SuccessfulRows != nil {
			t.Errorf("SuccessfulRows = %d rows, want none", len(res.SuccessfulRows))
		}
	})
	t.Run("empty", func(t *testing.T) {
		empty := nullBatch(0)
		defer empty.Release()
		for _, w := range []*core.Wrapper{ranges, lists} {
			res, err := w.SendBatch(ctx, empty)
			if !errors.Is(err, core.ErrClosed) || res.TotalRows != 0 || res.FailedCount != 0 ||
				res.FailedRows != nil || len(res.FailedGroups()) != 0 {
				t.Errorf("empty batch after Close = %+v, %v; want ErrClosed and no rows", res, err)
			}
		}
	})
}

// TestWholeBatchFailureKeepsOneRun: batches that fail whole on an open
// Wrapper (ctx canceled before the send starts, a schema that cannot be
// converted) are one run too: no per-row allocation with WithRowRangesOnly.
func TestWholeBatchFailureKeepsOneRun(t *testing.T) {
	const n = 1_000_000
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, "main.default.whole"), core.WithRowRangesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	// An open stream: a canceled call must still send nothing (it once
	// sent its first chunk on it and reported the rest unknown).
	first := idBatch(0, 10)
	defer first.Release()
	if res, err := w.SendBatch(context.Background(), first); err != nil || res.SuccessfulCount != 10 {
		t.Fatalf("first SendBatch = %v, %v", res, err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	ids := idBatch(100, n)
	defer ids.Release()
	nulls := nullBatch(n)
	defer nulls.Release()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		rec  arrow.RecordBatch
		kind core.ErrorKind
	}{
		{"canceled before start", canceled, ids, core.KindCanceled},
		{"schema not convertible", context.Background(), nulls, core.KindConversion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res *core.TransmissionResult
			var err error
			b := allocBytes(func() { res, err = w.SendBatch(tc.ctx, tc.rec) })
			if err == nil || core.KindOf(err) != tc.kind || res.FailedCount != n || res.NotWrittenCount != n {
				t.Fatalf("SendBatch = %v, %v; want %d rows not written, kind %s", res, err, n, tc.kind)
			}
			groups := res.FailedGroups()
			if len(groups) != 1 || groups[0].State != core.RowNotWritten || len(groups[0].Ranges) != 1 ||
				groups[0].Ranges[0] != [2]int{0, n} || core.KindOf(groups[0].Err) != tc.kind {
				t.Errorf("FailedGroups = %+v; want one not-written %s group [0, %d)", groups, tc.kind, n)
			}
			if res.FailedRows != nil {
				t.Errorf("FailedRows has %d rows; want nil with WithRowRangesOnly", len(res.FailedRows))
			}
			// A list would be 40 MB; opening the stream and planning cost
			// a few hundred KB, whatever the batch's size.
			if b > 4<<20 {
				t.Errorf("allocated %d bytes for %d failed rows; want < 4 MiB (not per row)", b, n)
			}
			if res.Attempts != 0 || res.SuccessfulCount != 0 {
				t.Errorf("Attempts %d, SuccessfulCount %d; want nothing sent", res.Attempts, res.SuccessfulCount)
			}
			t.Logf("%s: %d bytes allocated", tc.name, b)
		})
	}
	if ids := storedTelIDs(t, srv, "main.default.whole"); len(ids) != 10 {
		t.Errorf("the server stored %d rows; want only the first call's 10", len(ids))
	}
}

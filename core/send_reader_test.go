package core_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// idBatch is a telSchema batch with ids first..first+n-1; rows whose id is
// in nullIDs get a null (NOT NULL) name and fail conversion.
func idBatch(first, n int, nullIDs ...int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, telSchema)
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if slices.Contains(nullIDs, i) {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append("row")
		}
	}
	return b.NewRecordBatch()
}

// genReader is a RecordReader of batches of size rows (ids counting up from
// 0), count batches (< 0: endless), failing with err after them when set.
// It records how many rows it has handed out.
type genReader struct {
	size, count int
	nullIDs     []int
	err         error
	read        atomic.Int64
	onNext      func(read int64)
	cur         arrow.RecordBatch
	n           int
}

func (g *genReader) Schema() *arrow.Schema { return telSchema }
func (g *genReader) Retain()               {}
func (g *genReader) Release() {
	if g.cur != nil {
		g.cur.Release()
		g.cur = nil
	}
}
func (g *genReader) RecordBatch() arrow.RecordBatch { return g.cur }
func (g *genReader) Record() arrow.RecordBatch      { return g.cur }
func (g *genReader) Err() error {
	if g.count >= 0 && g.n >= g.count {
		return g.err
	}
	return nil
}

func (g *genReader) Next() bool {
	g.Release()
	if g.count >= 0 && g.n >= g.count {
		return false
	}
	if g.onNext != nil {
		g.onNext(g.read.Load())
	}
	g.cur = idBatch(g.n*g.size, g.size, g.nullIDs...)
	g.n++
	g.read.Add(int64(g.size))
	return true
}

func storedTelIDs(t *testing.T, srv *zerobuslocal.Server, table string) []int {
	t.Helper()
	var ids []int
	for _, r := range srv.Rows(table) {
		fd := r.Message.Descriptor().Fields().ByName("id")
		ids = append(ids, int(r.Message.Get(fd).Int()))
	}
	slices.Sort(ids)
	return ids
}

func TestSendReaderOneResultAcrossBatches(t *testing.T) {
	const table = "main.default.reader"
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	rdr := &genReader{size: 300, count: 7, nullIDs: []int{5, 301, 2099}}
	var calls []core.Progress
	res, err := w.SendReader(context.Background(), rdr, core.WithTotalRows(2100),
		core.WithProgress(func(p core.Progress) { calls = append(calls, p) }))
	if err == nil || res.Success {
		t.Fatalf("SendReader succeeded; want 3 failed rows")
	}
	if res.TotalRows != 2100 || res.SuccessfulCount != 2097 || res.FailedCount != 3 || len(res.SuccessfulRows) != 2097 {
		t.Fatalf("result = %v; want 2097/2100 rows", res)
	}
	if got := res.FailedRowIndices(); !slices.Equal(got, []int{5, 301, 2099}) {
		t.Errorf("failed rows = %v, want global indices [5 301 2099]", got)
	}
	if res.FailedAsWhole() {
		t.Error("FailedAsWhole = true for row failures")
	}
	if k := core.KindOf(res.Err); k != core.KindConversion {
		t.Errorf("KindOf(Err) = %s, want conversion", k)
	}
	// One group: the rows' errors differ only in the row they name (s17 M2).
	groups := res.FailedGroups()
	if len(groups) != 1 || !groups[0].RowNamed || !slices.Equal(groups[0].Ranges, [][2]int{{5, 6}, {301, 302}, {2099, 2100}}) {
		t.Errorf("FailedGroups = %+v", groups)
	} else if ce, ok := groups[0].ErrAt(301).(*core.ConversionError); !ok || ce.Row != 301 {
		t.Errorf("FailedGroups[0].ErrAt(301) = %v, want row 301's error", groups[0].ErrAt(301))
	}
	want := make([]int, 0, 2097)
	for i := range 2100 {
		if i != 5 && i != 301 && i != 2099 {
			want = append(want, i)
		}
	}
	if got := storedTelIDs(t, srv, table); !slices.Equal(got, want) {
		t.Errorf("stored %d rows, want the 2097 that succeeded", len(got))
	}
	if !slices.Equal(res.SuccessfulRows, want) {
		t.Error("SuccessfulRows are not the global indices of the stored rows")
	}
	// 2100 rows / 16 → parts of at most 132 rows: at least 16 calls.
	if len(calls) < 16 {
		t.Errorf("progress called %d times, want >= 16 (one per 1/16 of the total)", len(calls))
	}
	for i, c := range calls {
		if c.TotalRows != 2100 || (i > 0 && c.Rows <= calls[i-1].Rows) {
			t.Fatalf("progress calls not increasing with total 2100: %+v", calls)
		}
	}
	if last := calls[len(calls)-1]; last.Rows != 2100 || last.Failed != 3 {
		t.Errorf("last progress = %+v, want 2100 rows, 3 failed", last)
	}
}

func TestSendReaderWindowBoundsReads(t *testing.T) {
	const table = "main.default.window"
	srv := localServer(t)
	srv.SetAckPolicy(table, zerobuslocal.AckPolicy{Delay: 5 * time.Millisecond})
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	var resolved atomic.Int64
	var worst atomic.Int64
	rdr := &genReader{size: 100, count: 40}
	rdr.onNext = func(read int64) {
		if out := read - resolved.Load(); out > worst.Load() {
			worst.Store(out)
		}
	}
	var calls int
	res, err := w.SendReader(context.Background(), rdr, core.WithSendWindow(400, 0),
		core.WithProgress(func(p core.Progress) { calls++; resolved.Store(p.Rows) }))
	if err != nil || res.TotalRows != 4000 || res.SuccessfulCount != 4000 {
		t.Fatalf("SendReader = %v, %v; want 4000 rows sent", res, err)
	}
	if got := worst.Load(); got > 400 {
		t.Errorf("%d rows read and unresolved at once, want <= the window of 400", got)
	}
	if calls < 40 {
		t.Errorf("progress called %d times, want >= 40 (once per input batch)", calls)
	}
	if n := srv.RecordCount(table); n != 4000 {
		t.Errorf("server stored %d rows, want 4000", n)
	}
}

func TestSendReaderCancelReturnsPromptly(t *testing.T) {
	const table = "main.default.cancel"
	srv := localServer(t)
	cfg := localConfig(srv, table)
	// The acks never come: a SendReader that ignored the cancel would wait
	// at least this long (then retry), far past the bound below.
	cfg.AckTimeout = 2 * time.Minute
	w, err := core.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = w.Close(ctx)
	}()
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	ctx, cancel := context.WithCancel(context.Background())
	rdr := &genReader{size: 500, count: -1} // endless
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	res, err := w.SendReader(ctx, rdr)
	took := time.Since(start) - 300*time.Millisecond
	// Promptly: not after an ack timeout. (The bound was 500ms, which a
	// loaded machine can take for the return alone.)
	if took > 30*time.Second {
		t.Errorf("SendReader returned %v after the cancel, want promptly (before the %v ack timeout)", took, cfg.AckTimeout)
	}
	if !errors.Is(err, context.Canceled) || core.KindOf(res.Err) != core.KindCanceled {
		t.Errorf("err = %v, want context.Canceled (kind canceled)", err)
	}
	if res.TotalRows == 0 || res.SuccessfulCount != 0 || res.FailedCount != res.TotalRows {
		t.Errorf("result = %v; want every row read reported failed (no ack came)", res)
	}
	if res.TotalRows > core.DefaultSendWindowRows+500 {
		t.Errorf("%d rows read with no ack, want the reading to stop at the window", res.TotalRows)
	}
	for _, f := range res.FailedRows {
		if core.KindOf(f.Err) != core.KindCanceled {
			t.Fatalf("row %d failed with %v, want canceled", f.Index, f.Err)
		}
	}
}

func TestSendReaderEdges(t *testing.T) {
	const table = "main.default.edges"
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("empty", func(t *testing.T) {
		res, err := w.SendReader(context.Background(), &genReader{size: 1, count: 0})
		if err != nil || !res.Success || res.TotalRows != 0 {
			t.Errorf("empty reader = %v, %v; want success with 0 rows", res, err)
		}
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("disk on fire")
		res, err := w.SendReader(context.Background(), &genReader{size: 10, count: 2, err: boom})
		if !errors.Is(err, boom) || core.KindOf(err) != core.KindConversion {
			t.Errorf("err = %v, want the read error (kind conversion)", err)
		}
		if res.TotalRows != 20 || res.SuccessfulCount != 20 || res.FailedAsWhole() {
			t.Errorf("result = %v; want the 20 rows read sent, not a whole failure", res)
		}
	})
	t.Run("read error after a row failed", func(t *testing.T) {
		// The read error is the result's error, not hidden behind row 3's.
		boom := errors.New("disk on fire")
		res, err := w.SendReader(context.Background(), &genReader{size: 10, count: 1, nullIDs: []int{3}, err: boom})
		if !errors.Is(err, boom) || !errors.Is(res.Err, boom) || !errors.Is(res.InputErr, boom) || core.KindOf(err) != core.KindConversion {
			t.Errorf("err = %v, res.Err = %v, res.InputErr = %v; want the read error", err, res.Err, res.InputErr)
		}
		if res.Success || res.TotalRows != 10 || res.SuccessfulCount != 9 || res.FailedCount != 1 || len(res.FailedRows) != 1 || res.FailedRows[0].Index != 3 {
			t.Errorf("result = %v; want 9 of the 10 rows read sent and row 3 failed", res)
		}
	})
	t.Run("read to the end", func(t *testing.T) {
		res, _ := w.SendReader(context.Background(), &genReader{size: 10, count: 1, nullIDs: []int{3}})
		if res.InputErr != nil || res.FailedCount != 1 {
			t.Errorf("result = %v, InputErr %v; want row 3 failed and no input error", res, res.InputErr)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f := w.SendReaderAsync(context.Background(), &genReader{size: 50, count: 4})
				res, err := f.Wait(context.Background())
				if err != nil || res.SuccessfulCount != 200 {
					t.Errorf("SendReaderAsync = %v, %v", res, err)
				}
			}()
		}
		wg.Wait()
	})
	closeWrapper(t, w)
	t.Run("closed", func(t *testing.T) {
		res, err := w.SendReader(context.Background(), &genReader{size: 10, count: 1})
		if !errors.Is(err, core.ErrClosed) || !res.FailedAsWhole() {
			t.Errorf("after Close = %v, %v; want ErrClosed as a whole failure", res, err)
		}
	})
}

// TestSendReaderDoesNotHoldABatchWhileReading: a reader that blocks between
// batches (a live source) must not delay the batch already read.
func TestSendReaderDoesNotHoldABatchWhileReading(t *testing.T) {
	const table = "main.default.live"
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	resolved := make(chan struct{})
	var once sync.Once
	var waited time.Duration
	rdr := &genReader{size: 100, count: 2}
	rdr.onNext = func(read int64) {
		if read == 100 { // the second batch is produced only once the first is stored
			start := time.Now()
			select {
			case <-resolved:
			case <-time.After(5 * time.Second):
			}
			waited = time.Since(start)
		}
	}
	res, err := w.SendReader(context.Background(), rdr,
		core.WithProgress(func(p core.Progress) { once.Do(func() { close(resolved) }) }))
	if err != nil || res.SuccessfulCount != 200 {
		t.Fatalf("SendReader = %v, %v", res, err)
	}
	if waited >= 5*time.Second {
		t.Error("the first batch was not sent while the reader waited for the second")
	}
}

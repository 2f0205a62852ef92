package core_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// s24: a SendReader on an open Wrapper told of a huge total
// (WithTotalRows(1<<40)) that stopped before reading it all (a reader
// error, ctx canceled, the Wrapper closed under it) listed every declared
// row it never read in FailedRows: 40 bytes a row, so 1<<40 rows ran out of
// memory (s23 fixed only the calls refused before reading). The rows never
// read are now one range of not-written rows: the result's size is that of
// the rows read.

const openRangeRead = 300 // the rows the readers below yield before they stop

// openRangeTotals are the totals declared: huge (every listed row would be
// 40 TiB), 8M rows past the rows read (listed: over 256 MiB, which the
// allocation bound below catches without ending the test binary), and a
// few rows past them (their indices listed by FailedRowIndices).
var openRangeTotals = []int64{1 << 40, openRangeRead + 1<<23, openRangeRead + 50}

// sendOpenRange runs send and returns its result, checking that the call
// allocated no memory per declared row.
func sendOpenRange(t *testing.T, total int64, send func() (*core.TransmissionResult, error)) (*core.TransmissionResult, error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	res, err := send()
	runtime.ReadMemStats(&after)
	// Sending 300 rows allocates a few MiB at most; listing the 8M rows
	// past them took over 256 MiB (and 1<<40 rows never returned).
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("the send declaring %d rows (%d read) allocated %d MiB; want nothing per declared row", total, openRangeRead, grew>>20)
	}
	if res == nil {
		t.Fatalf("no result (err %v)", err)
	}
	return res, err
}

// checkOpenRange checks a result of total declared rows of which read were
// read before the send stopped with an error matching want: the rows never
// read are one not-written range with the result's error, every accessor
// agrees with the counts, and the rows the server stored agree with the
// rows' states.
func checkOpenRange(t *testing.T, srv *zerobuslocal.Server, table string, res *core.TransmissionResult, err error, read int, total int64, want error) {
	t.Helper()
	if err == nil || res.Err != err || res.Success || res.InputErr == nil || !errors.Is(err, want) {
		t.Fatalf("SendReader = %v, %v; want a stop with %v", res, err, want)
	}
	if int64(res.TotalRows) != total || res.TotalRows != res.SuccessfulCount+res.FailedCount ||
		res.FailedCount != res.NotWrittenCount+res.UnknownCount || res.NotWrittenCount < int(total)-read {
		t.Fatalf("counts of %v: want %d rows, the %d never read among the not written", res, total, int(total)-read)
	}
	if res.FailedRows != nil {
		t.Errorf("FailedRows lists %d rows; want nil (the declared rows never read are a range)", len(res.FailedRows))
	}
	if got := rangesRows(res.SuccessfulRanges); got != res.SuccessfulCount || len(res.SuccessfulRows) != res.SuccessfulCount {
		t.Errorf("SuccessfulRanges hold %d rows, SuccessfulRows %d; SuccessfulCount is %d", got, len(res.SuccessfulRows), res.SuccessfulCount)
	}

	// The outcome of each row read, from the ranges; the rows never read
	// are the last group's last range.
	states := make([]byte, read)
	mark := func(lo, hi int, s byte) {
		for i := lo; i < hi; i++ {
			if i < 0 || i >= read {
				t.Fatalf("row %d (%c) is past the %d rows read", i, s, read)
			}
			if states[i] != 0 {
				t.Fatalf("row %d is both %c and %c", i, states[i], s)
			}
			states[i] = s
		}
	}
	for _, r := range res.SuccessfulRanges {
		mark(r[0], r[1], 'd')
	}
	groups := res.FailedGroups()
	if len(groups) == 0 {
		t.Fatal("no failed groups")
	}
	last := groups[len(groups)-1]
	if rs := last.Ranges; rs[len(rs)-1] != [2]int{read, int(total)} || last.State != core.RowNotWritten || last.Err != res.Err {
		t.Fatalf("last group %v %v ranges %v; want rows [%d, %d) not written with the result's error %v",
			last.Err, last.State, last.Ranges, read, total, res.Err)
	}
	groupRows, byState := 0, map[core.RowState]int{}
	for gi, g := range groups {
		groupRows += g.Rows()
		byState[g.State] += g.Rows()
		s := byte('n')
		if g.State == core.RowUnknown {
			s = 'u'
		}
		for ri, r := range g.Ranges {
			if gi == len(groups)-1 && ri == len(g.Ranges)-1 {
				r[1] = read // the rows never read, checked above
			}
			mark(r[0], r[1], s)
		}
	}
	if groupRows != res.FailedCount || byState[core.RowNotWritten] != res.NotWrittenCount || byState[core.RowUnknown] != res.UnknownCount {
		t.Errorf("FailedGroups hold %d rows (%v); the counts say %d (%d not written, %d unknown)",
			groupRows, byState, res.FailedCount, res.NotWrittenCount, res.UnknownCount)
	}
	if i := slices.Index(states, 0); i >= 0 {
		t.Fatalf("row %d of the %d read is in no outcome", i, read)
	}
	stats := res.ErrorStatistics()
	if stats.TotalRows != res.TotalRows || stats.NotWrittenRows != res.NotWrittenCount || stats.UnknownRows != res.UnknownCount ||
		stats.ByKind[core.KindOf(res.Err)] < int(total)-read {
		t.Errorf("ErrorStatistics %+v disagree with %v", stats, res)
	}
	if s := fmt.Sprintf("%+v", res); s != res.String() || !strings.Contains(s, fmt.Sprintf("%d/%d rows acknowledged", res.SuccessfulCount, total)) ||
		!strings.Contains(s, fmt.Sprintf("%d not written", res.NotWrittenCount)) {
		t.Errorf("%%+v = %q; want the String with the counts", s)
	}
	if res.FailedAsWhole() != (res.SuccessfulCount == 0 && res.UnknownCount == 0 && len(groups) == 1) {
		t.Errorf("FailedAsWhole = %v for %v", res.FailedAsWhole(), res)
	}
	if total-int64(read) <= 50 { // small enough to list
		idx := res.FailedRowIndices()
		want := slices.Collect(func(yield func(int) bool) {
			for i, s := range states {
				if s != 'd' && !yield(i) {
					return
				}
			}
			for i := read; i < int(total); i++ {
				if !yield(i) {
					return
				}
			}
		})
		if !slices.Equal(idx, want) || len(res.NotWrittenRowIndices()) != res.NotWrittenCount {
			t.Errorf("FailedRowIndices = %v; want %v", idx, want)
		}
		sent := idBatch(0, int(total))
		defer sent.Release()
		n, ids, err := extractIDs(res.ExtractNotWrittenBatch(sent))
		if err != nil || n != res.NotWrittenCount || !slices.Equal(ids, res.NotWrittenRowIndices()) {
			t.Errorf("ExtractNotWrittenBatch: %d rows %v (%v); want the %d not written", n, ids, err, res.NotWrittenCount)
		}
	}

	// The server: every durable row stored, no row not written (nor any
	// never read) stored, others only unknown.
	stored := storedTelIDs(t, srv, table)
	durable := 0
	for _, id := range stored {
		if id >= read {
			t.Fatalf("row %d is stored, but only %d were read", id, read)
		}
		switch states[id] {
		case 'n':
			t.Fatalf("row %d is stored but reported not written", id)
		case 'd':
			durable++
		}
	}
	if durable != res.SuccessfulCount {
		t.Errorf("%d of the %d durable rows are stored", durable, res.SuccessfulCount)
	}
}

// countedReader is a genReader with a reference count: Release frees its
// batch only at the last reference (genReader's Release frees it at once,
// which races with a Next still running after an async send returned).
type countedReader struct {
	*genReader
	refs atomic.Int64
}

func counted(g *genReader) *countedReader {
	r := &countedReader{genReader: g}
	r.refs.Store(1)
	return r
}

func (r *countedReader) Retain() { r.refs.Add(1) }
func (r *countedReader) Release() {
	if r.refs.Add(-1) == 0 {
		r.genReader.Release()
	}
}

func rangesRows(rs [][2]int) int {
	n := 0
	for _, r := range rs {
		n += r[1] - r[0]
	}
	return n
}

// TestSendReaderReadErrorKeepsTheDeclaredRestAsARange: a reader that
// yields 3 batches and then fails, declared WithTotalRows far beyond them:
// the 300 rows read are stored and durable, the rest one not-written range.
func TestSendReaderReadErrorKeepsTheDeclaredRestAsARange(t *testing.T) {
	srv := localServer(t)
	boom := errors.New("the source went away")
	for _, async := range []bool{false, true} {
		for _, total := range openRangeTotals {
			table := fmt.Sprintf("main.default.s24_openrange_err_%t_%d", async, total)
			t.Run(fmt.Sprintf("async=%t/total=%d", async, total), func(t *testing.T) {
				w, err := core.New(context.Background(), localConfig(srv, table))
				if err != nil {
					t.Fatal(err)
				}
				defer closeWrapper(t, w)
				ctx := context.Background()
				rdr := &genReader{size: 100, count: 3, err: boom}
				res, err := sendOpenRange(t, total, func() (*core.TransmissionResult, error) {
					if async {
						return w.SendReaderAsync(ctx, counted(rdr), core.WithTotalRows(total)).Wait(ctx)
					}
					return w.SendReader(ctx, rdr, core.WithTotalRows(total))
				})
				checkOpenRange(t, srv, table, res, err, openRangeRead, total, boom)
				if res.SuccessfulCount != openRangeRead || res.UnknownCount != 0 || int64(res.NotWrittenCount) != total-openRangeRead {
					t.Errorf("%v; want the %d rows read durable, the rest not written", res, openRangeRead)
				}
				if n := srv.RecordCount(table); n != openRangeRead {
					t.Errorf("the server stored %d rows, want the %d read", n, openRangeRead)
				}
			})
		}
	}
}

// stallingReader is a genReader whose Next, once 300 rows were read,
// signals stalled and blocks until release is closed (a live source with
// nothing more to give).
func stallingReader(t *testing.T) (rdr *genReader, stalled <-chan struct{}) {
	t.Helper()
	st, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	rdr = &genReader{size: 100, count: -1}
	rdr.onNext = func(read int64) {
		if read >= openRangeRead {
			once.Do(func() { close(st) })
			<-release
		}
	}
	t.Cleanup(func() { close(release) })
	return rdr, st
}

// waitStored waits until the server holds n rows of table.
func waitStored(t *testing.T, srv *zerobuslocal.Server, table string, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); srv.RecordCount(table) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server stored %d rows of %s, waiting for %d", srv.RecordCount(table), table, n)
		}
	}
}

// TestSendReaderCancelKeepsTheDeclaredRestAsARange: ctx canceled while the
// reader blocks after 3 batches: the call returns, the rows never read are
// one not-written range with the cancel's error.
func TestSendReaderCancelKeepsTheDeclaredRestAsARange(t *testing.T) {
	srv := localServer(t)
	for _, async := range []bool{false, true} {
		for _, total := range openRangeTotals {
			table := fmt.Sprintf("main.default.s24_openrange_cancel_%t_%d", async, total)
			t.Run(fmt.Sprintf("async=%t/total=%d", async, total), func(t *testing.T) {
				w, err := core.New(context.Background(), localConfig(srv, table))
				if err != nil {
					t.Fatal(err)
				}
				defer closeWrapper(t, w)
				rdr, stalled := stallingReader(t)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go func() {
					<-stalled
					waitStored(t, srv, table, openRangeRead)
					cancel()
				}()
				res, err := sendOpenRange(t, total, func() (*core.TransmissionResult, error) {
					if async {
						return w.SendReaderAsync(ctx, counted(rdr), core.WithTotalRows(total)).Wait(context.Background())
					}
					return w.SendReader(ctx, rdr, core.WithTotalRows(total))
				})
				checkOpenRange(t, srv, table, res, err, openRangeRead, total, context.Canceled)
				if !strings.Contains(err.Error(), fmt.Sprintf("stopped after reading %d rows", openRangeRead)) {
					t.Errorf("err %q does not say how many rows were read", err)
				}
				if n := srv.RecordCount(table); n != openRangeRead {
					t.Errorf("the server stored %d rows, want the %d read", n, openRangeRead)
				}
			})
		}
	}
}

// TestSendReaderTotalBelowTheRowsRead: WithTotalRows smaller than the rows
// the reader holds is only a wrong hint: every row is read and sent, the
// result's TotalRows is the rows read (nothing is added or cut), and
// Progress reports the total given.
func TestSendReaderTotalBelowTheRowsRead(t *testing.T) {
	srv := localServer(t)
	boom := errors.New("the source went away")
	for _, fails := range []bool{false, true} {
		table := fmt.Sprintf("main.default.s24_openrange_below_%t", fails)
		t.Run(fmt.Sprintf("readerFails=%t", fails), func(t *testing.T) {
			w, err := core.New(context.Background(), localConfig(srv, table))
			if err != nil {
				t.Fatal(err)
			}
			defer closeWrapper(t, w)
			rdr := &genReader{size: 100, count: 3}
			if fails {
				rdr.err = boom
			}
			var lastProgress core.Progress
			res, err := w.SendReader(context.Background(), rdr, core.WithTotalRows(120),
				core.WithProgress(func(p core.Progress) { lastProgress = p }))
			if fails != (err != nil) || fails && (!errors.Is(err, boom) || res.InputErr == nil) {
				t.Fatalf("SendReader = %v, %v; want the reader's error exactly when it fails", res, err)
			}
			if res.TotalRows != openRangeRead || res.SuccessfulCount != openRangeRead || res.FailedCount != 0 ||
				len(res.SuccessfulRows) != openRangeRead || len(res.FailedGroups()) != 0 {
				t.Errorf("%v; want the %d rows read, all durable", res, openRangeRead)
			}
			if got := storedTelIDs(t, srv, table); len(got) != openRangeRead || got[0] != 0 || got[len(got)-1] != openRangeRead-1 {
				t.Errorf("the server stored %d rows; want rows 0..%d", len(got), openRangeRead-1)
			}
			if lastProgress != (core.Progress{Rows: openRangeRead, TotalRows: 120}) {
				t.Errorf("last progress %+v; want Rows %d of the TotalRows 120 given", lastProgress, openRangeRead)
			}
		})
	}
	// A negative total is unknown: nothing declared.
	w, err := core.New(context.Background(), localConfig(srv, "main.default.s24_openrange_negative"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	var got []core.Progress
	res, err := w.SendReader(context.Background(), &genReader{size: 100, count: 1, err: boom}, core.WithTotalRows(-5),
		core.WithProgress(func(p core.Progress) { got = append(got, p) }))
	if !errors.Is(err, boom) || res.TotalRows != 100 || res.SuccessfulCount != 100 || len(got) == 0 || got[0].TotalRows != -1 {
		t.Errorf("WithTotalRows(-5): %v, %v, progress %+v; want the 100 rows read, TotalRows -1 (unknown)", res, err, got)
	}
}

// TestSendReaderCloseMidwayKeepsTheDeclaredRestAsARange: the Wrapper closed
// while a SendReader reads an endless input: once Close gives up waiting
// (its ctx ends) and aborts the streams, the call stops reading (it read on
// forever, every part failing, and Close waited for it forever), and the
// rows never read are one not-written range with ErrClosed.
func TestSendReaderCloseMidwayKeepsTheDeclaredRestAsARange(t *testing.T) {
	srv := localServer(t)
	const total = int64(1) << 40
	for _, async := range []bool{false, true} {
		table := fmt.Sprintf("main.default.s24_openrange_close_%t", async)
		t.Run(fmt.Sprintf("async=%t", async), func(t *testing.T) {
			w, err := core.New(context.Background(), localConfig(srv, table))
			if err != nil {
				t.Fatal(err)
			}
			rdr := &genReader{size: 100, count: -1} // endless, slowed down once 300 rows are read
			slow := make(chan struct{})
			var once sync.Once
			rdr.onNext = func(read int64) {
				if read >= openRangeRead {
					once.Do(func() { close(slow) })
					time.Sleep(5 * time.Millisecond)
				}
			}
			closed := make(chan error, 1)
			go func() {
				<-slow
				waitStored(t, srv, table, openRangeRead)
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				closed <- w.Close(ctx)
			}()
			ctx := context.Background()
			res, err := sendOpenRange(t, total, func() (*core.TransmissionResult, error) {
				if async {
					return w.SendReaderAsync(ctx, counted(rdr), core.WithTotalRows(total)).Wait(ctx)
				}
				return w.SendReader(ctx, rdr, core.WithTotalRows(total))
			})
			if cerr := <-closed; cerr == nil || !errors.Is(cerr, context.DeadlineExceeded) {
				t.Errorf("Close = %v; want its ctx's end (it aborted the call)", cerr)
			}
			if core.KindOf(err) != core.KindClosed {
				t.Errorf("KindOf(%v) = %v; want closed", err, core.KindOf(err))
			}
			groups := res.FailedGroups()
			if len(groups) == 0 {
				t.Fatalf("no failed rows: %v", res)
			}
			last := groups[len(groups)-1].Ranges
			read := last[len(last)-1][0]
			if read < openRangeRead || int64(read) >= total {
				t.Fatalf("the rows never read start at %d; want after the %d stored", read, openRangeRead)
			}
			t.Logf("%v", res)
			checkOpenRange(t, srv, table, res, err, read, total, core.ErrClosed)
			if !strings.Contains(err.Error(), fmt.Sprintf("stopped after reading %d rows", read)) {
				t.Errorf("err %q does not say how many rows were read", err)
			}
		})
	}
}

// TestSendReaderCloseStopsABlockedReader: Close giving up while the
// reader blocks in Next, or while an endless input is read WriterDisabled
// (no part ever fails), stops the reading too; Close returns.
func TestSendReaderCloseStopsABlockedReader(t *testing.T) {
	srv := localServer(t)
	const total = int64(1) << 40
	for _, mode := range []string{"blocked Next", "writer disabled"} {
		table := "main.default.s24_openrange_blocked_" + strings.ReplaceAll(mode, " ", "_")
		t.Run(mode, func(t *testing.T) {
			cfg := localConfig(srv, table)
			var rdr *genReader
			var started <-chan struct{}
			if mode == "writer disabled" {
				cfg.WriterDisabled = true
				rdr = &genReader{size: 100, count: -1}
				st := make(chan struct{})
				var once sync.Once
				rdr.onNext = func(read int64) {
					if read >= openRangeRead {
						once.Do(func() { close(st) })
						time.Sleep(time.Millisecond)
					}
				}
				started = st
			} else {
				rdr, started = stallingReader(t)
			}
			w, err := core.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			closed := make(chan error, 1)
			go func() {
				<-started
				if !cfg.WriterDisabled {
					waitStored(t, srv, table, openRangeRead)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				closed <- w.Close(ctx)
			}()
			res, err := w.SendReader(context.Background(), rdr, core.WithTotalRows(total))
			<-closed
			if !errors.Is(err, core.ErrClosed) || core.KindOf(err) != core.KindClosed || res.InputErr == nil {
				t.Fatalf("SendReader = %v, %v; want stopped with ErrClosed", res, err)
			}
			groups := res.FailedGroups()
			last := groups[len(groups)-1].Ranges
			read := last[len(last)-1][0]
			if mode == "blocked Next" && read != openRangeRead {
				t.Errorf("the rows never read start at %d; want %d", read, openRangeRead)
			}
			if int64(res.TotalRows) != total || int64(res.NotWrittenCount) < total-int64(read) || res.FailedRows != nil {
				t.Errorf("%v; want the %d rows never read not written, unlisted", res, total-int64(read))
			}
			if mode == "blocked Next" {
				checkOpenRange(t, srv, table, res, err, read, total, core.ErrClosed)
			}
		})
	}
}

// TestSendReaderHaltedBeforeAnyRowContactsNothing: Close giving up on a
// SendReader whose reader has yielded no row yet ends the call without the
// empty batch a reader of no rows sends (that send planned the table, a
// token request and a catalog read, after Close had given up, and Close
// waited for it: 5 s behind a slow token endpoint). The declared rows are
// all not written with ErrClosed.
func TestSendReaderHaltedBeforeAnyRowContactsNothing(t *testing.T) {
	srv := localServer(t)
	const table = "main.default.s24_openrange_halt_empty"
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	var once sync.Once
	rdr := &genReader{size: 10, count: -1}
	rdr.onNext = func(int64) {
		once.Do(func() { close(started) })
		<-release
	}
	closed := make(chan error, 1)
	go func() {
		<-started
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // Close gives up at once
		closed <- w.Close(ctx)
	}()
	before := srv.Stats()
	res, err := w.SendReader(context.Background(), rdr, core.WithTotalRows(1000))
	<-closed
	after := srv.Stats()
	if !errors.Is(err, core.ErrClosed) || res.TotalRows != 1000 || res.NotWrittenCount != 1000 || res.SuccessfulCount != 0 {
		t.Fatalf("SendReader = %v, %v; want the 1000 declared rows not written with ErrClosed", res, err)
	}
	if after.TokensIssued != before.TokensIssued || after.TokensRejected != before.TokensRejected || after.StreamsCreated != before.StreamsCreated {
		t.Errorf("the halted call reached the server: tokens %d -> %d, streams %d -> %d; want nothing after Close gave up",
			before.TokensIssued, after.TokensIssued, before.StreamsCreated, after.StreamsCreated)
	}
}

// TestSendReaderTotalBelowRowsReadSendsAsItReads: a WithTotalRows below
// the rows read is only a wrong hint: each batch read goes out while the
// reader blocks for the next one (the last piece of a batch was held back
// whenever the rows read had passed the total, until Next returned).
func TestSendReaderTotalBelowRowsReadSendsAsItReads(t *testing.T) {
	srv := localServer(t)
	for _, total := range []int64{-1, 10, 100, 1000} {
		t.Run(fmt.Sprint(total), func(t *testing.T) {
			table := fmt.Sprintf("main.default.s24_openrange_hint_%d", max(total, 0))
			w, err := core.New(context.Background(), localConfig(srv, table))
			if err != nil {
				t.Fatal(err)
			}
			defer closeWrapper(t, w)
			release := make(chan struct{})
			rdr := &genReader{size: 100, count: 2}
			rdr.onNext = func(read int64) {
				if read >= 100 {
					<-release
				}
			}
			done := make(chan *core.TransmissionResult, 1)
			go func() {
				res, _ := w.SendReader(context.Background(), rdr, core.WithTotalRows(total))
				done <- res
			}()
			if total == 100 {
				// The total reached: the batch is the input's last as far as
				// the hint says, held to be sent inline once Next says so.
				close(release)
			} else {
				waitStored(t, srv, table, 100) // the first batch goes out while Next blocks
				close(release)
			}
			res := <-done
			if res.TotalRows != 200 || res.SuccessfulCount != 200 {
				t.Errorf("%v; want the 200 rows read, all durable", res)
			}
			if got := storedTelIDs(t, srv, table); len(got) != 200 {
				t.Errorf("the server stored %d rows; want 200", len(got))
			}
		})
	}
}

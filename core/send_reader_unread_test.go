package core_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// rowStates checks that every row index of res is in exactly one of its
// three outcomes, that the counts agree with the lists, and returns the
// outcome of each row ('d' durable, 'n' not written, 'u' unknown).
func rowStates(t *testing.T, res *core.TransmissionResult) []byte {
	t.Helper()
	states := make([]byte, res.TotalRows)
	mark := func(rows []int, s byte) {
		for _, i := range rows {
			if i < 0 || i >= res.TotalRows {
				t.Fatalf("row %d (%c) is outside the result's %d rows", i, s, res.TotalRows)
			}
			if states[i] != 0 {
				t.Fatalf("row %d is both %c and %c", i, states[i], s)
			}
			states[i] = s
		}
	}
	mark(res.SuccessfulRowIndices(), 'd')
	mark(res.NotWrittenRowIndices(), 'n')
	mark(res.UnknownRowIndices(), 'u')
	if i := slices.Index(states, 0); i >= 0 {
		t.Fatalf("row %d of %d is in no outcome: %v", i, res.TotalRows, res)
	}
	count := func(s byte) int {
		n := 0
		for _, v := range states {
			if v == s {
				n++
			}
		}
		return n
	}
	if res.SuccessfulCount != count('d') || res.NotWrittenCount != count('n') || res.UnknownCount != count('u') ||
		res.FailedCount != res.NotWrittenCount+res.UnknownCount ||
		res.TotalRows != res.SuccessfulCount+res.FailedCount {
		t.Fatalf("counts %v disagree with the rows listed (durable %d, not written %d, unknown %d)",
			res, count('d'), count('n'), count('u'))
	}
	groupRows := 0
	for _, g := range res.FailedGroups() {
		groupRows += g.Rows()
	}
	if groupRows != res.FailedCount {
		t.Errorf("FailedGroups hold %d rows, FailedCount is %d", groupRows, res.FailedCount)
	}
	if res.FailedRows != nil && len(res.FailedRows) != res.FailedCount {
		t.Errorf("len(FailedRows) = %d, FailedCount = %d", len(res.FailedRows), res.FailedCount)
	}
	return states
}

// TestSendReaderStopCoversUnreadRows: a SendReader told the input's total
// (WithTotalRows) and stopped part-way (ctx canceled, a read error) returns
// a result of every row of the input: the rows it never read are not
// written, with the stop's error, so extracting the failed (or not written)
// rows of the batch that was sent works and covers every row not stored.
func TestSendReaderStopCoversUnreadRows(t *testing.T) {
	const size, batches, total = 500, 40, 500 * 40
	srv := localServer(t)
	for _, rangesOnly := range []bool{false, true} {
		for _, stop := range []string{"cancel", "read error"} {
			table := fmt.Sprintf("main.default.unread_%t_%d", rangesOnly, len(stop))
			t.Run(fmt.Sprintf("%s/rangesOnly=%t", stop, rangesOnly), func(t *testing.T) {
				// Acks take a while, so that rows are in flight at the cancel.
				srv.SetAckPolicy(table, zerobuslocal.AckPolicy{Delay: 5 * time.Millisecond})
				var opts []core.Option
				if rangesOnly {
					opts = append(opts, core.WithRowRangesOnly())
				}
				w, err := core.New(context.Background(), localConfig(srv, table), opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer closeWrapper(t, w)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				rdr := &genReader{size: size, count: batches}
				readErr := errors.New("the disk went away")
				if stop == "cancel" {
					// Canceled while reading batch 11: with a window of
					// 2000 rows, at least 3000 rows were acknowledged by then.
					rdr.onNext = func(read int64) {
						if read >= 5000 {
							cancel()
						}
					}
				} else {
					rdr.count, rdr.err = 12, readErr // then fails: 6000 rows of 20000
				}
				res, err := w.SendReader(ctx, rdr, core.WithTotalRows(total), core.WithSendWindow(2000, 0))
				if err == nil || res.Success || res.InputErr == nil || !errors.Is(res.Err, res.InputErr) {
					t.Fatalf("SendReader = %v, %v; want the input's error", res, err)
				}
				if stop == "cancel" && !errors.Is(err, context.Canceled) {
					t.Errorf("err = %v, want context.Canceled", err)
				}
				if stop == "read error" && (!errors.Is(err, readErr) || core.KindOf(err) != core.KindConversion) {
					t.Errorf("err = %v, want the read error (kind conversion)", err)
				}
				if res.TotalRows != total {
					t.Fatalf("TotalRows = %d, want the input's %d (the total given)", res.TotalRows, total)
				}
				t.Logf("%v (read %d)", res, rdr.read.Load())
				states := rowStates(t, res)
				read := int(rdr.read.Load())
				if read >= total || res.SuccessfulCount < 3000 {
					t.Fatalf("read %d rows, %d durable: the test wants a stop part-way with rows acknowledged", read, res.SuccessfulCount)
				}
				for i := read; i < total; i++ {
					if states[i] != 'n' {
						t.Fatalf("row %d was never read, and is %c, want not written", i, states[i])
					}
				}
				// The rows never read are one group: not written, with the
				// result's error.
				var unread *core.FailedGroup
				for _, g := range res.FailedGroups() {
					if last := g.Ranges[len(g.Ranges)-1]; last[1] == total {
						unread = &g
					}
				}
				if unread == nil || unread.State != core.RowNotWritten || unread.Err != res.Err {
					t.Errorf("the group of the last rows is %+v, want not written with the result's error %v", unread, res.Err)
				}
				if res.FailedAsWhole() {
					t.Error("FailedAsWhole = true with rows acknowledged")
				}

				// Quarantine: the batch that was sent is accepted, and its
				// failed rows are every row not durable.
				sent := idBatch(0, total)
				defer sent.Release()
				for name, extract := range map[string]func() (int, []int, error){
					"failed":      func() (int, []int, error) { return extractIDs(res.ExtractFailedBatch(sent)) },
					"not written": func() (int, []int, error) { return extractIDs(res.ExtractNotWrittenBatch(sent)) },
					"unknown":     func() (int, []int, error) { return extractIDs(res.ExtractUnknownBatch(sent)) },
					"successful":  func() (int, []int, error) { return extractIDs(res.ExtractSuccessfulBatch(sent)) },
				} {
					n, ids, err := extract()
					if err != nil {
						t.Fatalf("Extract %s of the %d rows sent: %v", name, total, err)
					}
					want := map[string][]int{"failed": res.FailedRowIndices(), "not written": res.NotWrittenRowIndices(),
						"unknown": res.UnknownRowIndices(), "successful": res.SuccessfulRowIndices()}[name]
					if n != len(want) || !slices.Equal(ids, want) {
						t.Errorf("Extract %s: %d rows, want %d (the rows of that outcome)", name, n, len(want))
					}
				}

				// The server's table: every durable row, no row not written,
				// others only of unknown outcome.
				if err := w.Flush(context.Background()); err != nil {
					t.Logf("Flush: %v", err)
				}
				stored := storedTelIDs(t, srv, table)
				durable := 0
				for _, id := range stored {
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
				if stop == "read error" && (res.UnknownCount != 0 || len(stored) != read || res.SuccessfulCount != read) {
					t.Errorf("read error: %d stored, %v; want the %d rows read stored and durable", len(stored), res, read)
				}
			})
		}
	}
}

// extractIDs returns the number of rows of an extracted telSchema batch and
// its ids.
func extractIDs(rec arrow.RecordBatch, err error) (int, []int, error) {
	if err != nil {
		return 0, nil, err
	}
	defer rec.Release()
	col := rec.Column(0).(*array.Int64)
	ids := make([]int, col.Len())
	for i := range ids {
		ids[i] = int(col.Value(i))
	}
	return int(rec.NumRows()), ids, nil
}

// TestSendReaderStoppedBeforeReadingCoversTheInput: a SendReader whose ctx
// ended before it read anything fails as a whole, every row of the known
// total not written (nothing was sent).
func TestSendReaderStoppedBeforeReadingCoversTheInput(t *testing.T) {
	const table = "main.default.unread_none"
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := w.SendReader(ctx, &genReader{size: 100, count: 10}, core.WithTotalRows(1000))
	if !errors.Is(err, context.Canceled) || res.InputErr == nil {
		t.Fatalf("SendReader = %v, %v; want stopped (context.Canceled)", res, err)
	}
	if res.TotalRows != 1000 || res.NotWrittenCount != 1000 || res.FailedCount != 1000 || !res.FailedAsWhole() {
		t.Fatalf("result = %v; want all 1000 rows not written, failed as a whole", res)
	}
	if states := rowStates(t, res); slices.ContainsFunc(states, func(s byte) bool { return s != 'n' }) {
		t.Error("a row is not 'not written'")
	}
	if n := srv.RecordCount(table); n != 0 {
		t.Errorf("server stored %d rows, want none", n)
	}
}

package core_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestClosedWrapperRefusesAHugeDeclaredTotalAtOnce (s23): a SendReader
// refused before reading (a closed, nil or zero Wrapper, a nil ctx) fails
// the rows WithTotalRows declares as one range: it once listed every
// claimed row (memory and time proportional to the claim, 1<<40 rows being
// ~40 TiB). The result still covers the declared rows (counts, groups,
// FailedRowIndices of a small claim) and the error says what to do.
func TestClosedWrapperRefusesAHugeDeclaredTotalAtOnce(t *testing.T) {
	const huge = int64(1) << 40
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, "main.default.s23_closed_total"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var zero core.Wrapper
	var nilW *core.Wrapper
	cases := []struct {
		name string
		want error
		send func(total int64) (*core.TransmissionResult, error)
	}{
		{"closed SendReader", core.ErrClosed, func(n int64) (*core.TransmissionResult, error) {
			return w.SendReader(ctx, &genReader{size: 10, count: 1}, core.WithTotalRows(n))
		}},
		{"closed SendReaderAsync", core.ErrClosed, func(n int64) (*core.TransmissionResult, error) {
			return w.SendReaderAsync(ctx, &genReader{size: 10, count: 1}, core.WithTotalRows(n)).Wait(ctx)
		}},
		{"zero Wrapper", core.ErrClosed, func(n int64) (*core.TransmissionResult, error) {
			return zero.SendReader(ctx, &genReader{size: 10, count: 1}, core.WithTotalRows(n))
		}},
		{"nil Wrapper async", core.ErrClosed, func(n int64) (*core.TransmissionResult, error) {
			return nilW.SendReaderAsync(ctx, &genReader{size: 10, count: 1}, core.WithTotalRows(n)).Wait(ctx)
		}},
		{"nil ctx", core.ErrNilContext, func(n int64) (*core.TransmissionResult, error) {
			return w.SendReader(nil, &genReader{size: 10, count: 1}, core.WithTotalRows(n)) //nolint:staticcheck // a nil ctx is the case
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res, err := c.send(huge)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, c.want) || res == nil || res.Err != err {
				t.Fatalf("err %v (result %v); want %v", err, res, c.want)
			}
			// A result of one range is a few hundred bytes; listing the rows
			// took 40 bytes per row (it never returned). 1 MiB leaves room
			// for the runtime and the metrics of the closed Wrapper.
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
				t.Errorf("allocated %d bytes for a refused call declaring %d rows; want no per-row allocation", grew, huge)
			}
			if int64(res.TotalRows) != huge || int64(res.FailedCount) != huge || int64(res.NotWrittenCount) != huge ||
				res.SuccessfulCount != 0 || res.Success {
				t.Errorf("counts: total %d failed %d not written %d successful %d; want all %d rows not written",
					res.TotalRows, res.FailedCount, res.NotWrittenCount, res.SuccessfulCount, huge)
			}
			groups := res.FailedGroups()
			if len(groups) != 1 || !errors.Is(groups[0].Err, c.want) || groups[0].State != core.RowNotWritten ||
				len(groups[0].Ranges) != 1 || groups[0].Ranges[0] != [2]int{0, int(huge)} {
				t.Errorf("groups %+v; want one group of rows [0, %d) not written with %v", groups, huge, c.want)
			}
			// The error says what to do.
			if msg := err.Error(); !strings.Contains(msg, "create a new Wrapper") && !strings.Contains(msg, "pass context.Background()") {
				t.Errorf("error %q does not say what to do", msg)
			}

			// A small claim still lists as before: the same rows, by index.
			small, err := c.send(5)
			if !errors.Is(err, c.want) || small.TotalRows != 5 || small.NotWrittenCount != 5 {
				t.Fatalf("5 declared rows: %v (%v)", small, err)
			}
			if got := small.FailedRowIndices(); len(got) != 5 || got[0] != 0 || got[4] != 4 {
				t.Errorf("FailedRowIndices of 5 declared rows = %v; want [0 1 2 3 4]", got)
			}
		})
	}
	if !strings.Contains(core.ErrClosed.Error(), "create a new Wrapper") {
		t.Errorf("ErrClosed %q does not say what to do", core.ErrClosed)
	}
}

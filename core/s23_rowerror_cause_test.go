package core_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// s23 dbgread 4: a failed row's ConversionError named its batch row, but
// its cause (the encoder's row error, what errors.Unwrap gives) named the
// row within its conversion chunk: row 6000 of a batch, in the chunk
// starting at row 4096, had a cause saying "row 1904". The cause names the
// batch row too, also for a row of a folded group (ErrAt).
func TestS23RowErrorCauseNamesTheBatchRow(t *testing.T) {
	srv := localServer(t)
	cfg := localConfig(srv, "main.default.s23_rowerror")
	w, err := core.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	bad := map[int]bool{6000: true, 6001: true, 6002: true, 9999: true}
	rec := nullNameBatch(10000, func(i int) bool { return bad[i] })
	defer rec.Release()
	res, _ := w.SendBatch(context.Background(), rec)
	if res == nil {
		t.Fatal("no result")
	}
	groups := res.FailedGroups()
	seen := 0
	for _, g := range groups {
		for _, r := range g.Ranges {
			for i := r[0]; i < r[1]; i++ {
				seen++
				if !bad[i] {
					t.Errorf("row %d failed", i)
				}
				ce, ok := g.ErrAt(i).(*core.ConversionError) //nolint:errorlint // the row's error as stored
				if !ok || ce.Row != i {
					t.Fatalf("row %d: %v (%T)", i, g.ErrAt(i), g.ErrAt(i))
				}
				cause := errors.Unwrap(ce)
				if cause == nil || !strings.HasPrefix(cause.Error(), fmt.Sprintf("row %d, column \"name\": ", i)) {
					t.Errorf("row %d: cause %v, want it to name row %d", i, cause, i)
				}
			}
		}
	}
	if seen != len(bad) {
		t.Errorf("%d rows failed, want %d", seen, len(bad))
	}
}

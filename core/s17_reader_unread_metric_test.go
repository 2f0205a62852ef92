package core_test

import (
	"context"
	"errors"
	"testing"

	"go.opentelemetry.io/otel/attribute"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestSendReaderUnreadRowsAreCountedAndClosedCoversTheDeclared: rows a
// SendReader never read (the reader failed; WithTotalRows declared them)
// are in the result as not written, and now also in zerobus.rows.failed,
// which must match the per-row results (they were missing from it). A
// SendReader on a closed Wrapper fails every declared row, as one with an
// ended context does (its result had 0 rows).
func TestSendReaderUnreadRowsAreCountedAndClosedCoversTheDeclared(t *testing.T) {
	srv := localServer(t)
	h := newHarness(t)
	w := h.wrapper(t, localConfig(srv, "main.default.s17_unread"))
	ctx := context.Background()

	boom := errors.New("reader broke")
	rdr := &genReader{size: 100, count: 3, err: boom} // 300 rows read, then the error; 1,000 declared
	res, err := w.SendReader(ctx, rdr, core.WithTotalRows(1000))
	if err == nil || res.TotalRows != 1000 || res.SuccessfulCount != 300 || res.NotWrittenCount != 700 {
		t.Fatalf("result %v (%v): want 300 acknowledged, 700 not written", res, err)
	}
	rm := h.collect(t)
	failed := sumInt(rm, "zerobus.rows.failed", attribute.String("zerobus.row.state", "not_written"))
	if sent := sumInt(rm, "zerobus.rows.sent"); sent != 300 || failed != 700 {
		t.Errorf("metrics: rows.sent %d, rows.failed{not_written} %d; want 300 and 700 (the result's)", sent, failed)
	}

	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	for name, send := range map[string]func() (*core.TransmissionResult, error){
		"SendReader": func() (*core.TransmissionResult, error) {
			return w.SendReader(ctx, &genReader{size: 10, count: 5}, core.WithTotalRows(50))
		},
		"SendReaderAsync": func() (*core.TransmissionResult, error) {
			return w.SendReaderAsync(ctx, &genReader{size: 10, count: 5}, core.WithTotalRows(50)).Wait(ctx)
		},
	} {
		res, err := send()
		if !errors.Is(err, core.ErrClosed) || res.TotalRows != 50 || res.NotWrittenCount != 50 || len(res.FailedRowIndices()) != 50 {
			t.Errorf("%s on a closed Wrapper: %v (%v); want the 50 declared rows not written, ErrClosed", name, res, err)
		}
	}
}

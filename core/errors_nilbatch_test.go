package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// A nil batch, reader or schema is the caller's data error: ErrNilBatch,
// of kind conversion (KindOf said unknown, which bindings and CLIs mapping
// by kind treat as foreign; s14 review-goapi2 finding 5), not retryable.
func TestNilBatchHasAKind(t *testing.T) {
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, "main.default.nil_batch"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	ctx := context.Background()
	_, sendErr := w.SendBatch(ctx, nil)
	_, asyncErr := w.SendBatchAsync(ctx, nil).Wait(ctx)
	_, readerErr := w.SendReader(ctx, nil)
	for name, err := range map[string]error{
		"ErrNilBatch": core.ErrNilBatch, "SendBatch": sendErr, "SendBatchAsync": asyncErr,
		"SendReader": readerErr, "CheckSchema": w.CheckSchema(ctx, nil),
	} {
		if !errors.Is(err, core.ErrNilBatch) {
			t.Errorf("%s: %v, want ErrNilBatch", name, err)
		}
		if k := core.KindOf(err); k != core.KindConversion {
			t.Errorf("%s: kind %q, want %q", name, k, core.KindConversion)
		}
		if d := core.DetailsOf(err); d.Kind != core.KindConversion || d.Retryable {
			t.Errorf("%s: details %+v", name, d)
		}
		if core.IsRetryable(err) {
			t.Errorf("%s: retryable", name)
		}
	}
}

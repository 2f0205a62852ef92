package tests_go

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A client cap far above the server's (4 MiB against 64 KiB, so requests
// are over 2 × the server cap + 1 MiB): the server answers INVALID_ARGUMENT
// "Batch size exceeds maximum allowed size ... the limit is 65536", as the
// service does, and the client fails the send at once without retrying
// (one stream, no reconnects), not with gRPC's retryable RESOURCE_EXHAUSTED.
func TestFarOversizeRequestIsNotRetried(t *testing.T) {
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{MaxMessageBytes: 64 << 10})
			table := "main.default.far_oversize"
			cfg := serverConfig(srv, table)
			cfg.Transport = tr
			cfg.MaxMessageBytes = 4 << 20
			w := newWrapper(t, cfg)
			// Rows of 1.5 MiB: every request is over 1 MiB + 2 × 64 KiB.
			const n = 3
			b := array.NewRecordBuilder(memory.DefaultAllocator, eventSchema)
			defer b.Release()
			for i := range n {
				b.Field(0).(*array.Int64Builder).Append(int64(i))
				b.Field(1).(*array.StringBuilder).Append(strings.Repeat("x", 3<<19))
				b.Field(2).AppendNull()
			}
			rec := b.NewRecordBatch()
			defer rec.Release()
			res, _ := w.SendBatch(testCtx(t), rec)
			checkInvariant(t, res, n)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := w.Close(ctx); err != nil {
				t.Errorf("Close: %v", err)
			}
			if res.Err == nil || core.IsRetryable(res.Err) {
				t.Fatalf("send error: %v (retryable %v), want a non-retryable size error", res.Err, core.IsRetryable(res.Err))
			}
			msg := res.Err.Error()
			if !strings.Contains(msg, "(INVALID_ARGUMENT)") || !strings.Contains(msg, zerobuslocal.BatchTooLargeMessage) ||
				!strings.Contains(msg, "the limit is 65536") {
				t.Errorf("send error: %v, want INVALID_ARGUMENT %q naming the limit 65536", res.Err, zerobuslocal.BatchTooLargeMessage)
			}
			if res.SuccessfulCount != 0 {
				t.Errorf("durable rows: %d, want 0", res.SuccessfulCount)
			}
			if got := srv.RecordCount(table); got != 0 {
				t.Errorf("stored rows: %d, want 0", got)
			}
			if st := srv.Stats(); st.StreamsCreated != 1 {
				t.Errorf("streams created: %d, want 1 (no retry)", st.StreamsCreated)
			}
		})
	}
}

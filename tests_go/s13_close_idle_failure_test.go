package tests_go

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// closeWithin closes w, bounded.
func closeWithin(w *core.Wrapper, d time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	return w.Close(ctx)
}

// A stream that the server ends with an error after acknowledging every
// request on it (nothing pending) hurts no row: the sends were reported
// fully durable, and Close must not fail with that error later. A later
// send opens a new stream.
func TestCloseIgnoresErrorOfIdleStream(t *testing.T) {
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		for _, later := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/later_send=%v", tr, later), func(t *testing.T) {
				srv := startServer(t, zerobuslocal.Options{})
				table := "main.default.idle_fail"
				srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.InvalidArgument, AfterMessages: 1})
				cfg := serverConfig(srv, table)
				cfg.Transport = tr
				cfg.StreamsPerSchema = 1
				w, err := core.New(context.Background(), cfg, core.WithRetryBackoff(noWait))
				if err != nil {
					t.Fatal(err)
				}
				defer func() { _ = closeWithin(w, 5*time.Second) }()
				send := func(first int64, n int) {
					t.Helper()
					rec := eventBatch(memory.DefaultAllocator, first, n)
					defer rec.Release()
					res, err := w.SendBatch(testCtx(t), rec)
					if err != nil || res.SuccessfulCount != n {
						t.Fatalf("SendBatch(%d..): %v, %d of %d durable", first, err, res.SuccessfulCount, n)
					}
				}
				send(0, 10)
				// The server stored and acknowledged the one request, then
				// ended the stream with INVALID_ARGUMENT.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if _, err := srv.WaitFor(ctx, func(e zerobuslocal.Event) bool {
					return e.Kind == zerobuslocal.EventStreamEnded && e.Code == codes.InvalidArgument
				}); err != nil {
					t.Fatalf("waiting for the injected end: %v", err)
				}
				time.Sleep(100 * time.Millisecond) // the client reads the status
				want := 10
				if later {
					send(10, 10) // on a new stream
					want = 20
					if n := srv.Stats().StreamsCreated; n != 2 {
						t.Errorf("streams created: %d, want 2", n)
					}
				}
				if err := closeWithin(w, 10*time.Second); err != nil {
					t.Errorf("Close after fully durable sends: %v, want nil", err)
				}
				if ids := storedIDs(t, srv, table); len(ids) != want {
					t.Errorf("stored %d distinct rows, want %d", len(ids), want)
				}
			})
		}
	}
}

// The review's race (SendReader over 3 × 1000 rows on two streams, the
// first ended by INVALID_ARGUMENT after two requests): whenever every row
// was reported durable, Close returns nil. Run with -count=40.
func TestCloseNilAfterFullyDurableReader(t *testing.T) {
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		for _, useReader := range []bool{false, true} {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.close_race"
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.InvalidArgument, AfterMessages: 2})
			cfg := serverConfig(srv, table)
			cfg.Transport = tr
			cfg.MaxMessageBytes = 20000
			w, err := core.New(context.Background(), cfg, core.WithRetryBackoff(noWait))
			if err != nil {
				t.Fatal(err)
			}
			var res *core.TransmissionResult
			if useReader {
				var recs []arrow.RecordBatch
				for i := 0; i < 3; i++ {
					rec := eventBatch(memory.DefaultAllocator, int64(i*1000), 1000)
					defer rec.Release()
					recs = append(recs, rec)
				}
				rdr, err := array.NewRecordReader(eventSchema, recs)
				if err != nil {
					t.Fatal(err)
				}
				res, _ = w.SendReader(testCtx(t), rdr)
				rdr.Release()
			} else {
				rec := eventBatch(memory.DefaultAllocator, 0, 3000)
				res, _ = w.SendBatch(testCtx(t), rec)
				rec.Release()
			}
			checkInvariant(t, res, 3000)
			cerr := closeWithin(w, 10*time.Second)
			ids := storedIDs(t, srv, table)
			for _, i := range res.SuccessfulRowIndices() {
				if ids[int64(i)] == 0 {
					t.Errorf("%s reader=%v: row %d durable but not stored", tr, useReader, i)
				}
			}
			if res.SuccessfulCount == 3000 && cerr != nil {
				t.Errorf("%s reader=%v: every row durable, yet Close() = %v", tr, useReader, cerr)
			}
		}
	}
}

package tests_go

import (
	"fmt"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestS23SixteenConcurrentSendersStoreEachRowOnce (issue 18 "must show": 16
// concurrent senders, on arrow_flight as on protobuf): 16 goroutines share
// one wrapper, half sending batch by batch (SendBatch), half a reader of
// several batches (SendReader). Without faults every row is stored exactly
// once with its values, and each result counts its rows. The older test
// (TestFlightConcurrentSendersAndWriterDisabled) counted distinct ids only,
// so a batch stored twice or a value mixed up between senders passed.
func TestS23SixteenConcurrentSendersStoreEachRowOnce(t *testing.T) {
	const senders, batches, per = 16, 3, 40
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.s23_senders_" + transport
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			w := newWrapper(t, cfg)
			var wg sync.WaitGroup
			for g := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					first := int64(g * 1000)
					if g%2 == 0 {
						for k := range batches {
							rec := eventBatch(memory.DefaultAllocator, first+int64(k*per), per)
							res, err := w.SendBatch(testCtx(t), rec)
							rec.Release()
							if err != nil || res == nil || res.SuccessfulCount != per || res.TotalRows != per || res.FailedCount != 0 {
								t.Errorf("sender %d batch %d: %+v, %v", g, k, res, err)
							}
						}
						return
					}
					recs := make([]arrow.RecordBatch, batches)
					for k := range recs {
						recs[k] = eventBatch(memory.DefaultAllocator, first+int64(k*per), per)
					}
					rdr, err := array.NewRecordReader(eventSchema, recs)
					for _, r := range recs {
						r.Release()
					}
					if err != nil {
						t.Errorf("sender %d: %v", g, err)
						return
					}
					defer rdr.Release()
					res, err := w.SendReader(testCtx(t), rdr)
					if err != nil || res == nil || res.SuccessfulCount != batches*per || res.TotalRows != batches*per || res.FailedCount != 0 {
						t.Errorf("sender %d reader: %+v, %v", g, res, err)
					}
				}()
			}
			wg.Wait()

			want := senders * batches * per
			if got := srv.RecordCount(table); got != want {
				t.Errorf("server holds %d records, want %d", got, want)
			}
			seen := map[int64]int{}
			for _, r := range srv.Rows(table) {
				idv, ok := field(r.Message, "id")
				if !ok {
					t.Fatalf("stored row without id: %v", r.Message)
				}
				id := idv.Int()
				seen[id]++
				name, hasName := field(r.Message, "name")
				if id%7 == 0 {
					if hasName {
						t.Errorf("id %d: name %q stored, want null", id, name.String())
					}
				} else if !hasName || name.String() != fmt.Sprintf("event-%d", id) {
					t.Errorf("id %d: name %v (set %v), want event-%d", id, name, hasName, id)
				}
				if score, ok := field(r.Message, "score"); !ok || score.Float() != float64(id)/2 {
					t.Errorf("id %d: score %v, want %v", id, score, float64(id)/2)
				}
			}
			for g := range senders {
				for i := range batches * per {
					id := int64(g*1000 + i)
					if seen[id] != 1 {
						t.Errorf("id %d stored %d times, want once", id, seen[id])
					}
					delete(seen, id)
				}
			}
			if len(seen) != 0 {
				t.Errorf("ids stored that no sender sent: %v", seen)
			}
			flight, proto := streamsByTransport(srv)
			if transport == core.TransportArrowFlight && (flight == 0 || proto != 0) {
				t.Errorf("streams: %d over Flight, %d over protobuf; want Flight only", flight, proto)
			}
			if transport == core.TransportProtobuf && (proto == 0 || flight != 0) {
				t.Errorf("streams: %d over Flight, %d over protobuf; want protobuf only", flight, proto)
			}
		})
	}
}

package core

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestWindowPermitsReturnAfterFaultsAndClose sends from eight goroutines
// (SendBatch, SendBatchAsync, SendReader; some cancelled mid-send) through
// one Wrapper with a small window while the server fails streams, then
// closes it: the shared in-flight window and the encoding budget must hold
// nothing afterwards, whatever path each request took.
func TestWindowPermitsReturnAfterFaultsAndClose(t *testing.T) {
	for _, transport := range []string{TransportProtobuf, TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = srv.Close() }()
			const table = "main.default.permits"
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, AfterMessages: 5})
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Internal, AfterMessages: 9})
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 14})
			cfg := DefaultConfig()
			cfg.Endpoint, cfg.UnityCatalogURL = srv.Endpoint(), srv.WorkspaceURL()
			cfg.ClientID, cfg.ClientSecret = srv.ClientID(), srv.ClientSecret()
			cfg.TableName = table
			cfg.Transport = transport
			cfg.RetryBaseDelay, cfg.RetryMaxDelay = time.Millisecond, 5*time.Millisecond
			cfg.MaxInflightRequests = 3
			cfg.MaxMessageBytes = 64 << 10
			cfg.MaxInflightBytes = 128 << 10
			w, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String}}, nil)
			batch := func(n int) arrow.RecordBatch {
				b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
				defer b.Release()
				for i := range n {
					b.Field(0).(*array.Int64Builder).Append(int64(i))
					b.Field(1).(*array.StringBuilder).Append("some text to make the rows a few dozen bytes long")
				}
				return b.NewRecordBatch()
			}
			rec := batch(20_000) // about 1.4 MB: many requests per call
			defer rec.Release()
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx := context.Background()
					if g%3 == 2 {
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, time.Duration(5+g)*time.Millisecond)
						defer cancel()
					}
					switch g % 4 {
					case 0:
						_, _ = w.SendBatch(ctx, rec)
					case 1:
						_, _ = w.SendBatchAsync(ctx, rec).Wait(ctx)
					case 2:
						rdr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec, rec})
						if err != nil {
							t.Error(err)
							return
						}
						defer rdr.Release()
						_, _ = w.SendReader(ctx, rdr)
					default:
						for range 3 {
							_, _ = w.SendBatch(ctx, rec)
						}
					}
				}()
			}
			wg.Wait()
			win := w.client.Window()
			if n, b := w.encoding.Usage(); n != 0 || b != 0 {
				t.Errorf("encoding budget after the sends: %d chunks / %d bytes held, want 0/0", n, b)
			}
			closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = w.Close(closeCtx)
			if n, b := win.Usage(); n != 0 || b != 0 {
				t.Errorf("in-flight window after Close: %d requests / %d bytes held, want 0/0", n, b)
			}
			if srv.Stats().FaultsFired == 0 {
				t.Error("no fault fired: the test did not exercise recovery")
			}
		})
	}
}

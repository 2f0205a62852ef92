package tests_go

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A send of another schema that waits for a send's read of the table's
// columns from Unity Catalog leaves when its own ctx ends, on both
// transports: the read held the Wrapper's lock of the table's schema, and
// a waiter's ctx was ignored until the read ended (up to create_timeout_ms,
// 15 s by default).
func TestCatalogWaitOfAnotherSchemaEndsWithItsCtx(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			const table = "main.default.catalog_wait_ctx"
			createTable(t, srv, table, "id BIGINT NOT NULL, name STRING, score DOUBLE")
			cat := newHeldCatalog(t, srv)
			cfg := flightCatalogConfig(srv, table, cat.url)
			cfg.Transport = transport
			w := newWrapper(t, cfg)
			rec := nullableBatch(0, 10)
			defer rec.Release()

			first := make(chan sendOutcome, 1)
			go func() {
				res, err := w.SendBatch(testCtx(t), rec)
				first <- sendOutcome{res, err}
			}()
			select {
			case <-cat.entered:
			case o := <-first:
				t.Fatalf("the first send returned before reading the catalog: %v", o.err)
			}

			// Another schema (id alone): its own plan, which reads the table's columns too.
			idOnly := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
			b := array.NewRecordBuilder(memory.DefaultAllocator, idOnly)
			b.Field(0).(*array.Int64Builder).AppendValues([]int64{100, 101, 102}, nil)
			other := b.NewRecordBatch()
			b.Release()
			defer other.Release()
			ctx, cancel := context.WithCancel(testCtx(t))
			second := make(chan sendOutcome, 1)
			go func() {
				res, err := w.SendBatch(ctx, other)
				second <- sendOutcome{res, err}
			}()
			time.AfterFunc(200*time.Millisecond, cancel)
			select {
			case o := <-second:
				checkInvariant(t, o.res, 3)
				if core.KindOf(o.err) != core.KindCanceled || !errors.Is(o.err, context.Canceled) || o.res.NotWrittenCount != 3 {
					t.Errorf("canceled send: kind %s, err %v, not written %d; want canceled, 3 rows not written", core.KindOf(o.err), o.err, o.res.NotWrittenCount)
				}
			case <-time.After(30 * time.Second): // a hang detector, not a timing bound
				t.Fatalf("a send whose ctx was canceled waited for another schema's catalog read")
			}
			if n := cat.lookups.Load(); n != 1 {
				t.Errorf("catalog lookups while the first was held: %d, want 1", n)
			}
			cat.free()
			<-first
			if n := srv.RecordCount(table); n != 0 {
				t.Errorf("%d rows stored", n)
			}
		})
	}
}

package tests_go

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// When the table's columns cannot be read from Unity Catalog, the batch's
// columns are sent as they are (pandas' int64 into an INT column is then
// not cast), and the server refuses the schema: the error says the catalog
// could not be read and why, not only what the server said (review2
// F-low-4). Refused while the catalog answers 403 (it may not be read),
// that is a TransmissionError with CatalogUnread; while it answers 503 (it
// may pass), the catalog's retryable error. With the catalog readable the
// same batch is stored.
func TestSchemaRefusedWhileTheCatalogIsUnreadableSaysSo(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{1, 2}, nil)
	col := ib.NewArray()
	ib.Release()
	defer col.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil), []arrow.Array{col}, 2)
	defer rec.Release()
	for _, status := range []int{http.StatusForbidden, http.StatusServiceUnavailable} {
		front, _ := catalogFront(t, srv, func(rw http.ResponseWriter, _ *http.Request) {
			http.Error(rw, "catalog unavailable in this test", status)
		})
		for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
			if status == http.StatusServiceUnavailable && transport == core.TransportArrowFlight {
				continue // Flight needs the table's columns: its error is the catalog's own
			}
			table := "main.default.unread_" + transport + "_" + http.StatusText(status)[:4]
			createTable(t, srv, table, "n INT")
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			cfg.UnityCatalogURL = front
			_, err := newWrapper(t, cfg).SendBatch(testCtx(t), rec)
			if status == http.StatusServiceUnavailable {
				// A failure that may pass: the refusal is no verdict on
				// the batch (the table's columns would have cast it), so
				// the error is the catalog's, retryable, and says what the
				// server refused (s14 review-faults 2).
				if core.KindOf(err) != core.KindConnection || !core.IsRetryable(err) || errors.As(err, new(*core.TransmissionError)) {
					t.Fatalf("%s, catalog %d: %v (%T, kind %s), want the catalog's retryable connection error", transport, status, err, err, core.KindOf(err))
				}
				if msg := err.Error(); !strings.Contains(msg, "the table's columns could not be read from Unity Catalog") || !strings.Contains(msg, "rejected the stream (INVALID_ARGUMENT)") || !strings.Contains(msg, "503") {
					t.Errorf("%s, catalog %d: %s", transport, status, msg)
				}
				if n := len(srv.Rows(table)); n != 0 {
					t.Errorf("%s: %d rows stored", transport, n)
				}
				continue
			}
			var te *core.TransmissionError
			if !errors.As(err, &te) || te.CatalogUnread == nil {
				t.Fatalf("%s, catalog %d: %v (%T), want a refused schema naming the unread catalog", transport, status, err, err)
			}
			if msg := err.Error(); !strings.Contains(msg, "the table's columns could not be read from Unity Catalog") || !strings.Contains(msg, "catalog unavailable in this test") && !strings.Contains(msg, "403") && !strings.Contains(msg, "503") {
				t.Errorf("%s, catalog %d: %s", transport, status, msg)
			}
			if n := len(srv.Rows(table)); n != 0 {
				t.Errorf("%s: %d rows stored", transport, n)
			}
		}
	}
	// Readable: the same batch is cast to INT and stored, no hint anywhere.
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.unread_ok_" + transport
		createTable(t, srv, table, "n INT")
		cfg := serverConfig(srv, table)
		cfg.Transport = transport
		if res, err := newWrapper(t, cfg).SendBatch(testCtx(t), rec); err != nil || len(res.FailedRows) != 0 || len(srv.Rows(table)) != 2 {
			t.Fatalf("%s, catalog readable: %v, %+v", transport, err, res)
		}
	}
}

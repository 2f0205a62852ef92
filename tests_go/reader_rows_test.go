package tests_go

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A row that fails in a later batch of a SendReader input is named by its
// index across the reader on both transports: FailedRow.Index, the
// ConversionError's Row, DetailsOf's Row and the row in the messages all
// agree (the error said the row within its batch: "first, row 25:
// conversion failed at row 5").
func TestSendReaderErrorRowIsGlobal(t *testing.T) {
	s := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "name", Type: arrow.BinaryTypes.String}}, nil)
	const batches, per, bad = 3, 10, 25 // the null name: batch 2, row 5
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.reader_rows_" + tr
			cfg := serverConfig(srv, table)
			cfg.Transport = tr
			w := newWrapper(t, cfg)
			var recs []arrow.RecordBatch
			for b := range batches {
				rb := array.NewRecordBuilder(memory.DefaultAllocator, s)
				for i := range per {
					id := b*per + i
					rb.Field(0).(*array.Int64Builder).Append(int64(id))
					if id == bad {
						rb.Field(1).(*array.StringBuilder).AppendNull()
					} else {
						rb.Field(1).(*array.StringBuilder).Append("x")
					}
				}
				recs = append(recs, rb.NewRecordBatch())
				rb.Release()
			}
			rdr, err := array.NewRecordReader(s, recs)
			if err != nil {
				t.Fatal(err)
			}
			defer rdr.Release()
			for _, r := range recs {
				r.Release()
			}
			res, err := w.SendReader(testCtx(t), rdr)
			if err == nil {
				t.Fatal("SendReader: no error for the null name")
			}
			checkInvariant(t, res, batches*per)
			if res.FailedCount != 1 || res.FailedRows[0].Index != bad {
				t.Fatalf("failed rows %v, want row %d alone", res.FailedRows, bad)
			}
			var ce *core.ConversionError
			if !errors.As(res.FailedRows[0].Err, &ce) || ce.Row != bad || ce.Column != "name" {
				t.Fatalf("row %d's error %v: want a ConversionError at row %d, column name", bad, res.FailedRows[0].Err, bad)
			}
			if tr == core.TransportProtobuf && !strings.Contains(ce.Error(), "all_fields_optional") {
				t.Errorf("row %d's error %q: want it to name the setting all_fields_optional", bad, ce)
			}
			for what, e := range map[string]error{"the result's error": err, "the failed row's error": res.FailedRows[0].Err} {
				if d := core.DetailsOf(e); d.Row != bad {
					t.Errorf("DetailsOf(%s).Row = %d, want %d", what, d.Row, bad)
				}
				if msg := e.Error(); !strings.Contains(msg, "at row 25") || strings.Contains(msg, "row 5,") {
					t.Errorf("%s: %q, want row %d only", what, msg, bad)
				}
			}
			if !strings.Contains(err.Error(), "first, row 25: ") {
				t.Errorf("error %q, want it to start the first failure at row %d", err, bad)
			}
			for _, g := range res.FailedGroups() {
				if !errors.As(g.Err, &ce) || ce.Row != g.Ranges[0][0] {
					t.Errorf("group %v: error %v, want its row", g.Ranges, g.Err)
				}
			}
			ids := storedIDs(t, srv, table)
			for i := range batches * per {
				if want := map[bool]int{true: 0, false: 1}[i == bad]; ids[int64(i)] != want {
					t.Fatalf("row %d stored %d times, want %d", i, ids[int64(i)], want)
				}
			}
		})
	}
}

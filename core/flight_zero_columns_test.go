package core_test

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// A batch with rows and no columns is refused on both transports with the
// same ConversionError (Arrow Flight's cast stored it as rows of nulls).
func TestBatchWithoutColumnsRefusedOnBothTransports(t *testing.T) {
	srv := localServer(t)
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			table := "main.default.nocols_" + tr
			if err := srv.CreateTableFromArrow(table, arrow.NewSchema([]arrow.Field{
				{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
				{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
			}, nil)); err != nil {
				t.Fatal(err)
			}
			w := newWrapper(t, srv, table, func(c *core.Config) { c.Transport = tr })
			empty := arrow.NewSchema(nil, nil)
			rec := array.NewRecordBatch(empty, nil, 2)
			defer rec.Release()
			const want = "the schema has no columns; Zerobus needs at least one"
			for range 2 { // the refusal is kept: the second send gets it too
				res, err := w.SendBatch(context.Background(), rec)
				if err == nil || core.KindOf(err) != core.KindConversion || !strings.Contains(err.Error(), want) {
					t.Errorf("SendBatch = %v; want a ConversionError saying %q", err, want)
				}
				if res.Success || !res.FailedAsWhole() || res.TotalRows != 2 || res.FailedCount != 2 {
					t.Errorf("result = %v; want both rows failed as a whole", res)
				}
			}
			rdr, err := array.NewRecordReader(empty, []arrow.RecordBatch{rec})
			if err != nil {
				t.Fatal(err)
			}
			defer rdr.Release()
			if _, err := w.SendReader(context.Background(), rdr); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("SendReader = %v; want %q", err, want)
			}
			if err := w.CheckSchema(context.Background(), empty); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("CheckSchema = %v; want %q", err, want)
			}
			if n := srv.RecordCount(table); n != 0 {
				t.Errorf("server stored %d rows, want none", n)
			}
		})
	}
}

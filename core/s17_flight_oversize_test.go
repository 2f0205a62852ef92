package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A row over max_message_bytes fails alone on both transports, and its
// ConversionError names the column that makes it large and that column's
// size, on arrow_flight as on protobuf (arrow_flight named no column).
func TestS17OversizeRowNamesItsColumn(t *testing.T) {
	srv := localServer(t)
	ctx := context.Background()
	const rows, big = 200, 100
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.s17_oversize_" + tr
		cols, _ := zerobuslocal.ParseColumns("id BIGINT, s STRING, t STRING")
		if err := srv.CreateTableColumns(table, cols); err != nil {
			t.Fatal(err)
		}
		w := newWrapper(t, srv, table, func(c *core.Config) {
			c.Transport = tr
			c.MaxMessageBytes = 200 << 10
			c.MaxRecordBytes = 0 // the default: under max_message_bytes on protobuf
		})
		schema := arrow.NewSchema([]arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
			{Name: "t", Type: arrow.BinaryTypes.String, Nullable: true},
		}, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for i := range rows {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			s := "small"
			if i == big {
				s = strings.Repeat("x", 300<<10)
			}
			b.Field(1).(*array.StringBuilder).Append(s)
			b.Field(2).(*array.StringBuilder).Append("tiny")
		}
		rec := b.NewRecordBatch()
		b.Release()
		res, _ := w.SendBatch(ctx, rec)
		rec.Release()
		if res.SuccessfulCount != rows-1 || len(res.FailedRows) != 1 || res.FailedRows[0].Index != big {
			t.Fatalf("%s: result %v; want row %d alone failed", tr, res, big)
		}
		f := res.FailedRows[0]
		var ce *core.ConversionError
		if !errors.As(f.Err, &ce) || ce.Column != "s" || ce.Row != big || f.State != core.RowNotWritten {
			t.Errorf("%s: row %d failed with %#v (%v); want a ConversionError for column \"s\", not written", tr, big, f.Err, f.Err)
		}
		if msg := f.Err.Error(); !strings.Contains(msg, `column "s"`) || !strings.Contains(msg, "this column alone is 3072") {
			t.Errorf("%s: error %q; want it to name column \"s\" and its size (3072xx bytes)", tr, msg)
		}
		if n := srv.RecordCount(table); n != rows-1 {
			t.Errorf("%s: %d rows stored; want %d", tr, n, rows-1)
		}
	}
}

package tests_go

import (
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Regressions found by TestRoundTripRandom that show end to end (the
// others are unit tests beside their fix, named in their comments).

// A decimal map key goes to a MAP<STRING, _> column as its exact text on
// both transports. Found by TestRoundTripRandom (seed 86): the protobuf
// path refused the schema ("protobuf map keys must be integers, booleans or
// strings") while Flight sent the text.
func TestDecimalMapKeysOnBothTransports(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	mt := arrow.MapOf(&arrow.Decimal128Type{Precision: 5, Scale: 2}, arrow.PrimitiveTypes.Int32)
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "m", Type: mt, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(1)
	mb := b.Field(1).(*array.MapBuilder)
	mb.Append(true)
	mb.KeyBuilder().(*array.Decimal128Builder).Append(decimal128.FromI64(150))
	mb.ItemBuilder().(*array.Int32Builder).Append(7)
	mb.KeyBuilder().(*array.Decimal128Builder).Append(decimal128.FromI64(-5))
	mb.ItemBuilder().(*array.Int32Builder).Append(8)
	rec := b.NewRecordBatch()
	defer rec.Release()
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.deckey_" + tr
		createTable(t, srv, table, "id BIGINT NOT NULL, m MAP<STRING, INT>")
		cfg := serverConfig(srv, table)
		cfg.Transport = tr
		res, err := newWrapper(t, cfg).SendBatch(testCtx(t), rec)
		if err != nil {
			t.Fatalf("%s: %v", tr, err)
		}
		checkInvariant(t, res, 1)
		rows := srv.Rows(table)
		if len(rows) != 1 {
			t.Fatalf("%s: %d rows stored", tr, len(rows))
		}
		if got, want := msgToMap(rows[0].Message)["m"], map[string]any{"1.50": int64(7), "-0.05": int64(8)}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: m stored as %v, want %v", tr, got, want)
		}
	}
}

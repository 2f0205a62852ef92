package core_test

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// Over arrow_flight, a dictionary column with null indices is decoded
// with a validity bitmap from the encoder arena (a region from 262,144
// rows): every byte goes back after each send (one region per batch stayed
// in use when the bitmap's array.Data was never released), and the rows
// are stored with their values and the null.
func TestFlightArenaDictionaryWithNullIndices(t *testing.T) {
	settleArena(t)
	srv := localServer(t)
	ctx := context.Background()
	input := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer input.AssertSize(t, 0)
	const rows = 300_000
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "d", Type: dt, Nullable: true}}, nil)
	b := array.NewRecordBuilder(input, schema)
	defer b.Release()
	db := b.Field(1).(*array.BinaryDictionaryBuilder)
	for i := range rows {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i == 7 {
			db.AppendNull()
		} else if err := db.AppendString([]string{"a", "b"}[i%2]); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	const table = "main.default.flight_arena_dict"
	w := newWrapper(t, srv, table, func(c *core.Config) { c.Transport = core.TransportArrowFlight })
	for k := range 3 {
		if res, err := w.SendBatch(ctx, rec); err != nil || res.SuccessfulCount != rows {
			t.Fatalf("send %d: %+v, %v", k, res, err)
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	closeWrapper(t, w)
	if n := convert.ReadArenaStats().InUse; n != 0 {
		t.Errorf("encoder arena: %d bytes in use after 3 sends and Close", n)
	}
	stored, err := srv.ArrowBatch(table, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stored.Release()
	if stored.NumRows() != 3*rows {
		t.Fatalf("stored %d rows, want %d", stored.NumRows(), 3*rows)
	}
	ids := stored.Column(0).(*array.Int64)
	d := stored.Column(1)
	for i := range int(stored.NumRows()) {
		id := ids.Value(i)
		if id == 7 {
			if !d.IsNull(i) {
				t.Errorf("row id 7: %s, want null", d.ValueStr(i))
			}
		} else if got, want := d.ValueStr(i), []string{"a", "b"}[id%2]; d.IsNull(i) || got != want {
			t.Fatalf("row id %d: %q, want %q", id, got, want)
		}
	}
}

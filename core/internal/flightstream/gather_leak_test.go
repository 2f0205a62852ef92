package flightstream

import (
	"context"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A dictionary with null indices is decoded by gather, which makes a
// validity bitmap for the indices from the cast's allocator. Every byte of
// it must come back: the bitmap's array.Data was once never released (a
// 64-byte leak per value type here; one arena region per Flight batch in
// production).
func TestGatherWithNullIndicesReleasesItsBitmap(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	for _, vt := range []arrow.DataType{arrow.BinaryTypes.String, &arrow.Decimal64Type{Precision: 9, Scale: 2}, arrow.BinaryTypes.StringView} {
		dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: vt}
		dict := fromJSON(t, mem, vt, `[]`)
		ib := array.NewInt8Builder(mem)
		ib.AppendNulls(3)
		idx := ib.NewArray()
		ib.Release()
		d := array.NewDictionaryArray(dt, idx, dict)
		idx.Release()
		dict.Release()
		rec := batchOf(t, []arrow.Field{{Name: "d", Type: dt, Nullable: true}}, d)
		c, _ := planCanonical(t, rec.Schema())
		out, _, _, err := c.ApplyWith(context.Background(), mem, rec)
		if err != nil {
			t.Errorf("%s: %v", vt, err)
		} else {
			if col := out.Column(0); col.Len() != 3 || col.NullN() != 3 {
				t.Errorf("%s: got %s, want 3 nulls", vt, col)
			}
			out.Release()
		}
		rec.Release()
	}
}

// The same with the production allocator and a batch large enough that
// the bitmap takes an arena region: the arena's bytes in use return to
// their baseline after every cast.
func TestGatherWithNullIndicesReturnsTheArena(t *testing.T) {
	const n = 300_000
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	dict := fromJSON(t, memory.DefaultAllocator, arrow.BinaryTypes.String, `["a","b"]`)
	defer dict.Release()
	ib := array.NewInt32Builder(memory.DefaultAllocator)
	defer ib.Release()
	for i := range n {
		if i == 7 {
			ib.AppendNull()
		} else {
			ib.Append(int32(i % 2))
		}
	}
	idx := ib.NewArray()
	defer idx.Release()
	d := array.NewDictionaryArray(dt, idx, dict)
	rec := batchOf(t, []arrow.Field{{Name: "d", Type: dt, Nullable: true}}, d)
	defer rec.Release()
	c, _ := planCanonical(t, rec.Schema())
	before := convert.ReadArenaStats().InUse
	for range 10 {
		out, _, _, err := c.ApplyWith(context.Background(), convert.ArrowAllocator, rec)
		if err != nil {
			t.Fatal(err)
		}
		if col := out.Column(0); col.Len() != n || col.NullN() != 1 {
			t.Fatalf("got %d rows with %d nulls, want %d with 1", col.Len(), col.NullN(), n)
		}
		out.Release()
	}
	if after := convert.ReadArenaStats().InUse; after != before {
		t.Errorf("arena in use: %d before, %d after 10 casts (+%d bytes never returned)", before, after, after-before)
	}
}

package flightstream

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/variant"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// applyCast casts rec to target (nil: rec's own schema; its values checked
// and the rows that cannot be sent left out): the batch sent (to release),
// the rows left out and the rows kept.
func applyCast(t testing.TB, rec arrow.RecordBatch, target *arrow.Schema) (arrow.RecordBatch, []NullRow, []int) {
	t.Helper()
	if target == nil {
		target = rec.Schema()
	}
	c, err := PlanCast("t", rec.Schema(), target)
	if err != nil {
		t.Fatal(err)
	}
	out, bad, keep, err := c.Apply(context.Background(), rec)
	if err != nil {
		t.Fatal(err)
	}
	return out, bad, keep
}

// badVariant is an object naming key 7 of a one-key dictionary: the local
// server's reader refuses it.
var badVariant = [2][]byte{{1, 1, 0, 1, 'a'}, {0x02, 1, 7, 0, 1, 0x00}}

// A VARIANT given already encoded whose bytes are malformed fails its row
// only, at the top level and inside a STRUCT, an ARRAY<STRUCT>, an ARRAY
// and a MAP, named by the protobuf path's form of its path; the other rows
// are sent with their values unchanged.
func TestMalformedBinaryVariantsLeaveTheirRowOut(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	good, err := variant.ParseJSON(`{"a":[1,"x"]}`, false)
	if err != nil {
		t.Fatal(err)
	}
	ok := [2][]byte{good.Metadata().Bytes(), good.Bytes()}
	vt := variantType().(*arrow.StructType)
	item := arrow.StructOf(arrow.Field{Name: "v", Type: vt, Nullable: true})
	payload := arrow.StructOf(arrow.Field{Name: "v", Type: vt, Nullable: true},
		arrow.Field{Name: "items", Type: arrow.ListOf(item), Nullable: true})
	fields := []arrow.Field{
		{Name: "top", Type: vt, Nullable: true},
		{Name: "payload", Type: payload, Nullable: true},
		{Name: "vs", Type: arrow.ListOf(vt), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, vt), Nullable: true},
	}
	put := func(b array.Builder, v [2][]byte) {
		sb := b.(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.BinaryBuilder).Append(v[0])
		sb.FieldBuilder(1).(*array.BinaryBuilder).Append(v[1])
	}
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer rb.Release()
	// Row r holds the bad value at place r-1 (row 0 and row 6: nowhere).
	places := []string{"top", "payload.v", "payload.items[1].v", "vs[1]", "m[1].value"}
	for r := range 7 {
		at := func(p string) [2][]byte {
			if r >= 1 && r <= len(places) && places[r-1] == p {
				return badVariant
			}
			return ok
		}
		put(rb.Field(0), at("top"))
		pb := rb.Field(1).(*array.StructBuilder)
		pb.Append(true)
		put(pb.FieldBuilder(0), at("payload.v"))
		ib := pb.FieldBuilder(1).(*array.ListBuilder)
		ib.Append(true)
		for k := range 2 {
			isb := ib.ValueBuilder().(*array.StructBuilder)
			isb.Append(true)
			put(isb.FieldBuilder(0), at("payload.items["+string(rune('0'+k))+"].v"))
		}
		lb := rb.Field(2).(*array.ListBuilder)
		lb.Append(true)
		put(lb.ValueBuilder(), ok)
		put(lb.ValueBuilder(), at("vs[1]"))
		mb := rb.Field(3).(*array.MapBuilder)
		mb.Append(true)
		for k, key := range []string{"k0", "k1"} {
			mb.KeyBuilder().(*array.LargeStringBuilder).Append(key)
			v := ok
			if k == 1 {
				v = at("m[1].value")
			}
			put(mb.ItemBuilder(), v)
		}
	}
	rec := rb.NewRecordBatch()
	defer rec.Release()
	out, bad, keep := applyCast(t, rec, nil)
	defer out.Release()
	if !reflect.DeepEqual(keep, []int{0, 6}) || len(bad) != len(places) {
		t.Fatalf("kept %v, left out %v", keep, bad)
	}
	for i, b := range bad {
		if b.Row != i+1 || b.Column != places[i] || !strings.Contains(b.Reason, "VARIANT value is malformed: object field 0 names key 7, the dictionary has 1") {
			t.Errorf("left out %+v, want row %d at %s", b, i+1, places[i])
		}
	}
	want := jsonValue(t, `{"a":[1,"x"]}`)
	for r := range 2 {
		if got := variantText(t, out.Column(0), r); !reflect.DeepEqual(got, want) {
			t.Errorf("row %d sent %v", r, got)
		}
	}
}

// FuzzBinaryVariants: any bytes given as an encoded VARIANT inside an ARRAY
// either leave their row out, named vs[1], or are sent as given and read
// by the local server's reader; the row before is always sent.
func FuzzBinaryVariants(f *testing.F) {
	good, err := variant.ParseJSON(`{"a":[1,"x"]}`, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good.Metadata().Bytes(), good.Bytes())
	f.Add(badVariant[0], badVariant[1])
	f.Add([]byte{1, 0, 0}, []byte{0x03, 2, 0, 1, 9, 0x00})
	vt := variantType().(*arrow.StructType)
	f.Fuzz(func(t *testing.T, meta, value []byte) {
		lb := array.NewListBuilder(memory.DefaultAllocator, vt)
		defer lb.Release()
		sb := lb.ValueBuilder().(*array.StructBuilder)
		for r := range 2 {
			lb.Append(true)
			for k := range r + 1 {
				sb.Append(true)
				if k == 1 {
					sb.FieldBuilder(0).(*array.BinaryBuilder).Append(meta)
					sb.FieldBuilder(1).(*array.BinaryBuilder).Append(value)
					continue
				}
				sb.FieldBuilder(0).(*array.BinaryBuilder).Append(good.Metadata().Bytes())
				sb.FieldBuilder(1).(*array.BinaryBuilder).Append(good.Bytes())
			}
		}
		rec := batchOf(t, []arrow.Field{{Name: "vs", Type: arrow.ListOf(vt), Nullable: true}}, lb.NewArray())
		defer rec.Release()
		out, bad, _ := applyCast(t, rec, nil)
		defer out.Release()
		_, jerr := protoarrow.VariantJSON(meta, value)
		if jerr != nil {
			if out.NumRows() != 1 || len(bad) != 1 || bad[0].Row != 1 || bad[0].Column != "vs[1]" || bad[0].Reason != jerr.Error() {
				t.Fatalf("%v: sent %d rows, left out %v", jerr, out.NumRows(), bad)
			}
			return
		}
		if out.NumRows() != 2 || len(bad) != 0 {
			t.Fatalf("sent %d rows, left out %v", out.NumRows(), bad)
		}
	})
}

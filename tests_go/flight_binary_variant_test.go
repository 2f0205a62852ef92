package tests_go

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/variant"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// VARIANTs given already encoded (struct{metadata, value} binaries) at the
// top level and inside a STRUCT, an ARRAY<STRUCT>, an ARRAY and a MAP, over
// Flight: a malformed value fails its row only (the local server would
// refuse the whole batch), named by row and path; every other row is
// stored, the rows stored are exactly the rows reported durable, and their
// values are the JSON the bytes encode.
func TestFlightMalformedBinaryVariantFailsItsRow(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.binary_variant"
	createTable(t, srv, table, "id BIGINT NOT NULL, top VARIANT, payload STRUCT<v: VARIANT, items: ARRAY<STRUCT<v: VARIANT>>>, "+
		"vs ARRAY<VARIANT>, m MAP<STRING, VARIANT>")
	good, err := variant.ParseJSON(`{"a":[1,"x",{"b":null}]}`, false)
	if err != nil {
		t.Fatal(err)
	}
	enc := func(meta, value []byte) string {
		return fmt.Sprintf(`{"metadata": %q, "value": %q}`, base64.StdEncoding.EncodeToString(meta), base64.StdEncoding.EncodeToString(value))
	}
	ok := enc(good.Metadata().Bytes(), good.Bytes())
	malformed := []string{
		enc([]byte{1, 1, 0, 1, 'a'}, []byte{0x02, 1, 7, 0, 1, 0x00}),  // names key 7 of a one-key dictionary
		enc([]byte{1, 0, 0}, []byte{0x03, 2, 0, 1, 9, 0x00}),          // array values past its end
		enc([]byte{2, 0, 0}, good.Bytes()),                            // metadata version 2
		enc(good.Metadata().Bytes(), append(good.Bytes(), 0)),         // a byte after the value
		enc([]byte{1, 0, 0}, []byte{16 << 2, 2, 0, 0, 0, 0xff, 0xfe}), // a string that is not UTF-8
	}
	places := []string{"top", "payload.v", "payload.items[1].v", "vs[1]", "m[1].value"}
	vt := arrow.StructOf(arrow.Field{Name: "metadata", Type: arrow.BinaryTypes.Binary}, arrow.Field{Name: "value", Type: arrow.BinaryTypes.Binary})
	item := arrow.StructOf(arrow.Field{Name: "v", Type: vt, Nullable: true})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "top", Type: vt, Nullable: true},
		{Name: "payload", Type: arrow.StructOf(arrow.Field{Name: "v", Type: vt, Nullable: true},
			arrow.Field{Name: "items", Type: arrow.ListOf(item), Nullable: true}), Nullable: true},
		{Name: "vs", Type: arrow.ListOf(vt), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, vt), Nullable: true},
	}, nil)
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	// Row 0 is good everywhere, row 1+5k+p has malformed value k at place p,
	// the last two rows are good and null everywhere.
	rows := 1 + len(malformed)*len(places) + 2
	want := map[int]string{} // failed row → path
	for r := range rows {
		v := func(p string) string {
			if r == 0 || r >= rows-2 {
				return ok
			}
			k, at := (r-1)/len(places), (r-1)%len(places)
			if places[at] != p {
				return ok
			}
			want[r] = p
			return malformed[k]
		}
		js := fmt.Sprintf(`{"id": %d, "top": %s, "payload": {"v": %s, "items": [{"v": %s}, {"v": %s}]}, "vs": [%s, %s], "m": [{"key": "a", "value": %s}, {"key": "b", "value": %s}]}`,
			r, v("top"), v("payload.v"), ok, v("payload.items[1].v"), ok, v("vs[1]"), ok, v("m[1].value"))
		if r == rows-1 {
			js = fmt.Sprintf(`{"id": %d, "top": null, "payload": null, "vs": null, "m": null}`, r)
		}
		if err := b.UnmarshalJSON([]byte(js)); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	res, err := newWrapper(t, flightConfig(srv, table)).SendBatch(testCtx(t), rec)
	checkInvariant(t, res, rows)
	if err == nil || res.FailedCount != len(want) {
		t.Fatalf("SendBatch: %v, %d failed; want %d rows failed", err, res.FailedCount, len(want))
	}
	for _, fr := range res.FailedRows {
		var ce *core.ConversionError
		if fr.State != core.RowNotWritten || !errors.As(fr.Err, &ce) || ce.Row != fr.Index || ce.Column != want[fr.Index] ||
			!strings.Contains(ce.Error(), "VARIANT") {
			t.Errorf("row %d: %v (%v), want a not-written ConversionError at %q", fr.Index, fr.Err, fr.State, want[fr.Index])
		}
	}
	var durable []int
	for r := range rows {
		if _, bad := want[r]; !bad {
			durable = append(durable, r)
		}
	}
	if res.SuccessfulRows != nil && !reflect.DeepEqual(res.SuccessfulRows, durable) {
		t.Errorf("durable rows %v, want %v", res.SuccessfulRows, durable)
	}
	stored := storedNormalized(t, srv, table)
	var ids []int
	for id := range stored {
		n, _ := strconv.Atoi(id)
		ids = append(ids, n)
	}
	slices.Sort(ids)
	if !reflect.DeepEqual(ids, durable) {
		t.Fatalf("stored rows %v, reported durable %v", ids, durable)
	}
	doc := exactJSON(t, `{"a":[1,"x",{"b":null}]}`)
	wantRow := func(id string) any {
		return map[string]any{"id": json.Number(id), "top": doc, "payload": map[string]any{"v": doc, "items": []any{map[string]any{"v": doc}, map[string]any{"v": doc}}},
			"vs": []any{doc, doc}, "m": map[string]any{"a": doc, "b": doc}}
	}
	for _, id := range []string{"0", strconv.Itoa(rows - 2)} {
		if got := stored[id]; !reflect.DeepEqual(got, wantRow(id)) {
			t.Errorf("row %s stored %v, want %v", id, got, wantRow(id))
		}
	}
	if got := stored[strconv.Itoa(rows-1)]; !reflect.DeepEqual(got, map[string]any{"id": json.Number(strconv.Itoa(rows - 1))}) {
		t.Errorf("null row stored %v", got)
	}
}

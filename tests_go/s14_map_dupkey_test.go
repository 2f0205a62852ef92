package tests_go

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A MAP value that gives a key twice fails its row on both transports, at
// any depth, naming the second entry and the first: a protobuf map keeps
// only the last entry, so the row was reported durable with "a"=1 lost
// (s14 review-goapi2 finding 1). The same key in two rows, or in two maps
// of one row, is fine.
func TestDuplicateMapKeysFailTheRowBothTransports(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.StructOf(
			arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			arrow.Field{Name: "mm", Type: arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String), Nullable: true},
		)), Nullable: true},
	}, nil)
	big := func(dupAt int) string { // 12 entries k0..k11, entry dupAt repeating k4
		var s []string
		for i := range 12 {
			k := "k" + string(rune('a'+i))
			if i == dupAt {
				k = "ke"
			}
			s = append(s, `{"key": "`+k+`", "value": 1}`)
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[
		{"id": 0, "m": [{"key": "a", "value": 1}, {"key": "b", "value": 5}, {"key": "a", "value": 2}]},
		{"id": 1, "m": [{"key": "a", "value": 1}, {"key": "b", "value": 2}],
		          "l": [{"n": 1, "mm": [{"key": 1, "value": "x"}]}, {"n": 2, "mm": [{"key": 1, "value": "y"}]}]},
		{"id": 2, "l": [{"n": 1, "mm": [{"key": 1, "value": "x"}]}, {"n": 2, "mm": [{"key": 3, "value": "y"}, {"key": 4, "value": "z"}, {"key": 3, "value": "w"}]}]},
		{"id": 3, "m": `+big(10)+`},
		{"id": 4, "m": `+big(-1)+`}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, m MAP<STRING, BIGINT>, l ARRAY<STRUCT<n:INT, mm:MAP<INT, STRING>>>")
	if err != nil {
		t.Fatal(err)
	}
	stored, results := sendBoth(t, srv, "dupkey", cols, rec)
	for transport, res := range results {
		checkFailedRows(t, transport, res, map[int]string{
			0: `column "m[2].key": duplicate MAP key "a" (the same key as entry 0)`,
			2: `column "l[1].mm[2].key": duplicate MAP key 3 (the same key as entry 0)`,
			3: `column "m[10].key": duplicate MAP key "ke" (the same key as entry 4)`,
		})
		for _, fr := range res.FailedRows {
			var ce *core.ConversionError
			if errors.As(fr.Err, &ce) && ce.Row != fr.Index {
				t.Errorf("%s row %d: ConversionError.Row %d", transport, fr.Index, ce.Row)
			}
			if core.KindOf(fr.Err) != core.KindConversion {
				t.Errorf("%s row %d: kind %s", transport, fr.Index, core.KindOf(fr.Err))
			}
		}
		var ids []int64
		for _, r := range stored[transport] {
			ids = append(ids, r["id"].(int64))
		}
		if !reflect.DeepEqual(ids, []int64{1, 4}) {
			t.Errorf("%s stored ids %v, want [1 4]", transport, ids)
		}
		if len(stored[transport]) > 0 {
			if m, _ := stored[transport][0]["m"].(map[string]any); !reflect.DeepEqual(m, map[string]any{"a": int64(1), "b": int64(2)}) {
				t.Errorf("%s row 1 m = %#v", transport, stored[transport][0]["m"])
			}
		}
	}
}

// Keys compare as the values stored, not as the caller's representation:
// dictionary-encoded keys whose dictionary gives "a" twice are one key when
// two entries use the two indices.
func TestDuplicateDictionaryMapKeysFailTheRowBothTransports(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"a", "a", "b"}, nil)
	dvals := sb.NewArray()
	sb.Release()
	defer dvals.Release()
	xb := array.NewInt8Builder(mem)
	xb.AppendValues([]int8{0, 2, 0, 1}, nil) // row 0 {a, b}, row 1 {a, a}
	idx := xb.NewArray()
	xb.Release()
	defer idx.Release()
	keys := array.NewDictionaryArray(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}, idx, dvals)
	defer keys.Release()
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{1, 2, 3, 4}, nil)
	items := ib.NewArray()
	ib.Release()
	defer items.Release()
	mt := arrow.MapOfFields(arrow.Field{Name: "key", Type: keys.DataType()}, arrow.Field{Name: "value", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	ents := array.NewData(mt.Elem(), 4, []*memory.Buffer{nil}, []arrow.ArrayData{keys.Data(), items.Data()}, 0, 0)
	defer ents.Release()
	md := array.NewData(mt, 2, []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes([]int32{0, 2, 4}))}, []arrow.ArrayData{ents}, 0, 0)
	defer md.Release()
	m := array.MakeFromData(md)
	defer m.Release()
	idb := array.NewInt64Builder(mem)
	idb.AppendValues([]int64{0, 1}, nil)
	id := idb.NewArray()
	idb.Release()
	defer id.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "m", Type: mt, Nullable: true}}, nil), []arrow.Array{id, m}, 2)
	defer rec.Release()
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, m MAP<STRING, BIGINT>")
	if err != nil {
		t.Fatal(err)
	}
	stored, results := sendBoth(t, srv, "dupdictkey", cols, rec)
	want := []map[string]any{{"id": int64(0), "m": map[string]any{"a": int64(1), "b": int64(2)}}}
	for transport, res := range results {
		checkFailedRows(t, transport, res, map[int]string{1: `column "m[1].key": duplicate MAP key "a" (the same key as entry 0)`})
		if !reflect.DeepEqual(stored[transport], want) {
			t.Errorf("%s stored %#v, want %#v", transport, stored[transport], want)
		}
	}
}

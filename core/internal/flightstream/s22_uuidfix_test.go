package flightstream

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// s22uuidfixUTF8 is 16 bytes that are valid UTF-8: a cast of the bytes to
// large_utf8 stores them as they are instead of failing.
var s22uuidfixUTF8 = [16]byte{'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'}

const s22uuidfixUTF8Text = "30313233-3435-3637-3839-616263646566"

// s22uuidfixUUIDs returns a registered arrow.uuid array of vs (nil: a null).
func s22uuidfixUUIDs(mem memory.Allocator, vs ...*[16]byte) arrow.Array {
	b := extensions.NewUUIDBuilder(mem)
	defer b.Release()
	for _, v := range vs {
		if v == nil {
			b.AppendNull()
		} else {
			b.AppendBytes(*v)
		}
	}
	return b.NewArray()
}

// s22uuidfixBatch: a dictionary, a run-end encoded array and a STRUCT
// field of a dictionary, all of registered arrow.uuid and sliced from
// longer arrays (offset 1), with null indices and null values; want is each
// column's rows as text (nil: null).
func s22uuidfixBatch(t *testing.T, mem memory.Allocator) (arrow.RecordBatch, map[string]string) {
	t.Helper()
	u0, u1, u8 := &s22UUIDs[0], &s22UUIDs[1], &s22uuidfixUTF8
	t0, t1, t8 := &s22UUIDText[0], &s22UUIDText[1], new(string)
	*t8 = s22uuidfixUTF8Text

	vals := s22uuidfixUUIDs(mem, u0, u1, nil, u8)
	defer vals.Release()
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: vals.DataType()}
	// indices 1, [0, null, 1, 2 (a null value), 3]
	ib := array.NewInt32Builder(mem)
	defer ib.Release()
	ib.AppendValues([]int32{1, 0, 0, 1, 2, 3}, []bool{true, true, false, true, true, true})
	idx := ib.NewArray()
	defer idx.Release()
	dictFull := array.NewDictionaryArray(dt, idx, vals)
	defer dictFull.Release()
	dict := array.NewSlice(dictFull, 1, 6)
	defer dict.Release()

	// runs [u1 u1] [u0 u0] [null] [u8] [u1 u1], sliced to rows 1..5:
	// u1, u0, u0, null, u8
	runVals := s22uuidfixUUIDs(mem, u1, u0, nil, u8, u1)
	defer runVals.Release()
	eb := array.NewInt32Builder(mem)
	defer eb.Release()
	eb.AppendValues([]int32{2, 4, 5, 6, 8}, nil)
	ends := eb.NewArray()
	defer ends.Release()
	reeFull := array.NewRunEndEncodedArray(ends, runVals, 8, 0)
	defer reeFull.Release()
	ree := array.NewSlice(reeFull, 1, 6)
	defer ree.Release()

	// struct{x: dictionary<uuid>}: rows 1..5 of a struct over the whole
	// dictionary whose row 3 is null
	st := arrow.StructOf(arrow.Field{Name: "x", Type: dt, Nullable: true})
	valid := memory.NewResizableBuffer(mem)
	defer valid.Release()
	valid.Resize(1)
	valid.Bytes()[0] = 0b110111
	sdFull, err := array.NewStructArrayWithFieldsAndNulls([]arrow.Array{dictFull}, st.Fields(), valid, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer sdFull.Release()
	sd := array.NewSlice(sdFull, 1, 6)
	defer sd.Release()

	schema := arrow.NewSchema([]arrow.Field{
		{Name: "d", Type: dt, Nullable: true},
		{Name: "r", Type: ree.DataType(), Nullable: true},
		{Name: "sd", Type: st, Nullable: true},
	}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{dict, ree, sd}, 5)
	js := func(vs ...*string) string {
		b, err := json.Marshal(vs)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	return rec, map[string]string{
		"d":  js(t0, nil, t1, nil, t8),
		"r":  js(t1, t0, t0, nil, t8),
		"sd": `[{"x":"` + *t0 + `"},{"x":null},null,{"x":null},{"x":"` + *t8 + `"}]`,
	}
}

// s22uuidfixTable is the table s22uuidfixBatch goes into: STRINGs.
func s22uuidfixTable() *arrow.Schema {
	ls := arrow.BinaryTypes.LargeString
	return arrow.NewSchema([]arrow.Field{
		{Name: "d", Type: ls, Nullable: true},
		{Name: "r", Type: ls, Nullable: true},
		{Name: "sd", Type: arrow.StructOf(arrow.Field{Name: "x", Type: ls, Nullable: true}), Nullable: true},
	}, nil)
}

// protoRows encodes rec for table on the protobuf path and returns each
// column's rows as JSON, in the shape json.Marshal gives an Arrow column
// (a string or null; a STRUCT an object of its fields, or null).
func protoRows(t *testing.T, rec arrow.RecordBatch, table *arrow.Schema) map[string]string {
	t.Helper()
	p, err := convert.NewPlan(rec.Schema(), convert.Options{TableType: convert.TableTypes(table), TableNullable: convert.TableNullability(table)})
	if err != nil {
		t.Fatalf("protobuf plan: %v", err)
	}
	b, err := p.Encode(rec)
	if err != nil {
		t.Fatalf("protobuf encode: %v", err)
	}
	defer b.Release()
	if len(b.Errors) > 0 || len(b.Records) != int(rec.NumRows()) {
		t.Fatalf("protobuf encode: %d records, errors %v; want all %d rows", len(b.Records), b.Errors, rec.NumRows())
	}
	md := p.MessageDescriptor()
	var value func(m protoreflect.Message, f protoreflect.FieldDescriptor) any
	value = func(m protoreflect.Message, f protoreflect.FieldDescriptor) any {
		if !m.Has(f) {
			return nil
		}
		if f.Kind() == protoreflect.MessageKind {
			sub := m.Get(f).Message()
			o := map[string]any{}
			for i := range f.Message().Fields().Len() {
				sf := f.Message().Fields().Get(i)
				o[string(sf.Name())] = value(sub, sf)
			}
			return o
		}
		return m.Get(f).String()
	}
	cols := map[string][]any{}
	for _, r := range b.Records {
		m := dynamicpb.NewMessage(md)
		if err := proto.Unmarshal(r, m); err != nil {
			t.Fatalf("decoding record %x: %v", r, err)
		}
		for _, tf := range table.Fields() {
			f := md.Fields().ByName(protoreflect.Name(tf.Name))
			cols[tf.Name] = append(cols[tf.Name], value(m, f))
		}
	}
	out := map[string]string{}
	for name, vs := range cols {
		js, err := json.Marshal(vs)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(js)
	}
	return out
}

// s22 review s22diff finding 1: a dictionary or run-end encoded column of
// registered arrow.uuid (also a STRUCT field of one) into a STRING is
// sent as the UUIDs' text over arrow_flight, as the protobuf path writes
// them; before, their 16 bytes were cast to large_utf8 (stored as they
// were when valid UTF-8, else the whole batch failed).
func TestS22UUIDDictionaryAndRunEndIntoStringIsItsText(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec, want := s22uuidfixBatch(t, mem)
	defer rec.Release()
	table := s22uuidfixTable()
	c, err := PlanCast("t", rec.Schema(), table)
	if err != nil {
		t.Fatalf("PlanCast: %v", err)
	}
	out, nulls, _, err := c.ApplyWith(t.Context(), mem, rec)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	defer out.Release()
	if out.NumRows() != 5 || len(nulls) != 0 {
		t.Fatalf("%d rows, left out %v; want all 5", out.NumRows(), nulls)
	}
	if !out.Schema().Equal(table) {
		t.Fatalf("schema %v, want the table's %v", out.Schema(), table)
	}
	pb := protoRows(t, rec, table)
	for i, f := range table.Fields() {
		js, err := json.Marshal(out.Column(i))
		if err != nil {
			t.Fatal(err)
		}
		if string(js) != want[f.Name] {
			t.Errorf("column %s: %s\nwant %s", f.Name, js, want[f.Name])
		}
		if string(js) != pb[f.Name] {
			t.Errorf("column %s: arrow_flight %s\nprotobuf %s", f.Name, js, pb[f.Name])
		}
	}
}

// A dictionary of registered UUIDs into a DECIMAL is refused as a UUID
// column is, not planned as text the DECIMAL then fails row by row.
func TestS22UUIDDictionaryIntoDecimalRefused(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec, _ := s22uuidfixBatch(t, mem)
	defer rec.Release()
	dec := arrow.Field{Name: "d", Type: arrow.BinaryTypes.LargeString, Nullable: true, Metadata: convert.DecimalMeta(38, 0)}
	_, err := PlanCast("t", arrow.NewSchema([]arrow.Field{rec.Schema().Field(0)}, nil), arrow.NewSchema([]arrow.Field{dec}, nil))
	var me *MismatchError
	if !errors.As(err, &me) || len(me.Columns) != 1 {
		t.Fatalf("PlanCast: %v, want one mismatch", err)
	}
	if want := convert.DecimalRefusal(convert.DecimalSpec{Precision: 38, Scale: 0}); me.Columns[0].Reason != want {
		t.Errorf("reason %q, want %q", me.Columns[0].Reason, want)
	}
}

// s22 review s22diff finding 4: a mismatch names the extension types
// inside nested types too (not their storage alone), and a dictionary of
// 16-byte values (a pyarrow dictionary of UUIDs, its arrow.uuid name lost in
// the import) into a STRING gets advice pyarrow can follow (decode the
// dictionary), not a cast to large_utf8 it cannot do.
func TestS22NestedExtensionsNamedInMismatches(t *testing.T) {
	i64 := arrow.PrimitiveTypes.Int64
	ls := arrow.BinaryTypes.LargeString
	uuidElem := arrow.Field{Name: "item", Type: s22FSB16, Nullable: true, Metadata: s22UUIDMeta}
	dictReg := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: extensions.NewUUIDType()}
	dictFSB := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: s22FSB16}
	cases := []struct {
		from   arrow.DataType
		to     arrow.DataType
		caller string
		reason string // "" any
	}{
		{arrow.ListOfField(uuidElem), arrow.ListOf(i64),
			"list<item: arrow.uuid (fixed_size_binary[16]), nullable>", ""},
		{arrow.ListOf(extensions.NewUUIDType()), arrow.ListOf(i64),
			"list<item: arrow.uuid (fixed_size_binary[16]), nullable>", ""},
		{arrow.StructOf(arrow.Field{Name: "x", Type: s22FSB16, Nullable: true, Metadata: s22UUIDMeta}), arrow.StructOf(arrow.Field{Name: "x", Type: i64, Nullable: true}),
			"struct<x: arrow.uuid (fixed_size_binary[16])>", ""},
		{dictReg, i64,
			"dictionary<values=arrow.uuid (fixed_size_binary[16]), indices=int32, ordered=false>", convert.UUIDReason},
		{dictFSB, ls,
			"dictionary<values=fixed_size_binary[16], indices=int32, ordered=false>", EncodedUUIDReason},
		{arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, s22FSB16), ls,
			"run_end_encoded<run_ends: int32, values: fixed_size_binary[16]>", EncodedUUIDReason},
	}
	for _, tc := range cases {
		_, err := PlanCast("t", arrow.NewSchema([]arrow.Field{{Name: "v", Type: tc.from, Nullable: true}}, nil),
			arrow.NewSchema([]arrow.Field{{Name: "v", Type: tc.to, Nullable: true}}, nil))
		var me *MismatchError
		if !errors.As(err, &me) || len(me.Columns) != 1 {
			t.Fatalf("%s into %s: %v, want one mismatch", tc.from, tc.to, err)
		}
		got := me.Columns[0]
		if got.CallerType != tc.caller {
			t.Errorf("%s into %s: caller type %q, want %q", tc.from, tc.to, got.CallerType, tc.caller)
		}
		if tc.reason != "" && got.Reason != tc.reason {
			t.Errorf("%s into %s: reason %q, want %q", tc.from, tc.to, got.Reason, tc.reason)
		}
		if strings.Contains(got.Reason, "cast the batch's column to large_utf8") {
			t.Errorf("%s into %s: advises a cast pyarrow cannot do: %q", tc.from, tc.to, got.Reason)
		}
	}
}
